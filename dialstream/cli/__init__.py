"""The ``dialstream`` command: its parser and ``main`` (the console script, and
``python -m dialstream.cli``).

The commands live by concern: :mod:`.server` (``up``, ``topics``, ``relay``, ``worker``),
:mod:`.log` (``replay``, ``events tail``, ``schemas export``), :mod:`.accounts` (``accounts``,
``api-keys``), and the client commands that talk to a running Dialstream over HTTP,
:mod:`.lists` (``lists import``, ``suppression import``) and :mod:`.records`
(``records dialability``), with what they share in :mod:`.client`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from dialstream.cli import accounts, automation, demo, lists, log, records, server
from dialstream.cli.common import CommandError
from dialstream.settings import SettingsError

DESCRIPTION = """\
Dialstream: an event-sourced outbound campaign manager for contact centres.
Every change is an event in the event store; read models, processors and the
API follow its log. Settings come from DIALSTREAM_* environment variables
(DIALSTREAM_DATA_DIR, DIALSTREAM_HOST, DIALSTREAM_PORT, DIALSTREAM_DATABASE_URL,
DIALSTREAM_VIEWS_URL, DIALSTREAM_BUS, DIALSTREAM_TOPIC_PREFIX, DIALSTREAM_BOOTSTRAP_KEY,
DIALSTREAM_SUPPRESSION_INDEX) or the flags below. A setting that cannot work is named in
one line on stderr, with exit status 2, before anything is written.
"""
# These run for long and their INFO logs are their activity record; every other command
# answers a person (or a script), and library logs would only scroll through its output.
SERVER_COMMANDS = frozenset({"up", "worker", "relay", "replay", "topics"})


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="dialstream",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="where the embedded store keeps its files (default var/)")
    common.add_argument(
        "--database-url", help="event store: sqlite:///FILE or postgresql://USER:PW@HOST:PORT/DB"
    )
    common.add_argument("--bus", help="embedded (default) or kafka://HOST:PORT (or DIALSTREAM_BUS)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In this order in `dialstream --help`.
    server.add_up_parser(sub, common)
    log.add_parsers(sub, common)
    server.add_kafka_parsers(sub, common)
    accounts.add_parsers(sub, common)
    lists.add_parser(sub, common)
    records.add_parser(sub, common)
    automation.add_parser(sub, common)
    demo.add_parser(sub, common)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = logging.INFO if args.command in SERVER_COMMANDS else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for library in ("httpx", "httpcore"):
        logging.getLogger(library).setLevel(logging.WARNING)
    try:
        return int(args.run(args))
    except (SettingsError, CommandError) as error:
        print(f"dialstream: {error}", file=sys.stderr)
        return 2
