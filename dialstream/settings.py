"""The one settings object, read from the environment (``DIALSTREAM_*``) and CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    # Event store: sqlite:///<file> (default, under data_dir) or postgresql://user:pw@host:port/db
    database_url: str = ""
    # Read models; by default beside the event store (a second SQLite file, or the same PostgreSQL).
    views_url: str = ""
    # "embedded" (in process, over the store's log) or kafka://host:port[,host:port]
    bus: str = "embedded"
    # Prepended to every Kafka topic and consumer group: deployments sharing one cluster.
    topic_prefix: str = ""
    bootstrap_key: str | None = None
    # Where pre-dial validation looks suppression entries up: "embedded" (in this process,
    # rebuilt from the log at start) or redis://host:port/db (shared by every process).
    suppression_index: str = "embedded"

    def __post_init__(self) -> None:
        data_dir = self.data_dir.resolve()
        object.__setattr__(self, "data_dir", data_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data_dir / 'events.sqlite'}")
        if not self.views_url:
            views = (
                f"sqlite:///{data_dir / 'views.sqlite'}"
                if self.database_url.startswith("sqlite:")
                else self.database_url
            )
            object.__setattr__(self, "views_url", views)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "data_dir": Path(env.get("DIALSTREAM_DATA_DIR", "var")),
            "host": env.get("DIALSTREAM_HOST", "127.0.0.1"),
            "port": int(env.get("DIALSTREAM_PORT", "8080")),
            "database_url": env.get("DIALSTREAM_DATABASE_URL", ""),
            "views_url": env.get("DIALSTREAM_VIEWS_URL", ""),
            "bus": env.get("DIALSTREAM_BUS", "embedded"),
            "topic_prefix": env.get("DIALSTREAM_TOPIC_PREFIX", ""),
            "bootstrap_key": env.get("DIALSTREAM_BOOTSTRAP_KEY") or None,
            "suppression_index": env.get("DIALSTREAM_SUPPRESSION_INDEX", "embedded"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)
