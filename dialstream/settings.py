"""The one settings object, read from the environment (``DIALSTREAM_*``) and CLI flags.

A ``Settings`` is checked whole when it is made, before anything is written: a value that
cannot work raises :class:`SettingsError`, which names the variable (or the flag) it came
from, so the CLI can say so in one line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dialstream.secrets import key_problem
from domain.account import MIN_API_KEY_LENGTH

# Where each field is read from; a field given as a flag is named by its flag (--data-dir).
VARIABLES = {
    "data_dir": "DIALSTREAM_DATA_DIR",
    "host": "DIALSTREAM_HOST",
    "port": "DIALSTREAM_PORT",
    "database_url": "DIALSTREAM_DATABASE_URL",
    "views_url": "DIALSTREAM_VIEWS_URL",
    "bus": "DIALSTREAM_BUS",
    "topic_prefix": "DIALSTREAM_TOPIC_PREFIX",
    "bootstrap_key": "DIALSTREAM_BOOTSTRAP_KEY",
    "suppression_index": "DIALSTREAM_SUPPRESSION_INDEX",
    "telephony": "DIALSTREAM_TELEPHONY",
    "smtp": "DIALSTREAM_SMTP",
    "sms_provider": "DIALSTREAM_SMS_PROVIDER",
    "public_url": "DIALSTREAM_PUBLIC_URL",
    "link_secret": "DIALSTREAM_LINK_SECRET",
    "secret_key": "DIALSTREAM_SECRET_KEY",
}
DATABASE_FORMS = "use sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DB"


class SettingsError(ValueError):
    """A setting that cannot work; ``source`` is the variable or flag it came from."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


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
    # The dialer's telephony: "simulator", "simulator:SEED" or "simulator:SEED:xSPEED" (the
    # built-in telephony simulator in wall-clock time, SPEED times faster than life, with the
    # simulated agents' wrap-ups); the only adapter so far.
    telephony: str = "simulator"
    # Message channels (processors/channels/config.py): the SMTP server e-mail campaigns send
    # through, smtp://USER:PASSWORD@HOST[:PORT] (none: e-mail campaigns wait); the SMS
    # provider's API, https://ACCOUNT_SID:AUTH_TOKEN@HOST/API_ROOT (none: SMS campaigns wait).
    smtp: str = field(default="", repr=False)
    sms_provider: str = field(default="", repr=False)
    # The URL the world reaches this system's API at: SMS delivery reports and replies are
    # posted to it, e-mails carry unsubscribe links to it (none: neither).
    public_url: str = ""
    # Signs the unsubscribe links (16 bytes or more; every process of a deployment the same).
    # None: a random one kept in data_dir/link-secret.
    link_secret: str | None = field(default=None, repr=False)
    # Seals the secrets events keep (SFTP passwords, private keys): a Fernet key, the same in
    # every process of a deployment. Empty: one made on first use and kept in
    # data_dir/secret.key (dialstream/secrets.py).
    secret_key: str = field(default="", repr=False)
    # Field name -> the variable or flag its value came from, for error messages.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

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
        self._validate()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings of ``env`` (default: the process environment); ``overrides`` are
        the CLI flags given (None: not given), named ``--field-name`` in errors."""
        env = os.environ if env is None else env
        raw: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name, variable in VARIABLES.items():
            if overrides.get(name) is not None:
                raw[name] = overrides[name]
                sources[name] = "--" + name.replace("_", "-")
            elif env.get(variable):
                raw[name] = env[variable]
                sources[name] = variable
        values: dict[str, Any] = {
            "data_dir": Path(raw.get("data_dir", "var")),
            "port": _port(raw.get("port", 8080), sources.get("port", VARIABLES["port"])),
        }
        values.update({name: value for name, value in raw.items() if name not in values})
        return cls(**values, sources=sources)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def source(self, name: str) -> str:
        """The variable or flag the field ``name`` came from."""
        return self.sources.get(name) or VARIABLES[name]

    def _validate(self) -> None:
        def fail(name: str, problem: str) -> SettingsError:
            return SettingsError(self.source(name), problem)

        if self.bootstrap_key is not None and len(self.bootstrap_key) < MIN_API_KEY_LENGTH:
            raise fail(
                "bootstrap_key",
                f"an API key is at least {MIN_API_KEY_LENGTH} characters; "
                f"this one has {len(self.bootstrap_key)}",
            )
        _port(self.port, self.source("port"))
        if self.secret_key and (problem := key_problem(self.secret_key)):
            raise fail("secret_key", problem)
        problem = _data_dir_problem(self.data_dir)
        if problem:
            raise fail("data_dir", problem)
        for name in ("database_url", "views_url"):
            problem = _database_problem(getattr(self, name), self.data_dir)
            if problem:
                raise fail(name, problem)
        problem = _bus_problem(self.bus)
        if problem:
            raise fail("bus", problem)
        problem = _suppression_index_problem(self.suppression_index)
        if problem:
            raise fail("suppression_index", problem)
        try:
            simulator_options(self.telephony)
        except ValueError as error:
            raise fail("telephony", str(error)) from None


def simulator_options(telephony: str) -> tuple[int | None, float]:
    """The seed (None: a random one) and speed of ``simulator[:SEED[:xSPEED]]``."""
    kind, *options = telephony.split(":")
    usage = f"{telephony!r}: use simulator, simulator:SEED or simulator:SEED:xSPEED (SEED an integer, SPEED > 0)"
    if kind != "simulator" or len(options) > 2:
        raise ValueError(usage)
    seed = options[0] if options else ""
    speed = options[1] if len(options) > 1 else "x1"
    try:
        value = float(speed.removeprefix("x"))
    except ValueError:
        raise ValueError(usage) from None
    if (seed and not seed.isdigit()) or not speed.startswith("x") or not 0 < value <= 1000:
        raise ValueError(usage)
    return (int(seed) if seed else None), value


def _port(value: int | str, source: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise SettingsError(source, f"{value!r} is not a port number (1-65535)") from None
    if not 0 < port < 65536:
        raise SettingsError(source, f"{port} is not a port number (1-65535)")
    return port


def _data_dir_problem(data_dir: Path) -> str | None:
    """Why ``data_dir`` cannot be created or written to, without creating anything."""
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        verb = "use" if existing == data_dir else "create"
        return f"cannot {verb} {data_dir} as the data directory: {existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write to {existing}: permission denied"
    return None


def _database_problem(url: str, data_dir: Path) -> str | None:
    scheme, sep, _ = url.partition("://")
    if not sep:
        return f"not a URL; {DATABASE_FORMS}"
    if scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            return f"a SQLite URL has three slashes (sqlite:///FILE); {DATABASE_FORMS}"
        path = Path(url.removeprefix("sqlite:///"))
        directory = path.parent.resolve() if path.name else None
        # build() creates the data directory; any other directory must be there already.
        if directory is not None and directory != data_dir and not directory.is_dir():
            return f"the directory of the SQLite file, {directory}, does not exist"
        return None
    if scheme in ("postgresql", "postgres"):
        parsed = urlparse(url)
        try:
            parsed.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            return "the port in the URL is not a number (1-65535)"
        if not parsed.hostname:
            return "no host in the URL; use postgresql://USER:PASSWORD@HOST:PORT/DB"
        return None
    return f"{scheme!r} databases are not supported; {DATABASE_FORMS}"


def _host_port_problem(address: str) -> str | None:
    host, sep, port = address.rpartition(":")
    if not sep or not host:
        return f"{address!r} is not HOST:PORT"
    if not port.isdigit() or not 0 < int(port) < 65536:
        return f"{address!r}: the port is not a number (1-65535)"
    return None


def _bus_problem(bus: str) -> str | None:
    if bus == "embedded":
        return None
    usage = "use embedded or kafka://HOST:PORT[,HOST:PORT]"
    scheme, sep, rest = bus.partition("://")
    if scheme != "kafka" or not sep:
        return f"{bus!r} is not a bus; {usage}"
    addresses = rest.rstrip("/")
    if not addresses:
        return f"no broker address in {bus!r}; {usage}"
    for address in addresses.split(","):
        problem = _host_port_problem(address)
        if problem:
            return f"{problem}; {usage}"
    return None


def _suppression_index_problem(where: str) -> str | None:
    if where == "embedded":
        return None
    usage = "use embedded or redis://HOST:PORT/DB"
    parsed = urlparse(where)
    if parsed.scheme == "unix":
        return None if parsed.path else f"no socket path in the unix:// URL; {usage}"
    if parsed.scheme not in ("redis", "rediss"):
        shown = f"{parsed.scheme!r} URLs are" if parsed.scheme else "it is not a URL and"
        return f"{shown} not supported; {usage}"
    try:
        parsed.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return f"the port in the URL is not a number (1-65535); {usage}"
    if not parsed.hostname:
        return f"no host in the URL; {usage}"
    db = parsed.path.strip("/")
    if db and not db.isdigit():
        return f"the database {db!r} is not a number; {usage}"
    return None

