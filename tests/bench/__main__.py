"""Run the benchmarks: ``python -m tests.bench [--only GROUP]`` (or ``make bench ONLY=GROUP``).

Each group prints one line per figure, ``name value unit``, on standard output; progress
and context go to standard error. Groups start the real services they measure.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Callable, Iterable

from tests.bench.figures import Figure, Options

# group name -> module with ``run(options) -> Iterable[Figure]``
GROUPS: dict[str, str] = {
    "store": "tests.bench.bench_store",
    "kafka": "tests.bench.bench_kafka",
    "import": "tests.bench.bench_import",
    "compliance": "tests.bench.bench_compliance",
    "pacing": "tests.bench.bench_pacing",
    "dialer": "tests.bench.bench_dialer",
    "queue": "tests.bench.bench_queue",
    "results": "tests.bench.bench_results",
    "day": "tests.bench.bench_day",
    "email": "tests.bench.bench_email",
    "automation": "tests.bench.bench_automation",
    "dashboard": "tests.bench.bench_dashboard",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument(
        "--only", choices=sorted(GROUPS), action="append", help="run only this group (repeatable)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="repetitions; the best round counts (default 3)"
    )
    parser.add_argument(
        "--events", type=int, default=None, help="override the group's event count (for a quick look only)"
    )
    args = parser.parse_args(argv)
    options = Options(rounds=args.rounds, events=args.events)
    print(
        f"# {platform.node()} {platform.machine()} {platform.processor() or ''} "
        f"python {platform.python_version()}",
        file=sys.stderr,
    )
    for group in args.only or list(GROUPS):
        run: Callable[[Options], Iterable[Figure]] = importlib.import_module(GROUPS[group]).run
        for figure in run(options):
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
