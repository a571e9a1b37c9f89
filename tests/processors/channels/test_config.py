"""The message channels' settings from their URLs (DIALSTREAM_SMTP, DIALSTREAM_SMS_PROVIDER),
and a setting that cannot work named by its variable before anything is stored."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import messaging
from dialstream.settings import Settings, SettingsError
from processors.channels.config import sms_from_url, smtp_from_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://billing%40acme.example:s%3Acret@mail.acme.example", ("mail.acme.example", 587, "starttls", "billing@acme.example", "s:cret")),
        ("smtps://u:p@mail.acme.example:2465", ("mail.acme.example", 2465, "implicit", "u", "p")),
        ("smtp+plain://127.0.0.1", ("127.0.0.1", 25, "none", None, None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    s = smtp_from_url(url)
    assert (s.host, s.port, s.tls, s.username, s.password) == expected


def test_the_bounce_address_is_an_option() -> None:
    assert smtp_from_url("smtp+plain://relay?envelope_sender=bounces@acme.example").envelope_sender == "bounces@acme.example"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.acme.example", "an SMTP server is smtp://"),
        ("smtp://", "names no host"),
        ("smtp://mail:99999", "port"),
        ("smtp://mail?retries=3", "unknown SMTP option(s) retries"),
        ("smtp+plain://u:p@mail", "a password is never sent in clear"),
    ],
)
def test_smtp_urls_that_cannot_work(url: str, problem: str) -> None:
    with pytest.raises(ValueError) as refused:
        smtp_from_url(url)
    assert problem in str(refused.value)


def test_sms_provider_url() -> None:
    s = sms_from_url("https://AC123:tok%2Fen@api.twilio.com/2010-04-01")
    assert (s.base_url, s.account_sid, s.auth_token) == ("https://api.twilio.com/2010-04-01", "AC123", "tok/en")
    assert "tok" not in repr(s)
    with pytest.raises(ValueError, match="account sid and auth token"):
        sms_from_url("https://api.twilio.com/2010-04-01")
    with pytest.raises(ValueError, match="must be https"):
        sms_from_url("http://AC1:t@api.example.com/2010-04-01")  # the token would travel in clear


def test_a_channel_setting_that_cannot_work_is_named_by_its_variable(tmp_path: Path) -> None:
    env = {"DIALSTREAM_DATA_DIR": str(tmp_path / "data"), "DIALSTREAM_SMTP": "smtp://u:p@mail:0x"}
    with pytest.raises(SettingsError, match=r"^DIALSTREAM_SMTP: .*port"):
        messaging(Settings.from_env(env))
    env = {"DIALSTREAM_DATA_DIR": str(tmp_path / "data"), "DIALSTREAM_PUBLIC_URL": "dial.example"}
    with pytest.raises(SettingsError, match=r"^DIALSTREAM_PUBLIC_URL: "):
        messaging(Settings.from_env(env))


def test_the_link_secret_is_kept_in_the_data_dir_when_not_given(tmp_path: Path) -> None:
    settings = Settings.from_env({"DIALSTREAM_DATA_DIR": str(tmp_path), "DIALSTREAM_PUBLIC_URL": "https://dial.example"})
    first, again = messaging(settings).links, messaging(settings).links
    assert first is not None and again is not None
    link = first.unsubscribe(UUID(int=1), "ann@example.com")
    assert link == again.unsubscribe(UUID(int=1), "ann@example.com")  # the same secret after a restart
    assert (tmp_path / "link-secret").stat().st_mode & 0o077 == 0  # readable by its owner only
