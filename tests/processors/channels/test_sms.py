"""The SMS channel against a real HTTP server answering like a CPaaS provider on 127.0.0.1:
the request it posts, how the provider's answers become call results, and the webhooks'
payloads (delivery reports, inbound replies)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from uuid import UUID

import pytest

from domain.codes import CallResult
from processors.channels.port import OutboundMessage
from processors.channels.sms import HttpSmsChannel, SmsSettings, delivery_report, inbound_reply
from tests.processors.channels import sms_provider
from tests.processors.channels.sms_provider import Answer, Provider

pytestmark = pytest.mark.integration

CALLBACK = "https://dialstream.example.test/api/v1/webhooks/sms/status"


def sms(n: int, to: str, body: str = "Your code is 1234") -> OutboundMessage:
    return OutboundMessage(UUID(int=n), "sms", to, "+12125550000", body)


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def channel(provider: Provider) -> Iterator[HttpSmsChannel]:
    with sms_provider.running(provider) as url:
        channel = HttpSmsChannel(SmsSettings(url, provider.account_sid, provider.auth_token, status_callback=CALLBACK))
        yield channel
        channel.close()


def test_the_request_is_a_form_post_to_the_accounts_messages_with_basic_auth(
    provider: Provider, channel: HttpSmsChannel
) -> None:
    result = channel.send(sms(1, "+351912345678", "Olá Ana, 120.50 € due & payable"))

    assert result.accepted and result.message_id == provider.sids[0]
    [request] = provider.requests
    assert request.path == f"/2010-04-01/Accounts/{provider.account_sid}/Messages.json"
    assert request.content_type == "application/x-www-form-urlencoded"
    credentials = base64.b64decode(request.authorization.removeprefix("Basic ")).decode()
    assert credentials == f"{provider.account_sid}:{provider.auth_token}"
    assert request.form == {
        "To": "+351912345678",
        "From": "+12125550000",
        "Body": "Olá Ana, 120.50 € due & payable",
        "ValidityPeriod": "14400",
        "StatusCallback": CALLBACK,
    }


def test_without_a_status_callback_none_is_asked_for(provider: Provider) -> None:
    with sms_provider.running(provider) as url:
        channel = HttpSmsChannel(SmsSettings(url, provider.account_sid, provider.auth_token))
        assert channel.send(sms(1, "+12125550101")).accepted
        channel.close()

    assert "StatusCallback" not in provider.requests[0].form


def test_many_messages_share_one_connection(provider: Provider, channel: HttpSmsChannel) -> None:
    results = channel.send_many([sms(n, f"+1212555010{n}") for n in range(5)])

    assert [r.message_id for r in results] == provider.sids
    assert len({r.peer for r in provider.requests}) == 1


# The provider's answer to one number -> the failure, its call result, and what the reason quotes.
ANSWERS = [
    (Answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number"}), "invalid_address", CallResult.SIT_INVALID_NUMBER, "(400, code 21211): Invalid 'To' Phone Number"),
    (Answer(400, {"code": 21614, "message": "'To' number is not a valid mobile number"}), "invalid_address", CallResult.SIT_INVALID_NUMBER, "code 21614"),
    (Answer(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}), "opted_out", CallResult.DO_NOT_CALL, "unsubscribed recipient"),
    (Answer(400, {"code": 21408, "message": "Permission to send an SMS has not been enabled for the region"}), "rejected", CallResult.GENERAL_ERROR, "code 21408"),
    (Answer(429, {"code": 20429, "message": "Too Many Requests"}), "unavailable", CallResult.SYSTEM_ERROR, "Too Many Requests"),
    (Answer(500, {"code": 20500, "message": "Internal Server Error"}), "unavailable", CallResult.SYSTEM_ERROR, "(500, code 20500)"),
    (Answer(503, "upstream connect error"), "unavailable", CallResult.SYSTEM_ERROR, "(503): upstream connect error"),
    (Answer(201, {"status": "queued"}), "unavailable", CallResult.SYSTEM_ERROR, "answered 201 without a message sid"),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "failure", "call_result", "quoted"), ANSWERS)
def test_a_refusal_fails_only_its_message(answer: Answer, failure: str, call_result: CallResult, quoted: str) -> None:
    provider = Provider(answers={"+15005550009": answer})
    with sms_provider.running(provider) as url:
        channel = HttpSmsChannel(SmsSettings(url, provider.account_sid, provider.auth_token))
        before, refused, after = channel.send_many(
            [sms(1, "+12125550101"), sms(2, "+15005550009"), sms(3, "+12125550102")]
        )
        channel.close()

    assert before.accepted and after.accepted
    assert (refused.failure, refused.call_result) == (failure, call_result)
    assert quoted in refused.reason
    assert [r.form["To"] for r in provider.requests] == ["+12125550101", "+15005550009", "+12125550102"]


def test_credentials_the_provider_refuses_fail_with_a_network_code(provider: Provider) -> None:
    with sms_provider.running(provider) as url:
        channel = HttpSmsChannel(SmsSettings(url, provider.account_sid, "not-the-token"))
        result = channel.send(sms(1, "+12125550101"))
        channel.close()

    assert result.call_result == CallResult.SYSTEM_ERROR
    assert result.reason == "SMS provider refused (401, code 20003): Authenticate"


def test_a_provider_that_does_not_answer_in_time_fails_with_the_timeout() -> None:
    provider = Provider(answers={"+15005550009": Answer(201, {"sid": "SM-late"}, delay_s=1.5)})
    with sms_provider.running(provider) as url:
        channel = HttpSmsChannel(SmsSettings(url, provider.account_sid, provider.auth_token, timeout_s=0.3))
        late, next_one = channel.send_many([sms(1, "+15005550009"), sms(2, "+12125550101")])
        channel.close()

    assert late.call_result == CallResult.SYSTEM_ERROR
    assert "ReadTimeout" in late.reason and url in late.reason
    assert next_one.accepted


# A status callback's fields -> (message id, status, call result).
REPORTS = [
    ({"MessageSid": "SM1", "MessageStatus": "queued"}, "pending", None),
    ({"MessageSid": "SM1", "MessageStatus": "sent"}, "pending", None),
    ({"MessageSid": "SM1", "MessageStatus": "delivered"}, "delivered", CallResult.ANSWER),
    ({"MessageSid": "SM1", "MessageStatus": "read"}, "delivered", CallResult.ANSWER),
    ({"SmsSid": "SM1", "SmsStatus": "Delivered"}, "delivered", CallResult.ANSWER),
    ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}, "unreachable", CallResult.NO_ANSWER),
    ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30005"}, "undeliverable", CallResult.SIT_INVALID_NUMBER),
    ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30006"}, "undeliverable", CallResult.SIT_INVALID_NUMBER),
    ({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"}, "opted_out", CallResult.DO_NOT_CALL),
    ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30007"}, "failed", CallResult.GENERAL_ERROR),
    ({"MessageSid": "SM1", "MessageStatus": "failed"}, "failed", CallResult.GENERAL_ERROR),
    ({"MessageSid": "SM1", "MessageStatus": "canceled"}, "failed", CallResult.GENERAL_ERROR),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "status", "call_result"), REPORTS)
def test_delivery_reports_map_to_call_results(
    payload: dict[str, str], status: str, call_result: CallResult | None
) -> None:
    report = delivery_report(payload)

    assert report.message_id == "SM1"
    assert (report.status, report.call_result) == (status, call_result)
    assert report.detail.startswith(payload.get("MessageStatus") or payload["SmsStatus"])


def test_a_delivery_report_keeps_the_providers_error_code_in_its_detail() -> None:
    report = delivery_report({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30007"})
    assert report.detail == "undelivered, error 30007"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"MessageStatus": "delivered"}, "without MessageSid"),
        ({"MessageSid": "SM9"}, "for SM9 without MessageStatus"),
        ({"MessageSid": "SM9", "MessageStatus": "teleported"}, "unknown MessageStatus 'teleported'"),
    ],
)
def test_a_delivery_report_that_cannot_be_read_says_why(payload: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        delivery_report(payload)


def test_an_inbound_reply_names_the_contacts_number_and_says_whether_it_opts_out() -> None:
    stop = inbound_reply({"From": "+351912345678", "To": "+12125550000", "Body": " Stop ", "MessageSid": "SM2"})
    chat = inbound_reply({"From": "+351912345678", "To": "+12125550000", "Body": "Can you call me tomorrow?"})

    assert (stop.sender, stop.recipient, stop.text, stop.opts_out) == ("+351912345678", "+12125550000", " Stop ", True)
    assert not chat.opts_out


def test_an_inbound_reply_without_a_sender_is_refused() -> None:
    with pytest.raises(ValueError, match="without From"):
        inbound_reply({"To": "+12125550000", "Body": "STOP"})
    assert inbound_reply({"From": "+12125550101"}).text == ""


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"account_sid": ""}, "are required"),
        ({"auth_token": ""}, "are required"),
        ({"timeout_s": 0}, "must be positive"),
        ({"base_url": "http://api.example.test/2010-04-01"}, "must be https"),
        ({"base_url": "ftp://127.0.0.1/2010-04-01"}, "must be https"),
    ],
)
def test_settings_that_cannot_work_or_would_leak_the_token_are_refused(settings: dict[str, object], problem: str) -> None:
    values: dict[str, object] = {"base_url": "https://api.example.test", "account_sid": "AC1", "auth_token": "t"}
    with pytest.raises(ValueError, match=problem):
        SmsSettings(**(values | settings))  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["https://api.example.test/2010-04-01", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]/x"])
def test_https_or_a_provider_on_this_host(url: str) -> None:
    assert SmsSettings(url, "AC1", "t").messages_url == f"{url}/Accounts/AC1/Messages.json"
