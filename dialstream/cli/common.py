"""What the commands that open the data directory themselves share (``up``, ``worker``,
``relay``, ``topics``, ``replay``, ``events tail``, ``accounts``, ``api-keys``): the settings
from their flags and the environment, the one-line error they end with, and the check that
an event store is there before it is read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dialstream.settings import Settings
from dialstream.store.sqlite_wal import sqlite_path


class CommandError(Exception):
    """A command that cannot run: its message is printed as one line, exit status 2."""


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of the environment, with the command's flags over them."""
    return Settings.from_env(
        data_dir=Path(args.data_dir) if args.data_dir else None,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        database_url=args.database_url,
        bus=args.bus,
    )


def require_existing_store(settings: Settings) -> None:
    """Refuse to read a SQLite event store that is not there, rather than create an empty one."""
    if not settings.database_url.startswith("sqlite:"):
        return
    path = Path(sqlite_path(settings.database_url))
    if path.name != ":memory:" and not path.exists():
        raise CommandError(
            f"no event store in {path.parent} ({path.name} does not exist; `dialstream up` creates "
            f"one, or point --data-dir or DIALSTREAM_DATA_DIR at an existing data directory)"
        )
