"""``dialstream lists import FILE`` and ``dialstream suppression import FILE``: upload a file
of records into a contact list, or of entries into a suppression list, to a running
Dialstream and follow the job.

It talks to the API like any client (the gateway streams the file to disk and the
import runner does the work), with a progress bar for the upload and one for the job.
Server errors end it as :mod:`dialstream.cli.client` says: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm
from tqdm.utils import CallbackIOWrapper

from dialstream.cli.client import (
    ERROR,
    CommandFailed,
    add_server_arguments,
    client_command,
    connect,
    describe,
    json_of,
    refusal,
)
from schemas.imports import APPEND_TYPES

COMPLETED = 0
FAILED = 1
# The upload's answer comes once the whole file is on the server's disk.
UPLOAD_TIMEOUT = httpx.Timeout(60.0, read=600.0)
POLL_TIMEOUT = 30.0
POLL_INTERVAL = 0.5


@client_command
def cmd_lists_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandFailed(f"{path}: no such file")
    form = {
        name: value
        for name, value in (
            ("append_type", args.append_type),
            ("upload_rule_id", args.upload_rule),
            ("specification_file_id", args.specification_file),
            ("data_mapping_id", args.data_mapping),
        )
        if value
    }
    # Bars redrawn with carriage returns only make sense on a terminal.
    bars = not args.quiet and sys.stderr.isatty()
    with connect(args, UPLOAD_TIMEOUT) as client:
        job = _upload(client, path, f"/api/v1/{args.collection}/{args.list}/imports", form, bars)
        if args.no_wait or not args.quiet:
            print(f"import job {job['id']} for {path.name}", flush=True)
        if args.no_wait:
            return COMPLETED
        job = _follow(client, job, bars, args.url)
    return _report(job, args.url)


def _upload(client: httpx.Client, path: Path, target: str, form: dict[str, str], bars: bool) -> Any:
    size = path.stat().st_size
    with (
        path.open("rb") as file,
        tqdm(total=size, unit="B", unit_scale=True, desc="upload", disable=not bars) as bar,
    ):
        wrapped = CallbackIOWrapper(bar.update, file, "read")
        response = client.post(
            target,
            files={"file": (path.name, wrapped, "application/octet-stream")},
            data=form,
        )
    if response.status_code != 202:
        raise CommandFailed(f"upload refused: {refusal(response)}")
    return json_of(response)


def _follow(client: httpx.Client, job: Any, bars: bool, url: str) -> Any:
    size = max(int(job["size"]), 1)
    where = f"/api/v1/imports/{job['id']}"
    with tqdm(total=size, unit="B", unit_scale=True, desc="import", disable=not bars) as bar:
        while job["status"] in ("requested", "running"):
            time.sleep(POLL_INTERVAL)
            try:
                response = client.get(where, timeout=POLL_TIMEOUT)
            except httpx.TransportError as error:
                raise CommandFailed(
                    f"lost Dialstream at {url} while following import job {job['id']}: "
                    f"{describe(error)}; the job goes on there: {url.rstrip('/')}{where}"
                ) from None
            if response.status_code != 200:
                raise CommandFailed(f"following import job {job['id']}: {refusal(response)}")
            job = json_of(response)
            done = size if job["status"] == "completed" else int(job["offset"])
            bar.update(max(0, done - bar.n))
            # set_postfix would print counts of 10,000 and more as 1e+4.
            counts = job["counts"]
            bar.set_postfix_str(f"rows {counts['rows']:,}, rejected {counts['rejected']:,}", refresh=False)
    return job


def _report(job: Any, url: str) -> int:
    """The result in one line: on stdout when the job completed, on stderr when it failed."""
    counts = job["counts"]
    line = ", ".join(f"{name} {value}" for name, value in counts.items())
    if job["status"] != "completed":
        line = f"{job['status']}: {job.get('reason') or ''} ({line})"
    else:
        line = f"completed: {line}"
    if counts.get("rejected") or counts.get("ignored") or counts.get("dropped"):
        line += f"; error report: {url.rstrip('/')}{job['errors_url']}"
    print(line, file=sys.stdout if job["status"] == "completed" else sys.stderr)
    return COMPLETED if job["status"] == "completed" else FAILED


EXITS = (
    f"Exits {COMPLETED} when the job completes, {FAILED} when it fails (the reason is printed), "
    f"{ERROR} on bad arguments or when the server is unreachable or refuses the upload (one line)."
)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    lists = sub.add_parser("lists", help="contact lists", description="Work with contact lists.")
    lists_sub = lists.add_subparsers(dest="lists_command", required=True, metavar="ACTION")
    imp = lists_sub.add_parser(
        "import",
        help="upload a file into a contact list and follow the import",
        description="Upload FILE (CSV or other delimited text, or fixed width with a "
        "specification file) to a running Dialstream (--url or DIALSTREAM_URL) and show the "
        "import's progress. The API key comes from --api-key or DIALSTREAM_API_KEY. " + EXITS,
    )
    _import_arguments(imp, "contact list id", "contact-lists")
    suppression = sub.add_parser(
        "suppression", help="suppression lists", description="Work with suppression lists."
    )
    suppression_sub = suppression.add_subparsers(dest="suppression_command", required=True, metavar="ACTION")
    entries = suppression_sub.add_parser(
        "import",
        help="upload a file of entries into a suppression list and follow the import",
        description="Upload FILE, whose phone, client_id and email columns (by header name, or "
        "as a data mapping or specification file maps contact_info and client_id) hold the "
        "entries, to a running Dialstream (--url or DIALSTREAM_URL) and show the import's "
        "progress. The API key comes from --api-key or DIALSTREAM_API_KEY. Append types: "
        "append_only (default; entries already there stay as they are), append_and_update "
        "(they are added again, restarting their retention), flush_and_append, new_list_only. " + EXITS,
    )
    _import_arguments(entries, "suppression list id", "suppression-lists")


def _import_arguments(imp: argparse.ArgumentParser, list_help: str, collection: str) -> None:
    imp.add_argument("file", help="the file to import")
    imp.add_argument("--list", required=True, help=list_help)
    imp.add_argument(
        "--append-type", choices=APPEND_TYPES, help="default: the upload rule's, else append_only"
    )
    imp.add_argument("--upload-rule", help="upload rule id")
    imp.add_argument("--specification-file", help="specification file id")
    imp.add_argument("--data-mapping", help="data mapping id")
    add_server_arguments(imp)
    imp.add_argument("--no-wait", action="store_true", help="upload, print the job id and exit")
    imp.add_argument("--quiet", action="store_true", help="no progress bars: print only the result line")
    imp.set_defaults(run=cmd_lists_import, collection=collection)
