"""SMS and e-mail campaigns through the dialer (power mode on the Channel port), against a real
local SMTP server (aiosmtpd) and a real local HTTP server answering as an SMS provider, on a
real embedded runtime in virtual time, with the API served by uvicorn for the webhooks.

Each record's message is its template filled from the record; what the channel answers ends
the attempt (a refused address as "SIT invalid number" with the server's words, a server that
is down as "system error"), an SMS the provider took waits for its signed delivery report; a
record the template needs a field of is not sent; the account's attempts-per-minute cap of the
channel holds whatever the channel answers; a STOP reply and an unsubscribe put the device on
the channel's required suppression list, and the campaign sends it nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
from msgspec import structs

from dialstream.store import stored_topic_of
from domain import record_chain
from domain.account import UpdateSettings
from domain.codes import CallResult, RecordStatus
from domain.suppression_list import CreateSuppressionList
from processors.channels.sms import VALIDITY_S, request_signature
from schemas.attempts import CallAttemptFinished, CallAttemptMade, CallAttemptSent
from schemas.profiles import MessageSettings, Pacing, SessionSettings
from schemas.settings import MaxAttemptsPerMinute, PacingSettings
from tests.gateway.serve import loopback_socket, served
from tests.processors.channels import sms_provider, smtp_server
from tests.processors.channels.sms_provider import Answer, Provider
from tests.processors.channels.unused_port import refusing_port
from tests.processors.dialer.support import AGENT_GROUP, Lab, campaign, chain_event, lab

ZONE = "America/New_York"  # 10:00 there at the lab's epoch: inside calling hours
EMAIL = MessageSettings(
    sender="Acme Billing <billing@acme.example>",
    subject="Your statement, {first_name}",
    body="Hello {first_name}, your balance is {balance}.",
)
SMS = MessageSettings(sender="+12025550199", body="Hi {first_name}, reply STOP to opt out.")
FIELDS = {"first_name": "Ann", "balance": "$12.50"}


@dataclass
class Rig:
    lab: Lab
    base_url: str  # the API, for the webhooks

    def message_campaign(self, channel: str, message: MessageSettings, contacts: dict[str, str], **pacing: int) -> UUID:
        """A started power campaign on ``channel`` to ``contacts`` (client id -> device), every
        chain with FIELDS but client ids starting "X" (no custom fields at all)."""
        L = self.lab
        group = campaign(
            L, [], mode="power", agents=0, pacing=Pacing(calls_per_minute=pacing.get("rate", 600)),
            session=SessionSettings(channel=channel, message=message, agent_group=AGENT_GROUP),  # type: ignore[arg-type]
        )
        list_id = L.handlers.campaigns.group(L.account_id, group).contact_list_ids[0]
        chains = [chain_event(L, list_id, client, device, ZONE) for client, device in contacts.items()]
        L.runtime.store.append([c if c.client_id.startswith("X") else structs.replace(c, custom=FIELDS) for c in chains])
        L.settle()
        return group

    def finished(self) -> dict[str, CallAttemptFinished]:
        """Each attempt's end, by the device it went to."""
        store = self.lab.runtime.store
        made = {e.attempt_id: e.device for _, e in store.read_topics((stored_topic_of(CallAttemptMade),), after=0, limit=10_000)}
        ends = store.read_topics((stored_topic_of(CallAttemptFinished),), after=0, limit=10_000)
        return {made[e.attempt_id]: e for _, e in ends}

    def made(self) -> list[CallAttemptMade]:
        store = self.lab.runtime.store
        return [e for _, e in store.read_topics((stored_topic_of(CallAttemptMade),), after=0, limit=10_000)]

    def record(self, group: UUID, client_id: str):  # type: ignore[no-untyped-def]
        list_id = self.lab.handlers.campaigns.group(self.lab.account_id, group).contact_list_ids[0]
        chain = self.lab.runtime.store.load(record_chain.chain_id(list_id, client_id), record_chain.project)
        assert chain is not None
        return chain.records[0]

    def required_list(self, channel: str) -> UUID:
        handlers = self.lab.handlers
        return handlers.suppression.create_list(
            self.lab.account_id, CreateSuppressionList(name=f"{channel} opt-outs", channel=channel, required=True)  # type: ignore[arg-type]
        ).id

    def entries(self, list_id: UUID) -> list[str]:
        self.lab.settle()
        return [key.value for key in self.lab.runtime.suppression_lists.entries_page(list_id)]


@contextmanager
def rig(tmp_path: Path, **settings: str) -> Iterator[Rig]:
    sock, port = loopback_socket()
    try:
        with lab(tmp_path, public_url=f"http://127.0.0.1:{port}", **settings) as L, served(L.runtime, sock) as url:
            yield Rig(L, url)
    finally:
        sock.close()


def test_an_email_campaign_sends_each_record_its_filled_template_and_records_what_the_server_said(tmp_path: Path) -> None:
    mailbox = smtp_server.Mailbox(refuse={"gone@example.com": "550 5.1.1 <gone@example.com>: no such user"})
    with smtp_server.running(mailbox) as port, rig(tmp_path, smtp=f"smtp+plain://127.0.0.1:{port}") as R:
        group = R.message_campaign(
            "email", EMAIL, {"E1": "ann@example.com", "E2": "gone@example.com", "X3": "nofields@example.com"}
        )
        R.lab.run(30)

        (received,) = mailbox.received
        assert received.rcpt_tos == ["ann@example.com"]
        assert received.message["Subject"] == "Your statement, Ann"
        assert received.message.get_content().strip() == "Hello Ann, your balance is $12.50."
        unsubscribe = received.message["List-Unsubscribe"].strip()
        assert unsubscribe.startswith(f"<{R.base_url}/api/v1/channels/email/unsubscribe?")
        assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        ends = R.finished()
        assert ends["ann@example.com"].call_result == CallResult.ANSWER
        refused = ends["gone@example.com"]
        assert refused.call_result == CallResult.SIT_INVALID_NUMBER and "550" in refused.detail and "no such user" in refused.detail
        missing = ends["nofields@example.com"]
        assert missing.call_result == CallResult.GENERAL_ERROR and "'first_name'" in missing.detail
        # The call results processor treated each as it treats a call.
        assert R.record(group, "E1").call_result == CallResult.ANSWER
        assert R.record(group, "E2").call_result == CallResult.SIT_INVALID_NUMBER
        assert R.record(group, "E2").record_status != RecordStatus.RETRIEVED


def test_a_server_that_is_down_fails_each_attempt_with_its_reason_and_the_cap_still_holds(tmp_path: Path) -> None:
    cap = PacingSettings(max_attempts_per_minute=MaxAttemptsPerMinute(email=4))
    with refusing_port() as port, rig(tmp_path, smtp=f"smtp+plain://127.0.0.1:{port}") as R:
        R.lab.handlers.accounts.update_settings(R.lab.account_id, _pacing(cap))
        contacts = {f"E{n}": f"c{n}@example.com" for n in range(12)}
        group = R.message_campaign("email", EMAIL, contacts, rate=600)
        R.lab.run(59)
        assert len(R.made()) == 4  # the account's cap for e-mail, not the profile's 600 a minute
        R.lab.run(60)
        made = R.made()
        assert len(made) == 8
        ends = R.finished()
        assert {e.attempt_id for e in ends.values()} == {m.attempt_id for m in made}  # nothing lost
        for end in ends.values():
            assert end.call_result == CallResult.SYSTEM_ERROR
            assert "SMTP server" in end.detail and "127.0.0.1" in end.detail, end.detail
        # Not sent is not lost: the rest are still to be sent, ready.
        untouched = [c for c in contacts if R.record(group, c).attempt == 0]
        assert len(untouched) == 4 and all(R.record(group, c).record_status == RecordStatus.READY for c in untouched)


def test_the_accounts_cap_binds_all_its_groups_of_the_channel_together(tmp_path: Path) -> None:
    cap = PacingSettings(max_attempts_per_minute=MaxAttemptsPerMinute(email=5))
    mailbox = smtp_server.Mailbox()
    with smtp_server.running(mailbox) as port, rig(tmp_path, smtp=f"smtp+plain://127.0.0.1:{port}") as R:
        R.lab.handlers.accounts.update_settings(R.lab.account_id, _pacing(cap))
        for name in "AB":
            R.message_campaign("email", EMAIL, {f"{name}{n}": f"{name}{n}@example.com" for n in range(8)}, rate=600)
        R.lab.run(59)
        made = R.made()
        assert len(made) == 5, "two groups asking 600 a minute each share the account's 5"
        assert len({m.campaign_group_id for m in made}) == 2, "neither group starves the other"
        R.lab.run(60)
        assert len(R.made()) == 10
        assert len(mailbox.received) == 10


def test_an_sms_waits_for_its_signed_delivery_report(tmp_path: Path) -> None:
    provider = Provider(answers={"+12125550003": Answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})})
    with sms_provider.running(provider) as api:
        url = f"http://{provider.account_sid}:{provider.auth_token}@{api.removeprefix('http://')}"
        with rig(tmp_path, sms_provider=url) as R:
            group = R.message_campaign("sms", SMS, {"S1": "+12125550001", "S2": "+12125550002", "S3": "+12125550003"})
            R.lab.run(30)

            sent = {r.form["To"]: r.form for r in provider.requests}
            assert sent["+12125550001"]["Body"] == "Hi Ann, reply STOP to opt out."
            assert sent["+12125550001"]["From"] == "+12025550199"
            ends = R.finished()
            assert set(ends) == {"+12125550003"}  # refused at once; the other two wait for reports
            assert ends["+12125550003"].call_result == CallResult.SIT_INVALID_NUMBER
            store = R.lab.runtime.store
            accepted = [e for _, e in store.read_topics((stored_topic_of(CallAttemptSent),), after=0, limit=10)]
            assert sorted(e.message_id for e in accepted) == sorted(provider.sids)
            assert R.record(group, "S1").record_status == RecordStatus.RETRIEVED  # the provider's now

            callback = sent["+12125550001"]["StatusCallback"]
            sid = _sid_of(provider, "+12125550001")
            forged = httpx.post(callback, data={"MessageSid": sid, "MessageStatus": "delivered"}, headers={"X-Twilio-Signature": "bad"})
            assert forged.status_code == 403
            assert _report(provider, callback, sid, "sent").status_code == 200  # not final: nothing yet
            assert _report(provider, callback, sid, "delivered").status_code == 200
            other = sent["+12125550002"]["StatusCallback"]
            assert _report(provider, other, _sid_of(provider, "+12125550002"), "undelivered", "30003").status_code == 200
            R.lab.settle()

            ends = R.finished()
            assert ends["+12125550001"].call_result == CallResult.ANSWER
            assert ends["+12125550001"].detail == f"delivery report {sid}: delivered"
            assert ends["+12125550002"].call_result == CallResult.NO_ANSWER  # handset off: may be tried again
            assert R.record(group, "S1").call_result == CallResult.ANSWER
            assert R.record(group, "S2").call_result == CallResult.NO_ANSWER


def test_an_sms_whose_report_never_comes_ends_unknown_and_leaves_the_queue(tmp_path: Path) -> None:
    provider = Provider()
    with sms_provider.running(provider) as api:
        url = f"http://{provider.account_sid}:{provider.auth_token}@{api.removeprefix('http://')}"
        with rig(tmp_path, sms_provider=url) as R:
            R.lab.dialer.ports.report_wait_s = 300  # the product waits VALIDITY_S and two hours more
            group = R.message_campaign("sms", SMS, {"S1": "+12125550001"})
            R.lab.run(240)
            (request,) = provider.requests
            assert request.form["ValidityPeriod"] == str(VALIDITY_S)  # the provider gives up first
            assert R.finished() == {} and R.record(group, "S1").record_status == RecordStatus.RETRIEVED
            R.lab.run(150)
            end = R.finished()["+12125550001"]
            assert end.call_result == CallResult.UNKNOWN_CALL_RESULT
            assert end.detail == "no delivery report 300 s after the provider took the message"
            record = R.record(group, "S1")
            assert record.call_result == CallResult.UNKNOWN_CALL_RESULT and record.record_status != RecordStatus.RETRIEVED
            assert len(provider.requests) == 1, "not sent again"


def test_a_stop_reply_puts_the_number_on_the_sms_list_and_it_gets_nothing_more(tmp_path: Path) -> None:
    provider = Provider()
    with sms_provider.running(provider) as api:
        url = f"http://{provider.account_sid}:{provider.auth_token}@{api.removeprefix('http://')}"
        with rig(tmp_path, sms_provider=url) as R:
            opt_outs = R.required_list("sms")
            inbound = R.lab.runtime.messaging.links.inbound(R.lab.account_id)  # type: ignore[union-attr]
            reply = {"From": "+12125550001", "To": "+12025550199", "Body": " Stop. "}
            unsigned = httpx.post(inbound, data=reply, headers={"X-Twilio-Signature": "x"})
            assert unsigned.status_code == 403 and R.entries(opt_outs) == []
            chat = {**reply, "Body": "please call me tomorrow"}
            assert _signed_post(provider, inbound, chat).status_code == 200 and R.entries(opt_outs) == []
            assert _signed_post(provider, inbound, reply).status_code == 200
            assert R.entries(opt_outs) == ["+12125550001"]

            R.message_campaign("sms", SMS, {"S1": "+12125550001", "S2": "+12125550002"})
            R.lab.run(30)
            assert [r.form["To"] for r in provider.requests] == ["+12125550002"]


def test_the_unsubscribe_link_puts_the_address_on_the_email_list(tmp_path: Path) -> None:
    mailbox = smtp_server.Mailbox()
    with smtp_server.running(mailbox) as port, rig(tmp_path, smtp=f"smtp+plain://127.0.0.1:{port}") as R:
        opt_outs = R.required_list("email")
        R.message_campaign("email", EMAIL, {"E1": "Ann@Example.com"})
        R.lab.run(30)
        (received,) = mailbox.received
        link = received.message["List-Unsubscribe"].strip().strip("<>")
        query = parse_qs(urlsplit(link).query)
        tampered = link.replace("Ann%40Example.com", "bob%40example.com")
        assert query["address"] == ["Ann@Example.com"] and tampered != link
        assert httpx.post(tampered, data={"List-Unsubscribe": "One-Click"}).status_code == 403
        answer = httpx.post(link, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200, answer.text
        assert R.entries(opt_outs) == ["ann@example.com"]
        assert httpx.get(link).status_code == 200  # a person following it again: still unsubscribed


def _pacing(settings: PacingSettings) -> UpdateSettings:
    return UpdateSettings(pacing=settings)


def _sid_of(provider: Provider, to: str) -> str:
    """The sid the provider gave the message to ``to`` (it numbers the messages it takes)."""
    taken = [r.form["To"] for r in provider.requests if r.form["To"] not in provider.answers]
    return provider.sids[taken.index(to)]


def _report(provider: Provider, callback: str, sid: str, status: str, error: str = "") -> httpx.Response:
    form = {"MessageSid": sid, "MessageStatus": status, **({"ErrorCode": error} if error else {})}
    return _signed_post(provider, callback, form)


def _signed_post(provider: Provider, url: str, form: dict[str, str]) -> httpx.Response:
    """What the provider does: post ``form`` to ``url``, signed with the account's token."""
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": request_signature(provider.auth_token, url, form)})
