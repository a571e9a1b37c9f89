"""The ``dialstream`` command."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import get_args
from uuid import UUID

from dialstream import cli_lists, cli_records
from dialstream.bootstrap import (
    SERVICES,
    SUPPRESSION_INDEX,
    Runtime,
    account_for_new_key,
    all_projections,
    build,
    ensure_bootstrap_key,
    locked_out,
)
from dialstream.gc_tuning import tune_for_throughput
from dialstream.settings import Settings, SettingsError
from dialstream.store.sqlite_wal import sqlite_path
from domain.errors import NotFound
from schemas.settings import Role

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


class CommandError(Exception):
    """A command that cannot run: its message is printed as one line, exit status 2."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data_dir=Path(args.data_dir) if args.data_dir else None,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        database_url=args.database_url,
        bus=args.bus,
    )


def _exit_quietly(*_: object) -> None:
    raise SystemExit(0)


def _existing_store(settings: Settings) -> None:
    """Refuse to read a SQLite event store that is not there, rather than create an empty one."""
    if not settings.database_url.startswith("sqlite:"):
        return
    path = Path(sqlite_path(settings.database_url))
    if path.name != ":memory:" and not path.exists():
        raise CommandError(
            f"no event store in {path.parent} ({path.name} does not exist; `dialstream up` creates "
            f"one, or point --data-dir or DIALSTREAM_DATA_DIR at an existing data directory)"
        )


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything is announced or written."""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise CommandError(f"cannot listen on {where} — {_reason(error)}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restarts reuse the port
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise CommandError(f"cannot listen on {where} — {_reason(error)}") from None
    return sock


def _reason(error: OSError) -> str:
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]


def cmd_up(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app

    settings = _settings(args)
    sock = _listening_socket(settings.host, settings.port)
    try:
        runtime = build(settings, relay=not args.gateway_only, workers=[] if args.gateway_only else None)
        try:
            runtime.start()
            account_id, secret = ensure_bootstrap_key(runtime)
            _announce(settings, account_id, secret, locked_out(runtime, account_id))
            # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to the handler
            # that was installed before it; make that an orderly exit so the runtime is stopped.
            signal.signal(signal.SIGTERM, _exit_quietly)
            config = uvicorn.Config(create_app(runtime), host=settings.host, port=settings.port, log_level="info")
            tune_for_throughput()
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            runtime.stop()
    finally:
        sock.close()
    return 0


def _announce(settings: Settings, account_id: UUID, secret: str | None, no_admin_key: bool) -> None:
    base = f"http://{settings.host}:{settings.port}"
    if secret is not None:
        print(f"Bootstrap admin API key for account {account_id} (shown once, keep it safe):")
        print(f"  {secret}")
        print(f"  curl -H 'Authorization: Bearer {secret}' {base}/api/v1/settings")
    elif no_admin_key:
        print(
            f"dialstream: account {account_id} has no usable admin API key; issue one with "
            f"`dialstream api-keys issue --role admin --account {account_id}` "
            f"(same data directory and settings; this server may keep running)",
            file=sys.stderr,
        )
    print(f"Dialstream on {base}/  (API docs at /docs, data in {settings.data_dir}; Ctrl-C to stop)")
    sys.stdout.flush()


def replay(runtime: Runtime, name: str, *, resume: bool = False, progress: bool = True) -> int:
    """Rebuild one projection from the log; return the position it reached."""
    from tqdm import tqdm

    store = runtime.projections
    if not resume:
        store.reset(name)
    position = store.position(name)
    head = runtime.store.position()
    with tqdm(total=head, initial=position, unit="event", desc=f"replay {name}", disable=not progress) as bar:
        while position < head:
            batch = runtime.store.read(after=position, limit=1000, upto=head)
            if not batch:
                break
            position = store.apply(name, batch)
            bar.update(batch[-1][0] - bar.n)
    return position


def cmd_replay(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _existing_store(settings)
    runtime = build(settings)
    try:
        everything = [*runtime.projections.projections, SUPPRESSION_INDEX]
        names = everything if args.name == "all" else [args.name]
        for name in names:
            if name == SUPPRESSION_INDEX and runtime.settings.suppression_index == "embedded":
                print(f"{name}: embedded, rebuilt from the log by every start of `dialstream up`")
                continue
            if name == SUPPRESSION_INDEX:
                position = replay_suppression_index(runtime, resume=args.resume, progress=not args.quiet)
            else:
                position = replay(runtime, name, resume=args.resume, progress=not args.quiet)
            print(f"{name}: rebuilt to log position {position}")
    finally:
        runtime.stop()
    return 0


def replay_suppression_index(runtime: Runtime, *, resume: bool = False, progress: bool = True) -> int:
    """Rebuild the suppression index (Redis, or the embedded one of this process) from the log."""
    from tqdm import tqdm

    from processors.suppression_projection import catch_up

    head = runtime.store.position()
    desc = f"replay {SUPPRESSION_INDEX}"
    with tqdm(total=head, unit="event", desc=desc, disable=not progress) as bar:
        return catch_up(
            runtime.store,
            runtime.suppression_index,
            rebuild=not resume,
            on_progress=lambda position, _: bar.update(position - bar.n),
        )


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from schemas.registry import export_json_schemas

    written = export_json_schemas(Path(args.directory))
    print(f"wrote {len(written)} JSON Schemas to {args.directory}")
    return 0


def cmd_events_tail(args: argparse.Namespace) -> int:
    from schemas import registry

    settings = _settings(args)
    _existing_store(settings)
    runtime = build(settings)
    store = runtime.store
    position = args.from_position if args.from_position is not None else max(store.position() - args.last, 0)
    try:
        while True:
            batch = store.read(after=position, limit=500)
            for event_position, event in batch:
                print(
                    f"{event_position}\t{event.timestamp.isoformat()}\t{event.tag()}\t"
                    f"{event.originator_id}\tv{event.originator_version}\t"
                    f"{registry.encode(event).decode()}",
                    flush=True,
                )
                position = event_position
            if not batch:
                if not args.follow:
                    return 0
                time.sleep(0.2)
    except KeyboardInterrupt:
        return 0
    finally:
        runtime.stop()


def _kafka_settings(args: argparse.Namespace) -> Settings:
    settings = _settings(args)
    from processors.kafka import KafkaConfig

    try:
        KafkaConfig.from_bus(settings.bus)
    except ValueError:
        raise SystemExit(
            f"dialstream {args.command}: needs the Kafka bus; set DIALSTREAM_BUS=kafka://host:port "
            f"or pass --bus (it is {settings.bus!r})"
        ) from None
    return settings


def cmd_topics_create(args: argparse.Namespace) -> int:
    import asyncio

    from processors.kafka import KafkaConfig, create_topics, partition_counts
    from schemas.topics import CATALOGUE

    settings = _kafka_settings(args)
    # Also create the store's and read models' tables, once, before the gateway, relay and
    # workers start together: PostgreSQL's CREATE TABLE IF NOT EXISTS races between processes.
    build(settings, relay=False, workers=[]).stop()
    config = KafkaConfig.from_bus(settings.bus, settings.topic_prefix)
    created = set(asyncio.run(create_topics(config)))
    on_cluster = asyncio.run(partition_counts(config, [spec.name for spec in CATALOGUE]))
    for spec in CATALOGUE:
        state = "created" if config.topic(spec.name) in created else "exists"
        if on_cluster[spec.name] != spec.partitions:
            state += f" with {on_cluster[spec.name]} partitions on the cluster"
        retention = "forever" if spec.retention_ms < 0 else f"{spec.retention_ms // 86_400_000} days"
        print(
            f"{config.topic(spec.name)}\t{spec.partitions} partitions\tretention {retention}\t"
            f"key: {spec.key}\t{state}"
        )
    return 0


def _serve_until_signalled(runtime: Runtime, what: str) -> int:
    """Run the runtime's bus until SIGINT or SIGTERM; non-zero if it failed on its own."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runtime.start()
    tune_for_throughput()
    print(f"dialstream {what}: running on {runtime.settings.bus} (Ctrl-C to stop)", flush=True)
    bus = runtime.bus
    try:
        while not stop.wait(0.5):
            if bus.error is not None:
                print(f"dialstream {what}: stopped: {bus.error}", file=sys.stderr)
                return 1
    finally:
        runtime.stop()
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    runtime = build(_kafka_settings(args), relay=True, workers=[])
    if args.from_position is not None:
        from processors.relay import RelayProgress

        progress = RelayProgress(runtime.views)
        progress.record(args.from_position, {})
    return _serve_until_signalled(runtime, "relay")


def cmd_worker(args: argparse.Namespace) -> int:
    runtime = build(_kafka_settings(args), relay=False, workers=[args.name])
    return _serve_until_signalled(runtime, f"worker {args.name}")


def cmd_accounts_create(args: argparse.Namespace) -> int:
    runtime = build(_settings(args))
    try:
        account_id = runtime.handlers.open_account(args.name).id
        issued = runtime.handlers.issue_api_key(account_id, "first admin", "admin")
        print(f"account {account_id} ({args.name})")
        print(f"admin API key (shown once): {issued.secret}")
    finally:
        runtime.stop()
    return 0


def cmd_api_keys_issue(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _existing_store(settings)
    runtime = build(settings, relay=False, workers=[])
    try:
        account_id = _account_id(args.account) if args.account else account_for_new_key(runtime.store)
        issued = runtime.handlers.issue_api_key(account_id, args.name or f"{args.role} (command line)", args.role)
    except LookupError as error:
        raise CommandError(str(error)) from None
    except NotFound:
        raise CommandError(f"no account {args.account} in this event store") from None
    finally:
        runtime.stop()
    print(f"account {account_id}")
    print(f"{args.role} API key (shown once): {issued.secret}")
    return 0


def _account_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise CommandError(f"--account {text!r} is not an account id (a UUID)") from None


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

    up = sub.add_parser(
        "up",
        parents=[common],
        help="run everything in one process: API, web page, read models",
        description="Run the gateway (API and web dashboard), the read models and the "
        "processors in one process: over the embedded bus by default, or on Kafka "
        "(DIALSTREAM_BUS=kafka://HOST:PORT) with the relay and every projection worker "
        "inside this process unless --gateway-only. On first start it opens a default "
        "account and prints its bootstrap admin API key.",
    )
    up.add_argument("--host", help="address to listen on (default 127.0.0.1, or DIALSTREAM_HOST)")
    up.add_argument("--port", help="port to listen on (default 8080, or DIALSTREAM_PORT)")
    up.add_argument(
        "--gateway-only",
        action="store_true",
        help="on Kafka: serve the API only; the relay and workers run as their own processes",
    )
    up.set_defaults(run=cmd_up)

    rp = sub.add_parser(
        "replay",
        parents=[common],
        help="rebuild a read model from the event log",
        description="Empty a read model and rebuild it from the whole event log, "
        "with a progress bar. Positions commit with each batch, so --resume continues "
        "an interrupted replay.",
    )
    rp.add_argument("name", choices=[*(p.name for p in all_projections()), SUPPRESSION_INDEX, "all"])
    rp.add_argument("--resume", action="store_true", help="continue from where the read model is")
    rp.add_argument("--quiet", action="store_true", help="no progress bar")
    rp.set_defaults(run=cmd_replay)

    schemas = sub.add_parser(
        "schemas",
        help="the published event schemas",
        description="Work with the public event contract.",
    )
    schemas_sub = schemas.add_subparsers(dest="schemas_command", required=True, metavar="ACTION")
    export = schemas_sub.add_parser(
        "export",
        help="write one JSON Schema per event type and version",
        description="Write one JSON Schema document, <tag>.v<version>.json, for every event "
        "type and version into DIRECTORY: the contract for downstream subscribers.",
    )
    export.add_argument("directory", help="where to write the schemas (created if missing)")
    export.set_defaults(run=cmd_schemas_export)

    events = sub.add_parser(
        "events",
        help="read the event log",
        description="Read the event store's log, the single order of every change.",
    )
    events_sub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    tail = events_sub.add_parser(
        "tail",
        parents=[common],
        help="print events as they are stored",
        description="Print the last events (position, time, type, aggregate, "
        "version, JSON) and keep following the log until Ctrl-C.",
    )
    tail.add_argument("--last", type=int, default=10, help="how many past events to show first (default 10)")
    tail.add_argument("--from-position", type=int, help="start after this log position instead")
    tail.add_argument("--no-follow", dest="follow", action="store_false", help="stop at the end of the log")
    tail.set_defaults(run=cmd_events_tail)

    topics = sub.add_parser(
        "topics",
        help="the Kafka topics of the event contract",
        description="Work with the Kafka topics listed in schemas/topics.py.",
    )
    topics_sub = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    topics_create = topics_sub.add_parser(
        "create",
        parents=[common],
        help="create the missing topics (idempotent)",
        description="Create every topic of the catalogue that the cluster lacks, with its "
        "partitions and retention, and list them all; also create the event store's and "
        "read models' tables, so that processes starting together find them. Safe to run again.",
    )
    topics_create.set_defaults(run=cmd_topics_create)

    relay = sub.add_parser(
        "relay",
        parents=[common],
        help="publish every stored event to Kafka, in log order",
        description="Follow the event store's log and publish each event to its Kafka topic "
        "(key: aggregate id) with an idempotent producer (acks=all). The position is recorded "
        "after Kafka acknowledges; after a crash the relay resumes from there without "
        "publishing twice. Stops cleanly on SIGINT or SIGTERM.",
    )
    relay.add_argument(
        "--from-position",
        type=int,
        help="republish from after this log position (events already on a partition are skipped)",
    )
    relay.set_defaults(run=cmd_relay)

    worker = sub.add_parser(
        "worker",
        parents=[common],
        help="run one projection as a Kafka consumer, or the import runner",
        description="Run one projection as a member of its Kafka consumer group "
        "(dialstream.NAME). Start it twice and the two share the partitions; if one dies "
        "the other takes them over. `worker imports` runs the import runner, which takes "
        "requested import jobs (and jobs whose runner stopped for a minute). "
        "Stops cleanly on SIGINT or SIGTERM.",
    )
    worker.add_argument("name", choices=[*(p.name for p in all_projections()), *SERVICES])
    worker.set_defaults(run=cmd_worker)

    accounts = sub.add_parser(
        "accounts",
        help="manage accounts (tenants)",
        description="Accounts are tenants; API keys are scoped to one.",
    )
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    create = accounts_sub.add_parser(
        "create", parents=[common], help="open an account and print its admin key"
    )
    create.add_argument("name")
    create.set_defaults(run=cmd_accounts_create)

    api_keys = sub.add_parser(
        "api-keys",
        help="manage API keys",
        description="API keys authenticate clients of the API; each belongs to one account.",
    )
    api_keys_sub = api_keys.add_subparsers(dest="api_keys_command", required=True, metavar="ACTION")
    issue = api_keys_sub.add_parser(
        "issue",
        parents=[common],
        help="issue an API key straight into the data directory and print it once",
        description="Issue a new API key in the event store of the data directory (the way back "
        "in when an account has no usable admin key) and print its secret once. Works "
        "whether or not `dialstream up` is running. Without --account: the default account, "
        "or the only account there is.",
    )
    issue.add_argument("--role", required=True, choices=get_args(Role), help="what the key may do")
    issue.add_argument("--account", metavar="ID", help="the account's id (default: see above)")
    issue.add_argument("--name", help="a name to recognise the key by in the key list")
    issue.set_defaults(run=cmd_api_keys_issue)
    cli_lists.add_parser(sub, common)
    cli_records.add_parser(sub, common)
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


if __name__ == "__main__":
    sys.exit(main())
