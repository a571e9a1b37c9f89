"""One realistic instance of every event class of the contract, for golden files and schemas.

Add a sample here when you add an event class or a schema version; the golden-file test
refuses an event class without a golden file, and writes one from its sample only when
``DIALSTREAM_WRITE_GOLDEN=1`` is set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from schemas import attempts, campaigns, imports, lists, profiles, records, settings
from schemas.base import Event
from tests.schemas.agent_samples import AGENT_SPECS
from tests.schemas.automation_samples import AUTOMATION_SPECS
from tests.schemas.list_rule_samples import LIST_RULE_SPECS
from tests.schemas.suppression_samples import SUPPRESSION_SPECS

AT = datetime(2025, 3, 14, 9, 30, 12, 250000, tzinfo=UTC)
ACCOUNT = UUID("6f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f")
DIALING = UUID("2b8e5f0c-1d4a-4f6b-8c9d-7e6f5a4b3c2d")
SESSION = UUID("9a7b6c5d-4e3f-4a1b-8c2d-1e0f9a8b7c6d")
TEMPLATE = UUID("c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f")
GROUP = UUID("d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70")
LIST_1 = UUID("e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7081")
RECORD_ATTEMPTS = UUID("f6a7b8c9-d0e1-4f2a-8b3c-4d5e6f708193")  # a record's id
CALL = UUID("5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b")  # an attempt to that record
AGENT_ON_CALL = UUID("7e1a644f-1953-5944-a01e-58a2fd190393")
LIST_2 = UUID("f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f708192")
API_KEY = UUID("0718293a-4b5c-4d6e-8f70-8192a3b4c5d6")
CLAIM = UUID("5c0e4b1e-8f2a-5d3b-9c4e-6a7b8c9d0e1f")

GENERAL = settings.GeneralSettings(
    account_name="Acme Collections",
    caller_id="+13125550100",
    dap_name="OCS_DAP_Chicago",
    format_name="CXContact_Format",
    disposition_codes="Acme_Disposition_Codes",
)
REGION = settings.RegionSettings(
    country_code="US", time_zone="America/Chicago", locale="en-US", reports_time_zone="America/Chicago"
)
LISTS = settings.ListSettings(
    default_time_zone="America/Chicago",
    default_region="US",
    default_time_zone_on_error="America/New_York",
    max_split_lists=20,
)
SECURITY = settings.SecuritySettings(
    minimum_password_length=12,
    auto_sign_out_minutes=15,
    strict_sign_out=True,
    encryption=settings.EncryptionSettings(
        enabled=True,
        secure_all_contact_lists=True,
        secure_all_suppression_lists=True,
        secure_analytics_reports=False,
    ),
)
PACING = settings.PacingSettings(
    target_abandon_rate=3.0,
    abandon_call_definition_seconds=2,
    max_attempts_per_minute=settings.MaxAttemptsPerMinute(voice=600, sms=1200, email=3000),
)
COMPLIANCE = settings.ComplianceSettings(
    default=settings.RegionCompliance(
        hours=settings.WeeklyHours(
            daily=settings.CallingHours(opens="08:00", closes="21:00"),
            weekdays={"sunday": settings.CallingHours(opens="12:00", closes="18:00")},
        ),
        holidays=(date(2025, 12, 25), date(2026, 1, 1)),
    ),
    regions={
        "US-FL": settings.RegionCompliance(
            hours=settings.WeeklyHours(
                daily=settings.CallingHours(opens="08:00", closes="20:00"), weekdays={"sunday": None}
            ),
            holidays=(date(2025, 11, 27),),
        ),
        "GB": settings.RegionCompliance(blocked_dates=(date(2025, 12, 26),)),
    },
    attempt_rules=(
        settings.AttemptRuleSettings(name="three a day", max_attempts=3, by="both"),
        settings.AttemptRuleSettings(
            name="one in 72 h",
            max_attempts=1,
            by="device",
            in_last_hours=72,
            required=False,
            campaign_groups=("Collections Q2",),
        ),
    ),
)
PUBLIC_KEY = settings.PublicKey(
    fingerprint="9F2C44B10E7A3D58C6A12B9071E45D3C88AF0B12",
    user_id="list-builder@acme.example",
    key_type="pub",
    algorithm="rsa4096",
    uploaded_at=AT,
    expires_at=datetime(2027, 3, 14, 0, 0, tzinfo=UTC),
    armored=(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
        "mQINBGXkT2sBEADJ7pX0n3v1Yq8mXrB4fZ2u9Wq3hLk5Jd0sQ8rT6yV1bN4cM7eP\n"
        "=Xk2Q\n-----END PGP PUBLIC KEY BLOCK-----\n"
    ),
)
DIALING_SETTINGS = profiles.DialingSettings(
    dialing_mode="predictive",
    caller_id="+13125550100",
    pacing=profiles.Pacing(
        lines_per_agent=1.5,
        optimization_method="overdial_rate",
        optimization_goal=3.0,
        ring_timeout_seconds=25,
        answering_machine_detection=True,
        max_attempts_per_minute=600,
    ),
    filtering=profiles.Filtering(
        selection_rule="balance_due > 100 AND state != 'TX'",
        sort=[
            profiles.SortField(field="balance_due", descending=True),
            profiles.SortField(field="last_payment"),
        ],
        max_attempts=8,
    ),
    treatments=[
        profiles.Treatment(
            call_result=28,
            sequence=1,
            action="retry_in",
            retry_count=3,
            interval_minutes=30,
            increment_minutes=15,
        ),
        profiles.Treatment(call_result=7, sequence=1, action="next_in_chain"),
        profiles.Treatment(call_result=9, sequence=2, action="mark_agent_error", retry_count=0),
    ],
)
SESSION_SETTINGS = profiles.SessionSettings(
    channel="voice",
    agent_group="Collections Team A",
    trunk_group="TG_Chicago_SIP",
    destination_dn="RP_7001",
    stat_server="StatServer_OCS",
    other_servers=["TServer_SIP_Chicago", "InteractionServer_1"],
    ivr_profile="IVR_Collections",
    interaction_queue="",
    options=profiles.OptionSections(
        campaign_group={
            "OCServer": {"predictive_algorithm": "small_group", "call_wait_queue_connect_timeout": "5"}
        },
        contact_list={"Default": {"treatment_sched_threshold": "30"}},
        campaign={},
    ),
)
DIALING_OVERRIDES = campaigns.DialingOverrides(
    dialing_mode="progressive",
    pacing=profiles.Pacing(lines_per_agent=1.2, ring_timeout_seconds=30),
)
SESSION_OVERRIDES = campaigns.SessionOverrides(agent_group="Collections Team B", trunk_group="TG_Dallas_SIP")
LIST_SETTINGS = lists.ContactListSettings(
    channel="voice",
    time_zones=lists.TimeZoneOptions(
        source="contact_then_device",
        use_custom_time_zones=True,
        custom_time_zones=[
            lists.CustomTimeZone(country_code="US", area_code="312", time_zone="America/Chicago"),
            lists.CustomTimeZone(country_code="CA", area_code="604", time_zone="America/Vancouver"),
        ],
    ),
    retention=lists.Retention(days=90, scope="not_in_progress"),
)
GROUP_FIELDS: dict[str, Any] = dict(
    name="Collections Q2 - wave 1",
    description="Early-stage arrears, weekdays 9-17 local time",
    agent_group="Collections Team A",
    contact_list_ids=[LIST_1, LIST_2],
    dialing_overrides=DIALING_OVERRIDES,
    session_overrides=SESSION_OVERRIDES,
)
TEMPLATE_FIELDS: dict[str, Any] = dict(
    name="Collections Q2",
    description="Second-quarter collections, predictive",
    dialing_profile_id=DIALING,
    session_profile_id=SESSION,
    dialing_overrides=DIALING_OVERRIDES,
    session_overrides=SESSION_OVERRIDES,
)

# class -> (aggregate id, aggregate version, the event's own fields)
JOB = UUID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
CHAIN = UUID("b2c3d4e5-f6a7-5b8c-9d0e-1f2a3b4c5d6e")
COUNTS = imports.Counts(
    rows=1000, imported=990, updated=0, ignored=4, rejected=6, flushed=0, records=1930, dropped=3
)
FIELDS = [
    imports.FieldMap(column="Customer", field="client_id"),
    imports.FieldMap(column="Home", field="contact_info", contact_info_type=1),
    imports.FieldMap(column="Mobile", field="contact_info", contact_info_type=4),
    imports.FieldMap(column="Balance", field="custom:balance", label="Balance due"),
]
IMPORT_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    imports.ImportRequested: (
        JOB,
        1,
        dict(
            list_id=LIST_1,
            file_name="march-arrears.csv",
            stored_as=f"imports/{JOB}/upload",
            size=184_320,
            layout=imports.FileLayout(delimiter=";", columns=[]),
            fields=FIELDS,
            rules=imports.RowRules(
                append_type="append_and_update",
                phone_region="US",
                time_zone_source="contact_then_device",
                custom_time_zones=[
                    lists.CustomTimeZone(country_code="US", area_code="312", time_zone="America/Chicago")
                ],
                default_time_zone="America/New_York",
                default_time_zone_on_error="America/Chicago",
            ),
        ),
    ),
    imports.ImportStarted: (
        JOB,
        2,
        dict(
            list_id=LIST_1,
            runner="worker-1:4242:9f8e7d6c",
            columns=["Customer", "Home", "Mobile", "Balance"],
            dialect="delimiter ';', quote '\"', UTF-8, CRLF",
            encoding="utf-8",
            data_offset=31,
            data_line=2,
            fields=FIELDS,
        ),
    ),
    imports.ImportFlushed: (JOB, 3, dict(list_id=LIST_1, chains=1200)),
    imports.ImportProgressed: (JOB, 4, dict(list_id=LIST_1, line=1001, offset=184_320, counts=COUNTS)),
    imports.ImportRowRejected: (
        JOB,
        5,
        dict(
            list_id=LIST_1,
            line=17,
            reason="line 17: '555-01' is not a valid phone number for US",
            field="Home",
            raw="C17,555-01,,12.50",
        ),
    ),
    imports.ImportCompleted: (JOB, 6, dict(list_id=LIST_1, counts=COUNTS, seconds=1.25)),
    imports.ImportFailed: (
        JOB,
        6,
        dict(list_id=LIST_1, reason="march-arrears.csv: the file is empty", line=None),
    ),
}
RECORD = records.Record(
    record_id=UUID("c3d4e5f6-a7b8-5c9d-8e0f-2a3b4c5d6e7f"),
    chain_n=1,
    contact_info="+13125550143",
    contact_info_type=1,
    daily_from=9 * 3600,
    daily_till=20 * 3600,
    time_zone="America/Chicago",
    time_zone_rule="custom",
)
CHAIN_FIELDS: dict[str, Any] = dict(
    list_id=LIST_1,
    client_id="C-000017",
    job_id=JOB,
    line=17,
    records=[
        RECORD,
        records.Record(
            record_id=UUID("d4e5f6a7-b8c9-5d0e-9f1a-3b4c5d6e7f80"),
            chain_n=2,
            contact_info="+19075550143",
            contact_info_type=4,
            time_zone="America/Anchorage",
            time_zone_rule="device",
            second_time_zone="America/Adak",
        ),
    ],
    contact=records.Contact(postal_code="60601", country="US", state="IL"),
    custom={"balance": "12.50"},
)
# A record of CHAIN drawn by GROUP's dialer: what every dialing-queue event names.
QUEUED: dict[str, Any] = dict(
    list_id=LIST_1,
    client_id="C-000017",
    chain_n=1,
    record_id=RECORD.record_id,
    campaign_group_id=GROUP,
    attempt_id=UUID("3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b"),
)
RECORD_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    records.RecordChainImported: (CHAIN, 1, CHAIN_FIELDS),
    records.RecordChainReplaced: (CHAIN, 2, {**CHAIN_FIELDS, "custom": {"balance": "0.00"}}),
    records.RecordChainDeleted: (
        CHAIN,
        3,
        dict(list_id=LIST_1, client_id="C-000017", reason="retention", detail="retention 30 days, completed"),
    ),
    records.RecordChainSuppressed: (
        CHAIN,
        2,
        dict(
            list_id=LIST_1,
            client_id="C-000017",
            suppressions=[
                records.Suppression(
                    chain_n=1,
                    suppression_list_id=UUID("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
                    entry_id=UUID("7b1c0f5e-2a9d-5c3e-8f4a-6b7c8d9e0f1a"),
                    kind="phone",
                    value="+13125550143",
                )
            ],
            previous_types={1: 2},
        ),
    ),
    records.RecordChainRestored: (CHAIN, 3, dict(list_id=LIST_1, client_id="C-000017", record_types={1: 2})),
    records.RecordRetrieved: (CHAIN, 2, dict(**QUEUED, retrieved_by="dialer-2")),
    records.RecordReturned: (
        CHAIN,
        3,
        dict(**QUEUED, reason="denied", dial_sched_time=1_741_960_800, detail="outside calling hours"),
    ),
    records.RecordUpdated: (
        CHAIN,
        3,
        dict(**QUEUED, call_result=33, call_time=1_741_944_612, attempt=1, record_status=3),
    ),
    records.RecordTreated: (
        CHAIN,
        4,
        dict(
            **QUEUED,
            call_result=6,  # busy
            action="retry_in",
            record=records.RecordChange(
                chain_n=1, record_type=3, record_status=1, dial_sched_time=1_741_946_412, attempt=1, call_result=6
            ),
            others=[
                records.RecordChange(
                    chain_n=2, record_type=2, record_status=9, dial_sched_time=None, attempt=0, call_result=28
                )
            ],
            next_chain_n=1,
            step=records.TreatmentStep(
                call_result=6, action="retry_in", at=1_741_944_612, sequence=1, applied=1, dial_sched_time=1_741_946_412
            ),
            reason="busy (6): sequence 1 (retry_in 30 min +5, 1 of 3): retry at 2025-03-14 10:00 UTC",
        ),
    ),
}

_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    settings.AccountOpened: (ACCOUNT, 1, dict(settings=settings.AccountSettings(general=GENERAL))),
    settings.GeneralSettingsChanged: (ACCOUNT, 2, dict(general=GENERAL)),
    settings.RegionSettingsChanged: (ACCOUNT, 3, dict(region=REGION)),
    settings.ListSettingsChanged: (ACCOUNT, 4, dict(lists=LISTS)),
    settings.PublicKeyImported: (ACCOUNT, 5, dict(key=PUBLIC_KEY)),
    settings.SecuritySettingsChanged: (ACCOUNT, 6, dict(security=SECURITY)),
    settings.PacingSettingsChanged: (ACCOUNT, 7, dict(pacing=PACING)),
    settings.ComplianceSettingsChanged: (ACCOUNT, 13, dict(compliance=COMPLIANCE)),
    settings.DispositionSettingsChanged: (
        ACCOUNT,
        14,
        dict(
            dispositions=settings.DispositionSettings(
                codes=(
                    settings.DispositionCode(code="SALE", label="Sale", final=True),
                    settings.DispositionCode(code="CALLBACK", label="Call back later"),
                    settings.DispositionCode(code="DNC", label="Do not call", final=True, do_not_call="device"),
                )
            )
        ),
    ),
    settings.PublicKeyRemoved: (ACCOUNT, 8, dict(fingerprint=PUBLIC_KEY.fingerprint)),
    settings.DefaultDialingProfileChosen: (ACCOUNT, 9, dict(profile_id=DIALING)),
    settings.DefaultSessionProfileChosen: (ACCOUNT, 10, dict(profile_id=SESSION)),
    settings.ApiKeyIssued: (
        ACCOUNT,
        11,
        dict(
            key_id=API_KEY,
            name="Nightly list export",
            role="supervisor",
            secret_sha256="3b4c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c",
            prefix="dsk_9xQ2",
        ),
    ),
    settings.ApiKeyRevoked: (ACCOUNT, 12, dict(key_id=API_KEY)),
    settings.SystemSshKeyGenerated: (
        ACCOUNT,
        15,
        dict(
            public_key="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAACAQDL0p7Xq3vJ8yTz dialstream-6f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f",
            fingerprint="SHA256:q8Vd0cJ3m1XkQ7Zt9hN2bW4sE6yR5uA1oP3lK8gF2jM",
            sealed_private_key="sealed:v1:gAAAAABn1LrQ4xZr8s0Vd2c7Jk9QmW3nT5yB1hE6aP0uL4oF8iG2",
        ),
    ),
    settings.SystemPgpKeyGenerated: (
        ACCOUNT,
        16,
        dict(
            public_key="-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGfT3sABEADL0p7Xq3vJ8yTz\n=Ab3d\n-----END PGP PUBLIC KEY BLOCK-----\n",
            fingerprint="91C3BB7832C4B88A812FB3F764CF8EFDEA6AEC1B",
            sealed_private_key="sealed:v1:gAAAAABn1LrR7kYp2w9Xc4e1Hm6TqV8nS3zC0jD5bO7tK2rE9uI4",
        ),
    ),
    settings.NameClaimed: (
        CLAIM,
        1,
        dict(kind="campaign-template", name="Collections Q2", owner_id=TEMPLATE),
    ),
    settings.NameReleased: (
        CLAIM,
        2,
        dict(kind="campaign-template", name="Collections Q2", owner_id=TEMPLATE),
    ),
    profiles.DialingProfileCreated: (
        DIALING,
        1,
        dict(name="Morning predictive", description="Weekday mornings", settings=DIALING_SETTINGS),
    ),
    profiles.DialingProfileChanged: (
        DIALING,
        2,
        dict(name="Morning predictive", description="Weekday mornings, 1.5 lines", settings=DIALING_SETTINGS),
    ),
    profiles.DialingProfileDeleted: (DIALING, 5, {}),
    profiles.SessionProfileCreated: (
        SESSION,
        1,
        dict(name="Voice floor 1", description="Chicago SIP trunk", settings=SESSION_SETTINGS),
    ),
    profiles.SessionProfileChanged: (
        SESSION,
        2,
        dict(name="Voice floor 1", description="Chicago SIP trunk, IVR", settings=SESSION_SETTINGS),
    ),
    profiles.SessionProfileDeleted: (SESSION, 5, {}),
    profiles.ProfileReferenced: (DIALING, 3, dict(by_id=TEMPLATE)),
    profiles.ProfileReleased: (DIALING, 4, dict(by_id=TEMPLATE)),
    campaigns.CampaignTemplateCreated: (TEMPLATE, 1, TEMPLATE_FIELDS),
    campaigns.CampaignTemplateChanged: (TEMPLATE, 2, {**TEMPLATE_FIELDS, "description": "Now progressive"}),
    campaigns.CampaignTemplateDeleted: (TEMPLATE, 5, {}),
    campaigns.CampaignTemplateReferenced: (TEMPLATE, 3, dict(by_id=GROUP)),
    campaigns.CampaignTemplateReleased: (TEMPLATE, 4, dict(by_id=GROUP)),
    campaigns.CampaignGroupCreated: (GROUP, 1, {**GROUP_FIELDS, "template_id": TEMPLATE}),
    campaigns.CampaignGroupChanged: (GROUP, 2, {**GROUP_FIELDS, "contact_list_ids": [LIST_1]}),
    campaigns.CampaignGroupStarted: (GROUP, 3, {}),
    campaigns.CampaignGroupPaused: (GROUP, 4, {}),
    campaigns.CampaignGroupResumed: (GROUP, 5, {}),
    campaigns.CampaignGroupStopped: (GROUP, 6, {}),
    campaigns.CampaignGroupPaced: (
        GROUP,
        4,
        {"mode": "predictive", "ratio": 1.42, "reason": "abandon 1.8 % of 3.0 % (24 h)"},
    ),
    campaigns.CampaignGroupDeleted: (GROUP, 7, {}),
    lists.ContactListCreated: (
        LIST_1,
        1,
        dict(name="March arrears", description="Accounts 30+ days overdue", settings=LIST_SETTINGS),
    ),
    lists.ContactListChanged: (
        LIST_1,
        2,
        dict(name="March arrears", description="Refreshed daily at 06:00", settings=LIST_SETTINGS),
    ),
    lists.ContactListAssigned: (LIST_1, 3, dict(campaign_group_id=GROUP)),
    lists.ContactListUnassigned: (LIST_1, 4, dict(campaign_group_id=GROUP)),
    lists.ContactListArchived: (LIST_1, 5, {}),
    **IMPORT_SPECS,
    **RECORD_SPECS,
    **LIST_RULE_SPECS,
    **SUPPRESSION_SPECS,
    **AUTOMATION_SPECS,
    **AGENT_SPECS,
    attempts.CallAttemptMade: (
        RECORD_ATTEMPTS,
        1,
        dict(
            attempt_id=CALL,
            list_id=LIST_1,
            client_id="C0001",
            chain_n=1,
            device="+13125550143",
            channel="voice",
            campaign_group_id=GROUP,
            caller_id="+13125550100",
            mode="predictive",
        ),
    ),
    # The same attempt's progress: a live answer connected to an agent, then its end.
    attempts.CallAttemptAnswered: (
        RECORD_ATTEMPTS,
        2,
        dict(attempt_id=CALL, campaign_group_id=GROUP, list_id=LIST_1, answered_by="person", ring_ms=11_250),
    ),
    attempts.CallAttemptConnected: (
        RECORD_ATTEMPTS,
        3,
        dict(attempt_id=CALL, campaign_group_id=GROUP, list_id=LIST_1, agent_id=AGENT_ON_CALL, wait_ms=420),
    ),
    attempts.CallAttemptAbandoned: (
        RECORD_ATTEMPTS,
        3,
        dict(attempt_id=CALL, campaign_group_id=GROUP, list_id=LIST_1, wait_ms=2_000, message_played=True),
    ),
    # An SMS the provider took, awaiting its delivery report.
    attempts.CallAttemptSent: (
        RECORD_ATTEMPTS,
        2,
        dict(attempt_id=CALL, campaign_group_id=GROUP, list_id=LIST_1, message_id="SM3f1c9a0e5b"),
    ),
    attempts.CallAttemptFinished: (
        RECORD_ATTEMPTS,
        4,
        dict(
            attempt_id=CALL,
            campaign_group_id=GROUP,
            list_id=LIST_1,
            call_result=33,  # answer
            ring_ms=11_250,
            talk_ms=184_300,
            agent_id=AGENT_ON_CALL,
        ),
    ),
    attempts.CallAttemptWrappedUp: (
        RECORD_ATTEMPTS,
        5,
        dict(
            attempt_id=CALL,
            campaign_group_id=GROUP,
            list_id=LIST_1,
            agent_id=AGENT_ON_CALL,
            disposition_code="SALE",
            call_result=33,
            call_time=1_741_944_612,
            chain_n=1,
        ),
    ),
}


def sample(cls: type[Event]) -> Event:
    """The sample instance of ``cls``; a class without one is a missing test fixture."""
    if cls not in _SPECS:
        raise LookupError(f"no sample for {cls.tag()}: add one to tests/schemas/samples.py")
    aggregate_id, version, fields = _SPECS[cls]
    return cls(
        originator_id=aggregate_id, originator_version=version, timestamp=AT, account_id=ACCOUNT, **fields
    )


SAMPLED: frozenset[type[Event]] = frozenset(_SPECS)
