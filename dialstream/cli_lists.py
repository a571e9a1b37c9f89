"""``dialstream lists import FILE`` and ``dialstream suppression import FILE``: upload a file
of records into a contact list, or of entries into a suppression list, to a running
Dialstream and follow the job.

It talks to the API like any client (the gateway streams the file to disk and the
import runner does the work), with a progress bar for the upload and one for the job.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm
from tqdm.utils import CallbackIOWrapper

from schemas.imports import APPEND_TYPES


def cmd_lists_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"dialstream: {path}: no such file", file=sys.stderr)
        return 2
    key = args.api_key or os.environ.get("DIALSTREAM_API_KEY")
    if not key:
        print("dialstream: give --api-key or set DIALSTREAM_API_KEY", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {key}"}
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
    quiet = args.quiet or not sys.stderr.isatty()
    with httpx.Client(base_url=args.url, headers=headers, timeout=httpx.Timeout(60.0, read=600.0)) as client:
        job = _upload(client, path, f"/api/v1/{args.collection}/{args.list}/imports", form, quiet)
        if job is None:
            return 1
        print(f"import job {job['id']} for {path.name}")
        if args.no_wait:
            return 0
        job = _follow(client, job, quiet)
    return _report(job, args.url)


def _upload(client: httpx.Client, path: Path, target: str, form: dict[str, str], quiet: bool) -> Any:
    size = path.stat().st_size
    with (
        path.open("rb") as file,
        tqdm(total=size, unit="B", unit_scale=True, desc="upload", disable=quiet) as bar,
    ):
        wrapped = CallbackIOWrapper(bar.update, file, "read")
        response = client.post(
            target,
            files={"file": (path.name, wrapped, "application/octet-stream")},
            data=form,
        )
    if response.status_code != 202:
        problem = _problem(response)
        print(f"dialstream: upload refused ({response.status_code}): {problem}", file=sys.stderr)
        return None
    return response.json()


def _follow(client: httpx.Client, job: Any, quiet: bool) -> Any:
    size = max(int(job["size"]), 1)
    with tqdm(total=size, unit="B", unit_scale=True, desc="import", disable=quiet) as bar:
        while job["status"] in ("requested", "running"):
            time.sleep(0.5)
            response = client.get(f"/api/v1/imports/{job['id']}")
            response.raise_for_status()
            job = response.json()
            done = size if job["status"] == "completed" else int(job["offset"])
            bar.update(max(0, done - bar.n))
            bar.set_postfix(rows=job["counts"]["rows"], rejected=job["counts"]["rejected"], refresh=False)
    return job


def _report(job: Any, url: str) -> int:
    counts = job["counts"]
    summary = ", ".join(f"{name} {value}" for name, value in counts.items())
    if job["status"] == "completed":
        print(f"completed: {summary}")
    else:
        print(f"{job['status']}: {job.get('reason') or ''} ({summary})", file=sys.stderr)
    if counts.get("rejected") or counts.get("ignored") or counts.get("dropped"):
        print(f"error report: {url.rstrip('/')}{job['errors_url']}")
    return 0 if job["status"] == "completed" else 1


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    return str(body.get("detail") or body)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    lists = sub.add_parser("lists", help="contact lists", description="Work with contact lists.")
    lists_sub = lists.add_subparsers(dest="lists_command", required=True, metavar="ACTION")
    imp = lists_sub.add_parser(
        "import",
        help="upload a file into a contact list and follow the import",
        description="Upload FILE (CSV or other delimited text, or fixed width with a "
        "specification file) to a running Dialstream and show the import's progress. "
        "The API key comes from --api-key or DIALSTREAM_API_KEY. Exits 0 when the job "
        "completes, 1 when it fails (the reason is printed), 2 on bad arguments.",
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
        "entries, to a running Dialstream and show the import's progress. Append types: "
        "append_only (default; entries already there stay as they are), append_and_update "
        "(they are added again, restarting their retention), flush_and_append, new_list_only. "
        "Exits 0 when the job completes, 1 when it fails, 2 on bad arguments.",
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
    imp.add_argument(
        "--url",
        default=os.environ.get("DIALSTREAM_URL", "http://127.0.0.1:8080"),
        help="where Dialstream runs (default http://127.0.0.1:8080, or DIALSTREAM_URL)",
    )
    imp.add_argument("--api-key", help="API key (default DIALSTREAM_API_KEY)")
    imp.add_argument("--no-wait", action="store_true", help="upload, print the job id and exit")
    imp.add_argument("--quiet", action="store_true", help="no progress bars")
    imp.set_defaults(run=cmd_lists_import, collection=collection)
