"""Given / when / then helpers for the aggregate tests.

``given`` folds a history of events (built with :func:`ev`, numbered by :func:`stream`)
with an aggregate's ``project``; ``expected`` builds an event as a decision made at
:data:`NOW` should record it; :func:`assert_events` compares and also checks that every
emitted event survives the wire contract (encode, then decode by tag and version).
The ``*_history`` builders write histories by hand, never by calling the decisions under
test, so a broken decision cannot hide a broken given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import pytest

from domain import (
    account,
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    name_claim,
    record_chain,
    session_profile,
)
from domain.errors import DomainError
from schemas import registry
from schemas.base import Event
from schemas.campaigns import (
    CampaignGroupCreated,
    CampaignGroupDeleted,
    CampaignGroupPaused,
    CampaignGroupStarted,
    CampaignGroupStopped,
    CampaignTemplateCreated,
    CampaignTemplateDeleted,
    CampaignTemplateReferenced,
    DialingOverrides,
    SessionOverrides,
)
from schemas.lists import (
    ContactListArchived,
    ContactListAssigned,
    ContactListCreated,
    ContactListSettings,
)
from schemas.profiles import (
    DialingProfileCreated,
    DialingProfileDeleted,
    DialingSettings,
    ProfileReferenced,
    SessionProfileCreated,
    SessionProfileDeleted,
    SessionSettings,
)
from schemas.records import Record
from schemas.settings import (
    AccountOpened,
    AccountSettings,
    ApiKeyIssued,
    ApiKeyRevoked,
    DefaultDialingProfileChosen,
    DefaultSessionProfileChosen,
    EncryptionSettings,
    GeneralSettings,
    NameClaimed,
    NameReleased,
    PublicKey,
    PublicKeyImported,
    SecuritySettings,
    SecuritySettingsChanged,
)

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
EARLIER = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

ACCOUNT_ID = UUID("0a000000-0000-4000-8000-000000000001")
DIALING_ID = UUID("0d000000-0000-4000-8000-000000000001")
OTHER_DIALING_ID = UUID("0d000000-0000-4000-8000-000000000002")
SESSION_ID = UUID("05000000-0000-4000-8000-000000000001")
OTHER_SESSION_ID = UUID("05000000-0000-4000-8000-000000000002")
TEMPLATE_ID = UUID("07000000-0000-4000-8000-000000000001")
OTHER_TEMPLATE_ID = UUID("07000000-0000-4000-8000-000000000002")
GROUP_ID = UUID("06000000-0000-4000-8000-000000000001")
OTHER_GROUP_ID = UUID("06000000-0000-4000-8000-000000000002")
LIST_ID = UUID("01000000-0000-4000-8000-000000000001")
LIST_2_ID = UUID("01000000-0000-4000-8000-000000000002")
LIST_3_ID = UUID("01000000-0000-4000-8000-000000000003")
KEY_ID = UUID("0c000000-0000-4000-8000-000000000001")
KEY_2_ID = UUID("0c000000-0000-4000-8000-000000000002")
KEY_3_ID = UUID("0c000000-0000-4000-8000-000000000003")

ACCOUNT_NAME = "Acme Collections"

DEFAULT_DIALING = DialingSettings()
DEFAULT_SESSION = SessionSettings(agent_group="Collections Team A")
NO_DIALING_OVERRIDES = DialingOverrides()
NO_SESSION_OVERRIDES = SessionOverrides()
VOICE_LIST = ContactListSettings()


class Spec(NamedTuple):
    """An event still to be placed in a stream: its class and its own fields."""

    cls: type[Event]
    fields: dict[str, Any]


def ev(cls: type[Event], **fields: Any) -> Spec:
    return Spec(cls, fields)


def stream(
    aggregate_id: UUID, *specs: Spec, start: int = 1, when: datetime = EARLIER
) -> list[Event]:
    """The events of one aggregate, numbered from ``start``, all at ``when``."""
    return [
        spec.cls(
            originator_id=aggregate_id,
            originator_version=start + index,
            timestamp=when,
            account_id=ACCOUNT_ID,
            **spec.fields,
        )
        for index, spec in enumerate(specs)
    ]


def given(project: Callable[[Any, Iterable[Event]], Any], events: Iterable[Event]) -> Any:
    return project(None, events)


def expected(aggregate_id: UUID, version: int, cls: type[Event], **fields: Any) -> Event:
    return cls(
        originator_id=aggregate_id,
        originator_version=version,
        timestamp=NOW,
        account_id=ACCOUNT_ID,
        **fields,
    )


def assert_events(actual: list[Event], wanted: list[Event]) -> None:
    assert actual == wanted
    for event in actual:
        decoded = registry.decode(event.tag(), event.SCHEMA_VERSION, registry.encode(event))
        assert decoded == event, f"{event.tag()} does not survive encode/decode"


@contextmanager
def refused(error: type[DomainError], field: str | None) -> Iterator[Any]:
    """The decision inside raises ``error`` naming ``field``."""
    with pytest.raises(error) as info:
        yield info
    assert info.value.field == field, info.value.detail


# Account --------------------------------------------------------------------------------


def public_key(
    fingerprint: str = "9F2C 44B1 0E7A 3D58 C6A1  2B90 71E4 5D3C 88AF 0B12",
    *,
    algorithm: str = "rsa4096",
    expires_at: datetime | None = None,
    user_id: str = "list-builder@acme.example",
) -> PublicKey:
    return PublicKey(
        fingerprint=fingerprint,
        user_id=user_id,
        key_type="pub",
        algorithm=algorithm,
        uploaded_at=EARLIER,
        expires_at=expires_at,
        armored="-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGXk...\n-----END PGP PUBLIC KEY BLOCK-----\n",
    )


def account_history(
    *,
    keys: Iterable[PublicKey] = (),
    encryption: bool = False,
    api_keys: Iterable[tuple[UUID, str, bool]] = (),
    default_dialing: UUID | None = None,
    default_session: UUID | None = None,
) -> list[Event]:
    """An opened account; ``api_keys`` are (key_id, role, revoked)."""
    specs = [ev(AccountOpened, settings=AccountSettings(general=GeneralSettings(account_name=ACCOUNT_NAME)))]
    specs += [ev(PublicKeyImported, key=key) for key in keys]
    if encryption:
        specs.append(
            ev(SecuritySettingsChanged, security=SecuritySettings(encryption=EncryptionSettings(enabled=True)))
        )
    for key_id, role, revoked in api_keys:
        specs.append(
            ev(
                ApiKeyIssued, key_id=key_id, name=f"{role} key", role=role,
                secret_sha256="ab" * 32, prefix="dsk_AbCd",
            )
        )
        if revoked:
            specs.append(ev(ApiKeyRevoked, key_id=key_id))
    if default_dialing is not None:
        specs.append(ev(DefaultDialingProfileChosen, profile_id=default_dialing))
    if default_session is not None:
        specs.append(ev(DefaultSessionProfileChosen, profile_id=default_session))
    return stream(ACCOUNT_ID, *specs)


def an_account(**options: Any) -> account.Account:
    state: account.Account = given(account.project, account_history(**options))
    return state


# Name claims ----------------------------------------------------------------------------


def a_claim(kind: str, name: str, owner_id: UUID, *, released: bool = False) -> name_claim.NameClaim:
    claim_id = name_claim.claim_id(ACCOUNT_ID, kind, name)
    specs = [ev(NameClaimed, kind=kind, name=name, owner_id=owner_id)]
    if released:
        specs.append(ev(NameReleased, kind=kind, name=name, owner_id=owner_id))
    state: name_claim.NameClaim = given(name_claim.project, stream(claim_id, *specs))
    return state


def claim_event(kind: str, name: str, owner_id: UUID, version: int = 1) -> Event:
    return expected(
        name_claim.claim_id(ACCOUNT_ID, kind, name), version, NameClaimed,
        kind=kind, name=name, owner_id=owner_id,
    )


def release_event(kind: str, name: str, owner_id: UUID, version: int = 2) -> Event:
    return expected(
        name_claim.claim_id(ACCOUNT_ID, kind, name), version, NameReleased,
        kind=kind, name=name, owner_id=owner_id,
    )


# Profiles -------------------------------------------------------------------------------


def a_dialing_profile(
    profile_id: UUID = DIALING_ID,
    name: str = "Morning predictive",
    *,
    settings: DialingSettings = DEFAULT_DIALING,
    used_by: Iterable[UUID] = (),
    deleted: bool = False,
) -> Any:
    specs = [ev(DialingProfileCreated, name=name, description="", settings=settings)]
    specs += [ev(ProfileReferenced, by_id=by_id) for by_id in used_by]
    if deleted:
        specs.append(ev(DialingProfileDeleted))
    return given(dialing_profile.project, stream(profile_id, *specs))


def a_session_profile(
    profile_id: UUID = SESSION_ID,
    name: str = "Voice floor 1",
    *,
    settings: SessionSettings = DEFAULT_SESSION,
    used_by: Iterable[UUID] = (),
    deleted: bool = False,
) -> Any:
    specs = [ev(SessionProfileCreated, name=name, description="", settings=settings)]
    specs += [ev(ProfileReferenced, by_id=by_id) for by_id in used_by]
    if deleted:
        specs.append(ev(SessionProfileDeleted))
    return given(session_profile.project, stream(profile_id, *specs))


# Campaign templates ---------------------------------------------------------------------


def a_template(
    template_id: UUID = TEMPLATE_ID,
    name: str = "Collections Q2",
    *,
    dialing_overrides: DialingOverrides = NO_DIALING_OVERRIDES,
    session_overrides: SessionOverrides = NO_SESSION_OVERRIDES,
    used_by: Iterable[UUID] = (),
    deleted: bool = False,
) -> campaign_template.CampaignTemplate:
    specs = [
        ev(
            CampaignTemplateCreated, name=name, description="Second-quarter collections",
            dialing_profile_id=DIALING_ID, session_profile_id=SESSION_ID,
            dialing_overrides=dialing_overrides, session_overrides=session_overrides,
        )
    ]
    specs += [ev(CampaignTemplateReferenced, by_id=by_id) for by_id in used_by]
    if deleted:
        specs.append(ev(CampaignTemplateDeleted))
    state: campaign_template.CampaignTemplate = given(
        campaign_template.project, stream(template_id, *specs)
    )
    return state


# Contact lists --------------------------------------------------------------------------


def a_list(
    list_id: UUID = LIST_ID,
    name: str = "March arrears",
    *,
    settings: ContactListSettings = VOICE_LIST,
    groups: Iterable[UUID] = (),
    archived: bool = False,
) -> contact_list.ContactList:
    specs = [ev(ContactListCreated, name=name, description="", settings=settings)]
    specs += [ev(ContactListAssigned, campaign_group_id=group_id) for group_id in groups]
    if archived:
        specs.append(ev(ContactListArchived))
    state: contact_list.ContactList = given(contact_list.project, stream(list_id, *specs))
    return state


# Campaign groups ------------------------------------------------------------------------

# The status events that lead from "loaded" to each status.
STATUS_PATH: dict[str, tuple[type[Event], ...]] = {
    "loaded": (),
    "running": (CampaignGroupStarted,),
    "paused": (CampaignGroupStarted, CampaignGroupPaused),
    "stopped": (CampaignGroupStarted, CampaignGroupStopped),
}


def a_group(
    group_id: UUID = GROUP_ID,
    name: str = "Collections Q2 - wave 1",
    *,
    status: str = "loaded",
    list_ids: Iterable[UUID] = (LIST_ID,),
    agent_group: str = "Collections Team A",
    deleted: bool = False,
) -> campaign_group.CampaignGroup:
    specs = [
        ev(
            CampaignGroupCreated, name=name, description="", template_id=TEMPLATE_ID,
            agent_group=agent_group, contact_list_ids=list(list_ids),
            dialing_overrides=DialingOverrides(), session_overrides=SessionOverrides(),
        )
    ]
    specs += [ev(cls) for cls in STATUS_PATH[status]]
    if deleted:
        specs.append(ev(CampaignGroupDeleted))
    state: campaign_group.CampaignGroup = given(campaign_group.project, stream(group_id, *specs))
    return state


def a_record(chain_id: UUID, chain_n: int, **fields: Any) -> Record:
    """Record ``chain_n`` of chain ``chain_id``: a New York number, fresh unless ``fields`` say."""
    values: dict[str, Any] = dict(
        record_id=record_chain.record_id(chain_id, chain_n),
        chain_n=chain_n,
        contact_info=f"+1212555010{chain_n}",
        contact_info_type=1,
        time_zone="America/New_York",
        time_zone_rule="device",
    )
    values.update(fields)
    return Record(**values)
