"""The SMS channel: a CPaaS provider's HTTP API, with :mod:`httpx`.

Input: :class:`~processors.channels.port.OutboundMessage` s (channel "sms"). Output: one
:class:`~processors.channels.port.SendResult` each. Configuration: :class:`SmsSettings`.

The request is the shape of Twilio's Messages resource, which other providers copy or
accept: ``POST {base_url}/Accounts/{account_sid}/Messages.json``, HTTP basic auth
(account sid, auth token), a form body ``To`` (E.164), ``From`` (number, short code or
alphanumeric sender id), ``Body``, ``ValidityPeriod`` (:data:`VALIDITY_S`: a message the
provider could not deliver by then is reported failed, not tried for days) and, when
configured, ``StatusCallback`` (the URL the provider posts delivery reports to). The provider answers 201 with JSON ``{"sid": ...}``; the
sid is the message id. An error answers JSON ``{"code": <provider code>, "message": ...}``.
One HTTP client (keep-alive connection pool) serves every message. The API must be https
(plain http only for a provider on this host, as in tests): every request carries the token.

Failures (codes: :mod:`domain.message_results`):

=======================================  ===================
provider answer                          failure
=======================================  ===================
400 code 21211 (invalid To), 21614        invalid_address
(To is not a mobile number)
400 code 21610 (recipient replied STOP)   opted_out
other 4xx                                 rejected
401, 403, 404 (our credentials or         unavailable
account), 429 (rate limit), 5xx,
no answer (refused, timeout, reset),
2xx without a sid
=======================================  ===================

Webhooks (the routes that receive them are :mod:`gateway.routes.channels`; each is checked
with :func:`signed_by_provider`, the provider's signature): :func:`delivery_report` reads
a status callback (``MessageSid``, ``MessageStatus``, ``ErrorCode``), :func:`inbound_reply` an
incoming message (``From``, ``To``, ``Body``); both take the form fields as a mapping.
A status callback's ``MessageStatus`` becomes: accepted, scheduled, queued, sending, sent →
pending; delivered, read → delivered; undelivered or failed with ``ErrorCode`` 30003
(handset off or out of coverage) → unreachable, 30005 (unknown handset) or 30006 (landline,
unreachable carrier) → undeliverable, 21610 → opted_out; any other error, and canceled →
failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple
from urllib.parse import urlsplit

import httpx

from domain.message_results import DeliveryStatus, SendFailure
from domain.opt_out import is_opt_out
from processors.channels.port import DeliveryReport, OutboundMessage, SendResult

# Provider error codes that say the number itself is wrong, or that it opted out.
INVALID_NUMBER_CODES: Final = frozenset({21211, 21614})
OPTED_OUT_CODE: Final = 21610
# Seconds a provider may go on trying a message (Twilio's default ValidityPeriod; its range
# is 1 to 36,000). A report that has not come some hours after that will not come:
# :data:`REPORT_WAIT_S` is how long a campaign waits for it.
VALIDITY_S: Final = 14_400
REPORT_WAIT_S: Final = VALIDITY_S + 2 * 3600
# Statuses a delivery report can carry and what each is; "undelivered" and "failed" are
# refined by the error code (below).
_STATUSES: Final[dict[str, DeliveryStatus]] = {
    "accepted": "pending",
    "scheduled": "pending",
    "queued": "pending",
    "sending": "pending",
    "sent": "pending",  # handed to the carrier; the handset has not confirmed yet
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# Carrier error codes of an undelivered message: 30003 unreachable handset (off, no
# coverage), 30005 unknown handset, 30006 landline or unreachable carrier, 21610 opted out.
_DELIVERY_ERRORS: Final[dict[str, DeliveryStatus]] = {
    "30003": "unreachable",
    "30005": "undeliverable",
    "30006": "undeliverable",
    "21610": "opted_out",
}
_REASON_MAX = 300  # characters of a provider's answer kept in a reason


@dataclass(frozen=True)
class SmsSettings:
    """The provider's API root (``https://api.twilio.com/2010-04-01``), the account's sid and
    auth token, and the URL delivery reports are posted to (none: no reports)."""

    base_url: str
    account_sid: str
    auth_token: str = field(repr=False)
    status_callback: str | None = None
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ValueError("the SMS provider's account sid and auth token are required")
        if self.timeout_s <= 0:
            raise ValueError(f"SMS provider timeout must be positive, not {self.timeout_s}")
        url = urlsplit(self.base_url)
        if url.scheme != "https" and not (url.scheme == "http" and _is_loopback(url.hostname or "")):
            raise ValueError(
                f"the SMS provider's API {self.base_url!r} must be https (plain http only on this host): "
                "every request carries the auth token"
            )

    @property
    def messages_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/Accounts/{self.account_sid}/Messages.json"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpSmsChannel:
    """The :class:`~processors.channels.port.Channel` port over a provider's HTTP API."""

    def __init__(self, settings: SmsSettings):
        self.settings = settings
        self._client: httpx.Client | None = None

    def send(self, message: OutboundMessage) -> SendResult:
        return self.send_many([message])[0]

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        return [self._submit(message) for message in messages]

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        if self._client is None:
            s = self.settings
            self._client = httpx.Client(auth=(s.account_sid, s.auth_token), timeout=s.timeout_s)
        return self._client

    def _submit(self, message: OutboundMessage) -> SendResult:
        form = {"To": message.to, "From": message.sender, "Body": message.body, "ValidityPeriod": str(VALIDITY_S)}
        status_callback = message.status_callback or self.settings.status_callback
        if status_callback:
            form["StatusCallback"] = status_callback
        url = self.settings.messages_url
        try:
            response = self._http().post(url, data=form)
        except httpx.HTTPError as error:
            reason = f"no answer from SMS provider {url}: {type(error).__name__}: {error}"
            return SendResult.failed(message.attempt_id, "unavailable", reason)
        return _result_of(message, response)


def _result_of(message: OutboundMessage, response: httpx.Response) -> SendResult:
    answer = _json(response)
    if response.is_success:
        sid = answer.get("sid")
        if isinstance(sid, str) and sid:
            return SendResult.accepted_as(message.attempt_id, sid)
        reason = f"SMS provider answered {response.status_code} without a message sid: {_quote(response)}"
        return SendResult.failed(message.attempt_id, "unavailable", reason)
    code = answer.get("code")
    failure = _failure(response.status_code, code if isinstance(code, int) else None)
    detail = answer.get("message") if isinstance(answer.get("message"), str) else _quote(response)
    reason = f"SMS provider refused ({response.status_code}" + (f", code {code}" if code else "") + f"): {detail}"
    return SendResult.failed(message.attempt_id, failure, reason)


def _failure(status: int, code: int | None) -> SendFailure:
    """What a provider's error answer (HTTP ``status`` and its error ``code``) means."""
    if status in (401, 403, 404, 429) or status >= 500:
        return "unavailable"
    if code in INVALID_NUMBER_CODES:
        return "invalid_address"
    if code == OPTED_OUT_CODE:
        return "opted_out"
    return "rejected"


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _quote(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:_REASON_MAX] or "(empty body)"


def delivery_report(payload: Mapping[str, str]) -> DeliveryReport:
    """The delivery report in a status callback's form fields.

    Raises ValueError naming the field when ``MessageSid`` or ``MessageStatus`` is missing or
    the status is not one a provider sends."""
    sid = payload.get("MessageSid") or payload.get("SmsSid")
    if not sid:
        raise ValueError("delivery report without MessageSid")
    raw = payload.get("MessageStatus") or payload.get("SmsStatus")
    if not raw:
        raise ValueError(f"delivery report for {sid} without MessageStatus")
    status = _STATUSES.get(raw.strip().lower())
    if status is None:
        raise ValueError(f"delivery report for {sid}: unknown MessageStatus {raw!r} (known: {', '.join(_STATUSES)})")
    error_code = (payload.get("ErrorCode") or "").strip()
    if status == "failed":
        status = _DELIVERY_ERRORS.get(error_code, "failed")
    detail = raw + (f", error {error_code}" if error_code else "")
    return DeliveryReport(sid, status, detail)


def request_signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """The signature a provider sends with a webhook (header ``X-Twilio-Signature``): the
    base64 HMAC-SHA1, keyed with the account's auth token, of the full URL it posted to followed
    by each form field's name and value, sorted by name. Only the provider and we know the
    token, so a matching signature says the provider sent these very fields to this URL."""
    text = url + "".join(name + form[name] for name in sorted(form))
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_by_provider(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Whether ``signature`` is the provider's for this request (compared in constant time)."""
    return hmac.compare_digest(request_signature(auth_token, url, form), signature)


class InboundReply(NamedTuple):
    """A message a contact sent to one of our numbers."""

    sender: str  # the contact's number, E.164
    recipient: str  # our number (or short code) it was sent to
    text: str

    @property
    def opts_out(self) -> bool:
        """The reply is an opt-out keyword (STOP…): the device goes on the SMS suppression list."""
        return is_opt_out(self.text)


def inbound_reply(payload: Mapping[str, str]) -> InboundReply:
    """The reply in an incoming-message webhook's form fields. Raises ValueError when ``From``
    is missing (an empty ``Body`` is a reply with no text)."""
    sender = (payload.get("From") or "").strip()
    if not sender:
        raise ValueError("incoming message without From")
    return InboundReply(sender, (payload.get("To") or "").strip(), payload.get("Body") or "")
