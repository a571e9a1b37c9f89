"""/api/v1/channels: what SMS providers and e-mail readers send back.

- ``POST /sms/status``: a delivery report of a message an SMS campaign sent (the provider's
  status callback, form fields ``MessageSid``, ``MessageStatus``, ``ErrorCode``); its query
  names the account, record and attempt (:mod:`processors.channels.links`). A final status
  finishes the attempt with its call result (:mod:`domain.message_results`) and the report's
  words; the call results processor treats it as any call's.
- ``POST /sms/inbound``: a contact's reply to one of the account's numbers (``From``, ``To``,
  ``Body``; query ``account``). An opt-out keyword (STOP, UNSUBSCRIBE…,
  :mod:`domain.opt_out`) puts the number on the account's required SMS suppression list at
  once; any other reply is logged.
- ``GET``/``POST /email/unsubscribe``: the link every campaign e-mail carries
  (``List-Unsubscribe``, one-click per RFC 8058): the address goes on the account's required
  e-mail suppression list. ``GET`` (a person following the link) does it too and says so.

No API key: the SMS routes check the provider's signature (``X-Twilio-Signature``, keyed with
the account's auth token, over the public URL and the form), the unsubscribe link its token.
Either wrong is 403 and stores nothing. The routes exist only with ``DIALSTREAM_PUBLIC_URL``
(and, for SMS, ``DIALSTREAM_SMS_PROVIDER``) set: otherwise 404.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from domain.errors import DomainError
from domain.message_results import delivery_result
from domain.suppression_list import EntryInput
from gateway.deps import RuntimeDep
from gateway.problems import Problem
from processors.channels.links import INBOUND_PATH, STATUS_PATH, MessageLinks
from processors.channels.sms import delivery_report, inbound_reply, signed_by_provider

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
SIGNATURE = "X-Twilio-Signature"
# What the provider expects back from a webhook: no reply message.
EMPTY_REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post("/sms/status", summary="A delivery report of an SMS a campaign sent (the provider's status callback)")
async def sms_status(request: Request, runtime: RuntimeDep) -> Response:
    form = await _signed_form(request, runtime, STATUS_PATH)
    account_id, record_id, attempt_id = (_id(request, name) for name in ("account", "record", "attempt"))
    try:
        report = delivery_report(form)
    except ValueError as error:
        raise Problem(422, "Invalid delivery report", str(error)) from None
    result = delivery_result(report.status)
    if result is not None:

        def finish() -> None:
            runtime.handlers.attempts.finished(
                account_id,
                record_id,
                attempt_id,
                call_result=int(result),
                ring_ms=0,
                talk_ms=0,
                detail=f"delivery report {report.message_id}: {report.detail}",
            )

        try:
            await run_in_threadpool(finish)
        except DomainError as error:
            raise Problem(404, "Unknown message", str(error)) from None
    return Response(EMPTY_REPLY, media_type="application/xml")


@router.post("/sms/inbound", summary="A contact's reply to one of the account's SMS numbers")
async def sms_inbound(request: Request, runtime: RuntimeDep) -> Response:
    form = await _signed_form(request, runtime, INBOUND_PATH)
    account_id = _id(request, "account")
    try:
        reply = inbound_reply(form)
    except ValueError as error:
        raise Problem(422, "Invalid reply", str(error)) from None
    if reply.opts_out:
        await run_in_threadpool(_opt_out, runtime, account_id, "sms", EntryInput(kind="phone", value=reply.sender))
    else:
        log.info("account %s: reply from %s to %s, not an opt-out: %r", account_id, reply.sender, reply.recipient, reply.text)
    return Response(EMPTY_REPLY, media_type="application/xml")


@router.post("/email/unsubscribe", summary="One-click unsubscribe from an account's e-mails (RFC 8058)")
async def email_unsubscribe(request: Request, runtime: RuntimeDep) -> Response:
    address = await run_in_threadpool(_unsubscribe, request, runtime)
    return Response(f"{address} is unsubscribed.\n", media_type="text/plain")


@router.get("/email/unsubscribe", summary="The unsubscribe link of an account's e-mails, followed by a person")
async def email_unsubscribe_page(request: Request, runtime: RuntimeDep) -> Response:
    address = await run_in_threadpool(_unsubscribe, request, runtime)
    page = f"<!doctype html><title>Unsubscribed</title><p>{html.escape(address)} will get no more of these e-mails.</p>"
    return HTMLResponse(page)


def _unsubscribe(request: Request, runtime: Runtime) -> str:
    links = _links(runtime)
    account_id = _id(request, "account")
    address = request.query_params.get("address", "")
    if not address or not links.unsubscribe_allowed(account_id, address, request.query_params.get("token", "")):
        raise Problem(403, "Forbidden", "this unsubscribe link is not one of ours (its token does not match)")
    _opt_out(runtime, account_id, "email", EntryInput(kind="email", value=address))
    return address


def _opt_out(runtime: Runtime, account_id: UUID, channel: str, entry: EntryInput) -> None:
    """The contact asked for no more messages on ``channel``: on its required list at once."""
    list_id = runtime.suppression_lists.required_for(account_id, channel)
    if list_id is None:
        log.error("account %s: no required %s suppression list: opt-out of %s not recorded", account_id, channel, entry.value)
        raise Problem(
            503, "No suppression list", f"the account has no required {channel} suppression list to record the opt-out on"
        )
    try:
        runtime.handlers.suppression.add_entries(account_id, list_id, [entry], source="opt_out")
    except DomainError as error:
        raise Problem(422, "Invalid opt-out", str(error)) from None


async def _signed_form(request: Request, runtime: Runtime, path: str) -> dict[str, str]:
    links = _links(runtime)
    sms = runtime.messaging.sms
    if sms is None:
        raise Problem(404, "Not found", "no SMS provider is configured (DIALSTREAM_SMS_PROVIDER)")
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    url = links.url_of(path, request.url.query)
    if not signed_by_provider(sms.auth_token, url, form, request.headers.get(SIGNATURE, "")):
        raise Problem(403, "Forbidden", f"the request is not signed by the SMS provider ({SIGNATURE} does not match)")
    return form


def _links(runtime: Runtime) -> MessageLinks:
    if runtime.messaging.links is None:
        raise Problem(404, "Not found", "no public URL is configured (DIALSTREAM_PUBLIC_URL)")
    return runtime.messaging.links


def _id(request: Request, name: str) -> UUID:
    try:
        return UUID(request.query_params.get(name, ""))
    except ValueError:
        raise Problem(422, "Invalid link", f"query parameter {name!r} is not an id", field=name) from None

