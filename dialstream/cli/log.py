"""The commands that read the event log: ``replay`` (rebuild a read model from it),
``events tail`` (print it) and ``schemas export`` (the public contract of its events).

``replay`` and ``events tail`` open the data directory's event store themselves (no server
needed); ``schemas export`` reads nothing but the schema registry.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from dialstream.bootstrap import SUPPRESSION_INDEX, Runtime, all_projections, build
from dialstream.cli.common import require_existing_store, settings_of


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
    settings = settings_of(args)
    require_existing_store(settings)
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

    from processors.suppression.projection import catch_up

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

    settings = settings_of(args)
    require_existing_store(settings)
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


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """``replay``, ``schemas export`` and ``events tail``."""
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
