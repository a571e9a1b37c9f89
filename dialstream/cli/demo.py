"""``dialstream demo``: a campaign dialling on the telephony simulator, next to a running server.

It opens a demo account in the server's data directory (as ``dialstream accounts create``
does), then builds the rest over the API like any client: a predictive dialing profile, a
session profile for the agent group "Demo agents", a template, a contact list of generated
records (50,000 by default) spread over US time zones, a required suppression list holding
some of their numbers, a campaign group, and simulated agents logged in and ready. It starts
the group and prints the account's admin key and the group's status URL; the server's dialer
then dials it on the simulator in wall-clock time.

The demo account calls around the clock (its calling hours are 00:00–24:00): it only ever
reaches the simulator, and a demo started at night should still show calls. Every other rule
(suppression, the abandon target, attempt caps) is the product's own.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import time
from typing import Any

import httpx

from dialstream.bootstrap import build
from dialstream.cli.client import DEFAULT_URL, CommandFailed, client_command, json_of, refusal
from dialstream.cli.common import require_existing_store, settings_of

# Area codes of several US time zones (Eastern, Central, Mountain, Arizona, Pacific, Alaska, Hawaii).
AREA_CODES = ("212", "305", "404", "312", "214", "303", "602", "415", "206", "907", "808")
AGENT_GROUP = "Demo agents"
TIMEOUT = httpx.Timeout(30.0, read=300.0)


def records_csv(count: int, seed: int = 7) -> bytes:
    """A contact-list file of ``count`` customers, one phone each, over the area codes."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client_id", "phone", "first_name"])
    names = ("Ana", "Ben", "Chloé", "Dev", "Eun", "Femi", "Gus", "Hana", "Ivo", "Jia")
    for n in range(count):
        area = AREA_CODES[n % len(AREA_CODES)]
        phone = f"+1{area}{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(1, 9)}{rng.randint(0, 9999):04d}"
        writer.writerow([f"D{n:07d}", phone, names[n % len(names)]])
    return out.getvalue().encode()


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise CommandFailed(f"{what}: {refusal(response)}")
    return json_of(response)


@client_command
def cmd_demo(args: argparse.Namespace) -> int:
    with httpx.Client(base_url=args.url, timeout=5.0) as probe:
        try:
            probe.get("/healthz")
        except httpx.TransportError:
            raise CommandFailed(
                f"no Dialstream answers at {args.url}: start it first (make run), "
                "or give its address with --url or DIALSTREAM_URL"
            ) from None
    settings = settings_of(args)
    require_existing_store(settings)
    runtime = build(settings, relay=False, workers=[])
    try:
        account_id = runtime.handlers.accounts.open_account(args.name).id
        secret = runtime.handlers.accounts.issue_api_key(account_id, "demo admin", "admin").secret
    finally:
        runtime.stop()
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=TIMEOUT) as api:
        _wait_for_key(api)
        group_id = _build_campaign(api, args)
    base = args.url.rstrip("/")
    print(f"Demo account {account_id} ({args.name}): admin API key (shown once):")
    print(f"  {secret}")
    print(f"Campaign group {group_id} is dialling on the simulator with {args.agents} simulated agents:")
    print(f"  curl -H 'Authorization: Bearer {secret}' {base}/api/v1/campaign-groups/{group_id}/status")
    return 0


def _wait_for_key(api: httpx.Client, timeout: float = 30.0) -> None:
    """The server reads keys from its read models: wait until they include the new one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get("/api/v1/settings").status_code == 200:
            return
        time.sleep(0.2)
    raise CommandFailed("the server did not accept the demo key within 30 s: is it using this data directory?")


def _build_campaign(api: httpx.Client, args: argparse.Namespace) -> str:
    _ok(
        api.put(
            "/api/v1/settings/compliance",
            json={"default": {"hours": {"daily": {"opens": "00:00", "closes": "24:00"}}}},
        ),
        "calling hours",
    )
    _ok(
        api.post(
            "/api/v1/dialing-profiles",
            json={
                "name": "Demo predictive",
                "settings": {"dialing_mode": "predictive", "caller_id": "+12025550100", "filtering": {"max_attempts": 3}},
            },
        ),
        "dialing profile",
    )
    _ok(
        api.post(
            "/api/v1/session-profiles",
            json={"name": "Demo voice", "settings": {"channel": "voice", "agent_group": AGENT_GROUP}},
        ),
        "session profile",
    )
    template = _ok(api.post("/api/v1/campaign-templates", json={"name": "Demo template"}), "template")
    contact_list = _ok(api.post("/api/v1/contact-lists", json={"name": "Demo list"}), "contact list")
    content = records_csv(args.records)
    job = _ok(
        api.post(
            f"/api/v1/contact-lists/{contact_list['id']}/imports",
            files={"file": ("demo.csv", content, "text/csv")},
            data={"append_type": "append_only"},
        ),
        "import",
    )
    _wait_for_job(api, job["id"])
    suppressed = [row.split(",")[1] for row in content.decode().splitlines()[1::250]]
    dnc = _ok(
        api.post(
            "/api/v1/suppression-lists",
            json={"name": "Demo DNC", "channel": "voice", "required": True, "retention_days": 90},
        ),
        "suppression list",
    )
    _ok(
        api.post(
            f"/api/v1/suppression-lists/{dnc['id']}/entries",
            json={"entries": [{"kind": "phone", "value": phone} for phone in suppressed]},
        ),
        "suppression entries",
    )
    group = _ok(
        api.post(
            "/api/v1/campaign-groups",
            json={"name": "Demo group", "template_id": template["id"], "contact_list_ids": [contact_list["id"]]},
        ),
        "campaign group",
    )
    for n in range(1, args.agents + 1):
        login = f"demo-agent-{n:02d}"
        _ok(
            api.post(f"/api/v1/agents/{login}/login", json={"agent_group": AGENT_GROUP, "simulated": True}),
            f"agent {login}",
        )
        _ok(api.post(f"/api/v1/agents/{login}/ready"), f"agent {login}")
    _ok(api.post(f"/api/v1/campaign-groups/{group['id']}/start"), "start")
    return str(group["id"])


def _wait_for_job(api: httpx.Client, job_id: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _ok(api.get(f"/api/v1/imports/{job_id}"), "import")
        if job["status"] == "completed":
            return
        if job["status"] == "failed":
            raise CommandFailed(f"the demo list's import failed: {job.get('reason')}")
        time.sleep(0.5)
    raise CommandFailed(f"the demo list's import did not finish in {timeout:.0f} s")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="a demo campaign dialling on the telephony simulator (next to `dialstream up`)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--url",
        default=os.environ.get("DIALSTREAM_URL", DEFAULT_URL),
        help=f"where the server runs (default: DIALSTREAM_URL, else {DEFAULT_URL}); it must use this data directory",
    )
    demo.add_argument("--name", default="Demo account", help="the demo account's name")
    demo.add_argument("--records", type=int, default=50_000, help="records in the demo list (default 50000)")
    demo.add_argument("--agents", type=int, default=20, help="simulated agents (default 20)")
    demo.set_defaults(run=cmd_demo)
