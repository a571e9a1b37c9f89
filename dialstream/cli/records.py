"""``dialstream records dialability RECORD_ID``: can this record be dialled now, and if not, why?

The twin of ``GET /api/v1/records/{record_id}/dialability``: it asks a running Dialstream
over HTTP (``--url`` or DIALSTREAM_URL, the API key from ``--api-key`` or
DIALSTREAM_API_KEY, like ``dialstream lists import``) and prints the answer for a person:
the record, one line per reason, when it can next be dialled in the contact's time zone
and in UTC, and one line per campaign group. ``--json`` prints the API's answer as is.

Exit status: 0 when the record can be dialled now, 1 when it cannot, 2 on errors (bad
arguments, no API key, the server unreachable, the record not found or deleted, no answer),
with one line on stderr (see :mod:`dialstream.cli.client`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from dialstream.cli.client import (
    CommandFailed,
    add_server_arguments,
    client_command,
    connect,
    json_of,
    refusal,
)

DIALABLE = 0
NOT_DIALABLE = 1


@client_command
def cmd_records_dialability(args: argparse.Namespace) -> int:
    try:
        record_id = UUID(args.record_id)
    except ValueError:
        raise CommandFailed(f"{args.record_id!r} is not a record id (a UUID)") from None
    params: dict[str, str] = {}
    if args.group:
        try:
            params["campaign_group_id"] = str(UUID(args.group))
        except ValueError:
            raise CommandFailed(f"--group {args.group!r} is not a campaign group id (a UUID)") from None
    with connect(args, timeout=30.0) as client:
        response = client.get(f"/api/v1/records/{record_id}/dialability", params=params)
    if response.status_code != 200:
        if args.json:
            _print_problem(response)
        raise CommandFailed(refusal(response))
    body: dict[str, Any] = json_of(response)
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        explain(body, sys.stdout)
    return DIALABLE if body.get("dialable_now") is True else NOT_DIALABLE


def _print_problem(response: httpx.Response) -> None:
    try:
        problem: Any = response.json()
    except ValueError:
        return
    if isinstance(problem, dict):
        print(json.dumps(problem, indent=2))


# The readable answer ------------------------------------------------------------------------


def explain(body: dict[str, Any], out: TextIO) -> None:
    """The answer of the dialability route, for a person."""
    zone = body.get("time_zone")
    groups: list[dict[str, Any]] = body.get("groups") or []
    names = {group["campaign_group_id"]: group["name"] for group in groups}
    list_name = f"{body['list_name']!r}" if body.get("list_name") else body["list_id"]
    print(
        f"record {body['record_id']}: {body['contact_info']} (position {body['chain_n']} of "
        f"client id {body['client_id']!r}, contact list {list_name}, {body.get('channel', 'voice')})",
        file=out,
    )
    checked = f"checked {when(body['checked_at'], zone)}"
    if body["dialable_now"]:
        print(f"dialable now ({checked})", file=out)
    else:
        print(f"NOT dialable now ({checked}):", file=out)
        for reason in body["reasons"]:
            print(f"  - {_reason_line(reason, names)}", file=out)
        if body.get("next_allowed"):
            print(f"next allowed: {when(body['next_allowed'], zone, body.get('second_time_zone'))}", file=out)
        else:
            print("next allowed: not by waiting: a reason above does not lift by itself", file=out)
    if groups:
        print("campaign groups:", file=out)
        for group in groups:
            print(f"  {_group_line(group, zone)}", file=out)


def _reason_line(reason: dict[str, Any], names: dict[str, str]) -> str:
    line = f"{reason['code']}: {reason['text']}"
    until = reason.get("until")
    if until and "until" not in reason["text"]:
        line += f" (until {when(until, None)})"
    only = reason.get("campaign_group_ids")
    if only and reason["code"] != "no_group_running":
        line += " [in " + ", ".join(repr(names.get(g, g)) for g in only) + "]"
    return line


def _group_line(group: dict[str, Any], zone: str | None) -> str:
    head = f"{group['name']!r} ({group['status']})"
    if group["allowed"]:
        return f"{head}: may dial it now"
    codes = ", ".join(dict.fromkeys(reason["code"] for reason in group["reasons"]))
    later = f"next allowed {when(group['next_allowed'], zone)}" if group["next_allowed"] else "no known end"
    return f"{head}: blocked by {codes}; {later}"


def when(instant: str, zone: str | None, second_zone: str | None = None) -> str:
    """An ISO instant in the contact's zone (and its second one) and in UTC."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(UTC)
    text = _clock(moment)
    local = [_in_zone(moment, name) for name in (zone, second_zone) if name]
    shown = [piece for piece in local if piece]
    return f"{' / '.join(shown)} ({text})" if shown else text


def _in_zone(moment: datetime, zone: str) -> str | None:
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return f"{_clock(moment.astimezone(info))} in {zone}"


def _clock(moment: datetime) -> str:
    shape = "%a %Y-%m-%d %H:%M:%S" if moment.second else "%a %Y-%m-%d %H:%M"
    return f"{moment.strftime(shape)} {moment.tzname()}"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    records = sub.add_parser("records", help="records of contact lists", description="Work with records.")
    records_sub = records.add_subparsers(dest="records_command", required=True, metavar="ACTION")
    dial = records_sub.add_parser(
        "dialability",
        help="can this record be dialled now? if not, why, and when",
        description="Ask a running Dialstream whether the record RECORD_ID can be dialled now "
        "(--url or DIALSTREAM_URL) and, if not, every reason (calling window, suppression, "
        "record type or status, its contact list and campaign groups) and when it next can, "
        "in the contact's time zone and in UTC. The API key comes from --api-key or "
        "DIALSTREAM_API_KEY. Exits 0 when "
        "the record can be dialled now, 1 when it cannot, 2 on errors (record not found or "
        "deleted, server unreachable, bad arguments).",
    )
    dial.add_argument("record_id", metavar="RECORD_ID", help="the record's id")
    dial.add_argument(
        "--group",
        metavar="ID",
        help="judge the record in this campaign group (default: every group of its contact list)",
    )
    dial.add_argument("--json", action="store_true", help="print the API's JSON answer")
    add_server_arguments(dial)
    dial.set_defaults(run=cmd_records_dialability)
