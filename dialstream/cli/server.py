"""The server commands: ``up`` (everything in one process: gateway, read models, processors),
and on Kafka ``topics create``, ``relay`` and ``worker NAME`` (one projection or service per
process). They run until SIGINT or SIGTERM and stop their runtime on the way out.
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import socket
import sys
import threading
from typing import Any
from uuid import UUID

from dialstream.bootstrap import (
    SERVICES,
    Runtime,
    all_projections,
    build,
    ensure_bootstrap_key,
    locked_out,
)
from dialstream.cli.common import CommandError, settings_of
from dialstream.gc_tuning import tune_for_throughput
from dialstream.settings import Settings

# A stop slower than this prints every thread's stack (the worker's Kafka leave waits 10 s).
STOP_REPORT_AFTER_S = 20.0


def _exit_quietly(*_: object) -> None:
    raise SystemExit(0)


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
    from gateway.streaming import Server

    settings = settings_of(args)
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
            Server(config).run(sockets=[sock])  # uvicorn's, ending open event streams as it stops
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


def _kafka_settings(args: argparse.Namespace) -> Settings:
    settings = settings_of(args)
    from processors.bus.kafka_cluster import KafkaConfig

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

    from processors.bus.kafka_cluster import KafkaConfig, create_topics, partition_counts
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
        print(f"dialstream {what}: stopping", flush=True)
        # A stop that hangs must say where: every thread's stack goes to stderr if it drags.
        faulthandler.dump_traceback_later(STOP_REPORT_AFTER_S, exit=False)
        runtime.stop()
        faulthandler.cancel_dump_traceback_later()
    print(f"dialstream {what}: stopped", flush=True)
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    runtime = build(_kafka_settings(args), relay=True, workers=[])
    if args.from_position is not None:
        from processors.bus.relay import RelayProgress

        progress = RelayProgress(runtime.views)
        progress.record(args.from_position, {})
    return _serve_until_signalled(runtime, "relay")


def cmd_worker(args: argparse.Namespace) -> int:
    runtime = build(_kafka_settings(args), relay=False, workers=[args.name])
    return _serve_until_signalled(runtime, f"worker {args.name}")


def add_up_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``up``."""
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


def add_kafka_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """``topics create``, ``relay`` and ``worker NAME``."""
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
