"""credentials: which account and role does this API key belong to, and is it revoked?"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from projections.sql import Cursor, Database
from schemas import topics
from schemas.base import Event
from schemas.settings import ApiKeyIssued, ApiKeyRevoked


@dataclass(frozen=True)
class Credential:
    key_id: UUID
    account_id: UUID
    name: str
    role: str
    prefix: str
    revoked: bool


class Credentials:
    name = "credentials"
    tables: tuple[str, ...] = ("api_keys",)
    topics: tuple[str, ...] = (topics.SETTINGS,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS api_keys ("
            "secret_sha256 TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, "
            "account_id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, "
            "prefix TEXT NOT NULL, revoked INTEGER NOT NULL)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        if isinstance(event, ApiKeyIssued):
            cursor.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                (
                    event.secret_sha256,
                    str(event.key_id),
                    str(event.account_id),
                    event.name,
                    event.role,
                    event.prefix,
                ),
            )
        elif isinstance(event, ApiKeyRevoked):
            cursor.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (str(event.key_id),))


class CredentialQueries:
    def __init__(self, db: Database):
        self.db = db

    def by_secret_hash(self, secret_sha256: str) -> Credential | None:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT key_id, account_id, name, role, prefix, revoked FROM api_keys "
                "WHERE secret_sha256 = ?",
                (secret_sha256,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return Credential(UUID(row[0]), UUID(row[1]), row[2], row[3], row[4], bool(row[5]))

    def for_account(self, account_id: UUID) -> list[Credential]:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT key_id, account_id, name, role, prefix, revoked FROM api_keys "
                "WHERE account_id = ? ORDER BY name",
                (str(account_id),),
            )
            rows = cursor.fetchall()
        return [Credential(UUID(r[0]), UUID(r[1]), r[2], r[3], r[4], bool(r[5])) for r in rows]
