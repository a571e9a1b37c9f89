"""``dialstream automation ...``: list automation jobs from the command line, the twins of
``/api/v1/list-automations``. Each asks a running Dialstream over HTTP (``--url`` or
DIALSTREAM_URL, the API key from ``--api-key`` or DIALSTREAM_API_KEY):

- ``list``; ``show JOB``; ``create FILE`` and ``edit JOB FILE`` (FILE: the job as JSON, ``-`` for
  standard input; the API's body); ``delete JOB``; ``disable JOB``; ``enable JOB``;
- ``run JOB`` (run now); ``trust JOB [--fingerprint SHA256:...]`` (pin the server's host key);
- ``next-runs JOB [--count N]`` (in the schedule's zone and UTC); ``activity JOB``.

Output is the API's JSON; exit status 0 on success, 2 on errors with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dialstream.cli.client import (
    CommandFailed,
    add_server_arguments,
    client_command,
    connect,
    json_of,
    refusal,
)

PREFIX = "/api/v1/list-automations"


def _body(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError as error:
        raise CommandFailed(f"{source}: not JSON: {error}") from None


@client_command
def cmd_automation(args: argparse.Namespace) -> int:
    action: str = args.automation_command
    job = getattr(args, "job", None)
    one = f"{PREFIX}/{job}"
    with connect(args, timeout=60.0) as client:
        if action == "list":
            response = client.get(PREFIX)
        elif action == "show":
            response = client.get(one)
        elif action == "create":
            response = client.post(PREFIX, json=_body(args.file))
        elif action == "edit":
            response = client.patch(one, json=_body(args.file))
        elif action == "delete":
            response = client.delete(one)
        elif action in ("disable", "enable", "run"):
            response = client.post(f"{one}/{action}")
        elif action == "trust":
            response = client.post(f"{one}/trust-host-key", json={"fingerprint": args.fingerprint})
        elif action == "next-runs":
            response = client.get(f"{one}/next-runs", params={"count": args.count})
        else:  # activity
            response = client.get(f"{one}/activity")
    if response.status_code >= 300:
        raise CommandFailed(refusal(response))
    if response.status_code != 204:
        print(json.dumps(json_of(response), indent=2))
    return 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    automation = sub.add_parser(
        "automation",
        help="list automation jobs (scheduled SFTP imports and exports)",
        description="Work with list automation jobs of a running Dialstream.",
    )
    actions = automation.add_subparsers(dest="automation_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, *, job: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text, description=help_text)
        if job:
            parser.add_argument("job", metavar="JOB", help="the job's id")
        add_server_arguments(parser)
        parser.set_defaults(run=cmd_automation)
        return parser

    action("list", "list the jobs", job=False)
    action("show", "show a job")
    action("create", "create a job from a JSON file (- for standard input)", job=False).add_argument(
        "file", metavar="FILE"
    )
    action("edit", "change a job with a JSON file of the fields to change").add_argument(
        "file", metavar="FILE"
    )
    action("delete", "delete a job")
    action("disable", "stop the job's scheduled runs")
    action("enable", "run the job on its schedule again")
    action("run", "run the job now (its scheduled runs still happen)")
    action("trust", "pin the SFTP server's host key").add_argument(
        "--fingerprint",
        metavar="SHA256:...",
        help="the key's fingerprint (default: the one the server shows now)",
    )
    action("next-runs", "the job's next runs, in its zone and UTC").add_argument(
        "--count", type=int, default=5
    )
    action("activity", "the job's runs, the latest first")
