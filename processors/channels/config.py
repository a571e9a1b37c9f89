"""The message channels' settings from one URL each, as the process is configured
(``DIALSTREAM_SMTP``, ``DIALSTREAM_SMS_PROVIDER``).

- SMTP: ``smtp://USER:PASSWORD@HOST[:PORT]`` (STARTTLS, port 587 by default),
  ``smtps://…`` (TLS from the first byte, port 465) or ``smtp+plain://HOST[:PORT]`` (no TLS
  and no login: a relay on this host or a trusted network, port 25); ``?envelope_sender=ADDR``
  sets the bounce address. User and password are percent-encoded where they need it.
- SMS: ``https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com/2010-04-01`` — the provider's API root,
  with the account's sid and token as the URL's user and password.

Each raises ValueError saying what is wrong, without the password.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from processors.channels.email import SmtpSettings, TlsMode
from processors.channels.sms import SmsSettings

_SMTP_SCHEMES: Final[dict[str, tuple[TlsMode, int]]] = {
    "smtp": ("starttls", 587),
    "smtps": ("implicit", 465),
    "smtp+plain": ("none", 25),
}


def smtp_from_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in _SMTP_SCHEMES:
        raise ValueError(f"an SMTP server is {' or '.join(s + '://' for s in _SMTP_SCHEMES)}HOST[:PORT], not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError("the SMTP URL names no host")
    tls, default_port = _SMTP_SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number from 1 to 65535") from None
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"envelope_sender"}
    if unknown:
        raise ValueError(f"unknown SMTP option(s) {', '.join(sorted(unknown))} (known: envelope_sender)")
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        envelope_sender=query.get("envelope_sender"),
    )


def sms_from_url(url: str) -> SmsSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("an SMS provider is https://ACCOUNT_SID:AUTH_TOKEN@HOST/API_ROOT")
    if not parts.username or not parts.password:
        raise ValueError("the SMS provider URL needs the account sid and auth token as ACCOUNT_SID:AUTH_TOKEN@")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    try:
        netloc = host + (f":{parts.port}" if parts.port else "")
    except ValueError:
        raise ValueError("the SMS provider URL's port is not a number from 1 to 65535") from None
    return SmsSettings(
        base_url=f"{parts.scheme}://{netloc}{parts.path}",
        account_sid=unquote(parts.username),
        auth_token=unquote(parts.password),
    )
