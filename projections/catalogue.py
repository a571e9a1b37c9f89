"""catalogue: what is the current state of each account, profile, template, group and list?

Each row holds one aggregate's state as msgspec JSON, folded with the same ``evolve``
functions the aggregates use, so the API reads without replaying the event store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec

from domain import (
    account,
    campaign_group,
    campaign_template,
    contact_list,
    data_mapping,
    dialing_profile,
    list_automation,
    session_profile,
    specification_file,
    upload_rule,
)
from domain.account import Account
from domain.campaign_group import CampaignGroup
from domain.campaign_template import CampaignTemplate
from domain.contact_list import ContactList
from domain.profile import Profile
from projections.sql import Cursor, Database
from schemas import automation, campaigns, list_rules, lists, profiles, settings, topics
from schemas.base import Event
from schemas.profiles import DialingSettings, SessionSettings

ACCOUNT = "account"
DIALING_PROFILE = "dialing-profile"
SESSION_PROFILE = "session-profile"
CAMPAIGN_TEMPLATE = "campaign-template"
CAMPAIGN_GROUP = "campaign-group"
CONTACT_LIST = "contact-list"

STATE_TYPES: dict[str, type[Any]] = {
    ACCOUNT: Account,
    DIALING_PROFILE: Profile[DialingSettings],
    SESSION_PROFILE: Profile[SessionSettings],
    CAMPAIGN_TEMPLATE: CampaignTemplate,
    CAMPAIGN_GROUP: CampaignGroup,
    CONTACT_LIST: ContactList,
}
EVOLVE: dict[str, Callable[[Any, Event], Any]] = {
    ACCOUNT: account.evolve,
    DIALING_PROFILE: dialing_profile.KIND.evolve,
    SESSION_PROFILE: session_profile.KIND.evolve,
    CAMPAIGN_TEMPLATE: campaign_template.evolve,
    CAMPAIGN_GROUP: campaign_group.evolve,
    CONTACT_LIST: contact_list.evolve,
}
# The event that creates each kind; later events find the kind on the existing row.
CREATED_BY: dict[type[Event], str] = {
    settings.AccountOpened: ACCOUNT,
    profiles.DialingProfileCreated: DIALING_PROFILE,
    profiles.SessionProfileCreated: SESSION_PROFILE,
    campaigns.CampaignTemplateCreated: CAMPAIGN_TEMPLATE,
    campaigns.CampaignGroupCreated: CAMPAIGN_GROUP,
    lists.ContactListCreated: CONTACT_LIST,
}
# The stored objects of list import (topic lists).
SPECIFICATION_FILE = specification_file.KIND
DATA_MAPPING = data_mapping.KIND
UPLOAD_RULE = upload_rule.KIND
STATE_TYPES.update(
    {
        SPECIFICATION_FILE: specification_file.SpecificationFile,
        DATA_MAPPING: data_mapping.DataMapping,
        UPLOAD_RULE: upload_rule.UploadRule,
    }
)
EVOLVE.update(
    {
        SPECIFICATION_FILE: specification_file.evolve,
        DATA_MAPPING: data_mapping.evolve,
        UPLOAD_RULE: upload_rule.evolve,
    }
)
CREATED_BY.update(
    {
        list_rules.SpecificationFileCreated: SPECIFICATION_FILE,
        list_rules.DataMappingCreated: DATA_MAPPING,
        list_rules.UploadRuleCreated: UPLOAD_RULE,
    }
)
# List automation jobs (topic automation).
LIST_AUTOMATION = list_automation.KIND
STATE_TYPES[LIST_AUTOMATION] = list_automation.ListAutomation
EVOLVE[LIST_AUTOMATION] = list_automation.evolve
CREATED_BY[automation.ListAutomationCreated] = LIST_AUTOMATION
_decoders = {kind: msgspec.json.Decoder(state_type) for kind, state_type in STATE_TYPES.items()}
_encoder = msgspec.json.Encoder()


def display_name(state: Any) -> str:
    if isinstance(state, Account):
        return state.settings.general.account_name
    return str(state.name)


def is_gone(state: Any) -> bool:
    return bool(getattr(state, "deleted", False))


class Catalogue:
    name = "catalogue"
    tables: tuple[str, ...] = ("catalogue",)
    topics: tuple[str, ...] = (topics.SETTINGS, topics.PROFILES, topics.CAMPAIGNS, topics.LISTS, topics.AUTOMATION)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS catalogue ("
            "id TEXT PRIMARY KEY, account_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "name TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, "
            "body TEXT NOT NULL)"
        )
        cursor.execute("CREATE INDEX IF NOT EXISTS catalogue_by_kind ON catalogue (account_id, kind, name)")

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        kind = CREATED_BY.get(type(event))
        state: Any = None
        if kind is None:
            cursor.execute("SELECT kind, body FROM catalogue WHERE id = ?", (str(event.originator_id),))
            row = cursor.fetchone()
            if row is None:
                return  # not a catalogued aggregate (a name claim, say)
            kind = str(row[0])
            state = _decoders[kind].decode(row[1])
        state = EVOLVE[kind](state, event)
        if state is None:
            return
        cursor.execute(
            "INSERT INTO catalogue (id, account_id, kind, name, version, deleted, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "name = excluded.name, version = excluded.version, deleted = excluded.deleted, "
            "body = excluded.body",
            (
                str(state.id),
                str(state.account_id),
                kind,
                display_name(state),
                state.version,
                int(is_gone(state)),
                _encoder.encode(state).decode(),
            ),
        )


# Decoded bodies kept by kind and id (see CatalogueQueries._decoded).
KEPT_DECODED = 1_000


class CatalogueQueries:
    def __init__(self, db: Database):
        self.db = db
        self._kept: dict[tuple[str, UUID], tuple[str, Any]] = {}

    def get(self, account_id: UUID, kind: str, object_id: UUID) -> Any | None:
        """The object, or None when missing, deleted, or another account's."""
        rows = self.db.select(
            "SELECT body FROM catalogue WHERE id = ? AND account_id = ? AND kind = ? AND deleted = 0",
            (str(object_id), str(account_id), kind),
        )
        return self._decoded(kind, object_id, rows[0][0]) if rows else None

    def _decoded(self, kind: str, object_id: UUID, body: str) -> Any:
        """The state of a body read before is the object decoded then: states are immutable,
        and the dialer and the pre-dial gate read the same account and group at every step (an
        account's decode was half of the gate's reading of its settings)."""
        key = (kind, object_id)
        kept = self._kept.get(key)
        if kept is not None and kept[0] == body:
            return kept[1]
        state = _decoders[kind].decode(body)
        if len(self._kept) >= KEPT_DECODED:
            self._kept.clear()
        self._kept[key] = (body, state)
        return state

    def list_kind(self, account_id: UUID, kind: str) -> list[Any]:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body FROM catalogue WHERE account_id = ? AND kind = ? AND deleted = 0 ORDER BY name",
                (str(account_id), kind),
            )
            rows = cursor.fetchall()
        return [_decoders[kind].decode(row[0]) for row in rows]

    def of_kind(self, kind: str) -> list[Any]:
        """Every account's objects of ``kind`` (the dialer looks for the groups to run)."""
        with self.db.reading() as cursor:
            cursor.execute("SELECT body FROM catalogue WHERE kind = ? AND deleted = 0", (kind,))
            rows = cursor.fetchall()
        return [_decoders[kind].decode(row[0]) for row in rows]

    def accounts(self) -> list[Account]:
        with self.db.reading() as cursor:
            cursor.execute("SELECT body FROM catalogue WHERE kind = ? ORDER BY name", (ACCOUNT,))
            rows = cursor.fetchall()
        return [_decoders[ACCOUNT].decode(row[0]) for row in rows]
