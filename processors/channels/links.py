"""The public links a message carries back to us: an SMS's delivery-report callback and an
e-mail's unsubscribe link, both under the system's public URL (``DIALSTREAM_PUBLIC_URL``).

The callback names the account, record and attempt it reports on; the provider signs what it
posts with the account's token (:func:`processors.channels.sms.signed_by_provider`), so the
ids cannot be forged. The unsubscribe link names the account and the address, with a token
(HMAC-SHA256 with the system's link secret) that only we can make: nobody unsubscribes an
address they did not receive a message at. Pure apart from the secret it is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode
from uuid import UUID

STATUS_PATH = "/api/v1/channels/sms/status"
INBOUND_PATH = "/api/v1/channels/sms/inbound"
UNSUBSCRIBE_PATH = "/api/v1/channels/email/unsubscribe"


class MessageLinks:
    def __init__(self, public_url: str, secret: bytes):
        if not public_url.startswith(("https://", "http://")):
            raise ValueError(f"public URL {public_url!r} must be http(s)://host[:port][/prefix]")
        if len(secret) < 16:
            raise ValueError("the link secret must be at least 16 bytes")
        self.public_url = public_url.rstrip("/")
        self._secret = secret

    def status_callback(self, account_id: UUID, record_id: UUID, attempt_id: UUID) -> str:
        query = urlencode({"account": str(account_id), "record": str(record_id), "attempt": str(attempt_id)})
        return f"{self.public_url}{STATUS_PATH}?{query}"

    def inbound(self, account_id: UUID) -> str:
        """The URL to give the provider for replies to the account's numbers."""
        return f"{self.public_url}{INBOUND_PATH}?{urlencode({'account': str(account_id)})}"

    def unsubscribe(self, account_id: UUID, address: str) -> str:
        query = urlencode({"account": str(account_id), "address": address, "token": self.token(account_id, address)})
        return f"{self.public_url}{UNSUBSCRIBE_PATH}?{query}"

    def token(self, account_id: UUID, address: str) -> str:
        text = f"{account_id}\n{address.strip().lower()}".encode()
        digest = hmac.new(self._secret, text, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def unsubscribe_allowed(self, account_id: UUID, address: str, token: str) -> bool:
        return hmac.compare_digest(self.token(account_id, address), token)

    def url_of(self, path: str, query: str) -> str:
        """The public URL a request to ``path?query`` came in on (what the provider signed)."""
        return f"{self.public_url}{path}" + (f"?{query}" if query else "")
