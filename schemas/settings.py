"""Topic ``settings``: the account (tenant), its settings page, API keys and name claims."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from schemas import topics
from schemas.base import Event

NonEmpty = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=200)]
ZoneName = Annotated[str, Meta(min_length=1, max_length=64)]
Role = Literal["admin", "supervisor", "viewer"]


class GeneralSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    account_name: NonEmpty
    caller_id: Text = ""
    dap_name: Text = ""
    format_name: Text = ""
    disposition_codes: Text = ""


class RegionSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    country_code: Annotated[str, Meta(pattern="^[A-Z]{2}$")] = "US"
    time_zone: ZoneName = "America/New_York"
    locale: Annotated[str, Meta(pattern="^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en-US"
    reports_time_zone: ZoneName = "UTC"


class ListSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    default_time_zone: ZoneName = "America/New_York"
    default_region: Annotated[str, Meta(pattern="^[A-Z]{2}$")] = "US"
    default_time_zone_on_error: ZoneName = "America/New_York"
    max_split_lists: Annotated[int, Meta(ge=1, le=100)] = 10


class EncryptionSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    enabled: bool = False
    secure_all_contact_lists: bool = False
    secure_all_suppression_lists: bool = False
    secure_analytics_reports: bool = False


class SecuritySettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    minimum_password_length: Annotated[int, Meta(ge=6, le=128)] = 8
    # 0 means never sign out automatically.
    auto_sign_out_minutes: Annotated[int, Meta(ge=0, le=1440)] = 30
    strict_sign_out: bool = False
    encryption: EncryptionSettings = EncryptionSettings()


class MaxAttemptsPerMinute(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    voice: Annotated[int, Meta(ge=1, le=100_000)] = 100
    sms: Annotated[int, Meta(ge=1, le=100_000)] = 100
    email: Annotated[int, Meta(ge=1, le=100_000)] = 100


class PacingSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Percent of live-answered calls; regulators cap it at 3 % (US FTC TSR, UK Ofcom).
    target_abandon_rate: Annotated[float, Meta(gt=0, le=100)] = 3.0
    # A call counts as abandoned when no agent is connected within this many seconds.
    abandon_call_definition_seconds: Annotated[int, Meta(ge=1, le=60)] = 2
    max_attempts_per_minute: MaxAttemptsPerMinute = MaxAttemptsPerMinute()


# Compliance: calling hours per region, contact dates, quiet hours after an abandoned call and
# attempt rules. The shapes mirror domain.calling_windows (CallingRules, RegionRules, Week,
# Hours), domain.predial (AbandonedCallRule) and domain.contact_rules (AttemptRule);
# domain.predial.compliance_rules turns them into those rules and is where what a pattern
# cannot say is checked (opening before closing, weekday and region names).

ClockTime = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$",
        description="Local wall-clock time HH:MM[:SS]; 24:00 closes at midnight",
        examples=["08:00", "21:00"],
    ),
]
MAX_DATES = 1000  # holidays or blocked dates per region
MAX_REGIONS = 500
MAX_ATTEMPT_RULES = 100
MAX_ATTEMPT_HOURS = 24 * 366  # as domain.contact_rules.MAX_HOURS
MAX_ABANDONED_QUIET_HOURS = 720  # 30 days, as domain.predial.MAX_ABANDONED_QUIET_HOURS


class CallingHours(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One day's calling hours, from ``opens`` (included) to ``closes`` (excluded), local time."""

    opens: ClockTime
    closes: ClockTime


class WeeklyHours(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A week of calling hours: ``daily`` on every day that ``weekdays`` does not name.

    ``weekdays`` maps a weekday (``"saturday"``; ``"sat"`` and any case are read and stored
    as the full lower-case name) to its own hours, or to null: no calls that day. ``daily``
    null closes every day not named.
    """

    daily: CallingHours | None = CallingHours(opens="08:00", closes="21:00")
    weekdays: Annotated[dict[str, CallingHours | None], Meta(max_length=7)] = {}


class RegionCompliance(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one region says: its week of hours, dates on which it allows no calls, and how
    long a number whose call was abandoned is left alone.

    ``hours`` null leaves the hours to the next less specific region (a state's to its
    country's, a country's to the default's; the default's own null is 08:00–21:00 every
    day). Holidays and blocked dates add up across the regions of a contact.

    ``abandoned_quiet_hours``: for so many hours after a voice call to a number was
    abandoned (a live answer no agent took within the abandon call definition), that number
    is not called again unless an agent is reserved for the call before it is placed
    (engage-agent-first). The UK rule (Ofcom's persistent-misuse policy) is 72. Like
    ``hours``, the most specific region that sets it wins, and null leaves it to the next
    less specific region; null everywhere: no such rule. It applies to the voice channel
    only.
    """

    hours: WeeklyHours | None = None
    holidays: Annotated[tuple[date, ...], Meta(max_length=MAX_DATES)] = ()
    blocked_dates: Annotated[tuple[date, ...], Meta(max_length=MAX_DATES)] = ()
    abandoned_quiet_hours: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=MAX_ABANDONED_QUIET_HOURS,
                description="Hours after an abandoned call during which the number is not called "
                "again without an agent reserved first (UK: 72); null: the less specific region's",
                examples=[72],
            ),
        ]
        | None
    ) = None


class AttemptRuleSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Do not contact if ``max_attempts`` attempts were made today (the contact's local day)
    or, with ``in_last_hours``, in the last so many hours; counted per client id, per device
    (phone number or e-mail address) or ``both`` separately, across lists and channels."""

    name: NonEmpty
    max_attempts: Annotated[int, Meta(ge=1, le=10_000)]
    by: Literal["client_id", "device", "both"] = "client_id"
    in_last_hours: Annotated[int, Meta(ge=1, le=MAX_ATTEMPT_HOURS)] | None = None
    # A required rule applies to every campaign group; an optional one to those named here
    # (by name or id).
    required: bool = True
    campaign_groups: Annotated[tuple[NonEmpty, ...], Meta(max_length=1000)] = ()


class ComplianceSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Calling hours and dates per region, in the contact's local time, the quiet hours
    after an abandoned call, and attempt rules.

    ``regions`` are keyed by ISO 3166 code: a country (``"GB"``) or a country and state or
    province (``"US-FL"``); the most specific region with hours wins whole, and so does the
    most specific region with ``abandoned_quiet_hours``.
    """

    default: RegionCompliance = RegionCompliance(hours=WeeklyHours())
    regions: Annotated[dict[str, RegionCompliance], Meta(max_length=MAX_REGIONS)] = {}
    attempt_rules: Annotated[tuple[AttemptRuleSettings, ...], Meta(max_length=MAX_ATTEMPT_RULES)] = ()


DispositionCodeText = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
MAX_DISPOSITION_CODES = 200


class DispositionCode(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One outcome an agent can give a call at wrap-up.

    ``final``: the customer's business is done (a sale, a refusal): with no treatment keyed on
    the code, the record and its chain are finished even when the call result's treatment
    would dial again. ``do_not_call``: the customer asked not to be called again; the
    ``device`` called or the ``client_id`` is added to the account's required suppression list
    of the call's channel at once.
    """

    code: DispositionCodeText
    label: NonEmpty
    final: bool = False
    do_not_call: Literal["device", "client_id"] | None = None


class DispositionSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The account's disposition codes: the catalogue wrap-ups and treatments refer to.
    ``object_name``: the name of the configuration object that stores them (the product's
    "Disposition Codes" setting)."""

    object_name: NonEmpty = "Disposition Codes"
    codes: Annotated[tuple[DispositionCode, ...], Meta(max_length=MAX_DISPOSITION_CODES)] = ()

    def find(self, code: str) -> DispositionCode | None:
        return next((c for c in self.codes if c.code == code), None)


class AccountSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    general: GeneralSettings
    region: RegionSettings = RegionSettings()
    lists: ListSettings = ListSettings()
    security: SecuritySettings = SecuritySettings()
    pacing: PacingSettings = PacingSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    dispositions: DispositionSettings = DispositionSettings()


class PublicKey(Struct, frozen=True, kw_only=True):
    fingerprint: str
    user_id: str
    key_type: str
    algorithm: str
    uploaded_at: datetime
    expires_at: datetime | None = None
    armored: str


class SettingsEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.SETTINGS


class AccountOpened(SettingsEvent, frozen=True, kw_only=True, tag="account.opened"):
    settings: AccountSettings


class GeneralSettingsChanged(
    SettingsEvent, frozen=True, kw_only=True, tag="account.general_settings_changed"
):
    general: GeneralSettings


class RegionSettingsChanged(SettingsEvent, frozen=True, kw_only=True, tag="account.region_settings_changed"):
    region: RegionSettings


class ListSettingsChanged(SettingsEvent, frozen=True, kw_only=True, tag="account.list_settings_changed"):
    lists: ListSettings


class SecuritySettingsChanged(
    SettingsEvent, frozen=True, kw_only=True, tag="account.security_settings_changed"
):
    security: SecuritySettings


class PacingSettingsChanged(SettingsEvent, frozen=True, kw_only=True, tag="account.pacing_settings_changed"):
    pacing: PacingSettings


class ComplianceSettingsChanged(
    SettingsEvent, frozen=True, kw_only=True, tag="account.compliance_settings_changed"
):
    """The account's calling hours, contact dates, abandoned-call quiet hours and attempt rules
    were replaced."""

    compliance: ComplianceSettings


class DispositionSettingsChanged(
    SettingsEvent, frozen=True, kw_only=True, tag="account.disposition_settings_changed"
):
    """The account's disposition codes were replaced."""

    dispositions: DispositionSettings


class PublicKeyImported(SettingsEvent, frozen=True, kw_only=True, tag="account.public_key_imported"):
    key: PublicKey


class PublicKeyRemoved(SettingsEvent, frozen=True, kw_only=True, tag="account.public_key_removed"):
    fingerprint: str


class DefaultDialingProfileChosen(
    SettingsEvent, frozen=True, kw_only=True, tag="account.default_dialing_profile_chosen"
):
    profile_id: UUID | None


class DefaultSessionProfileChosen(
    SettingsEvent, frozen=True, kw_only=True, tag="account.default_session_profile_chosen"
):
    profile_id: UUID | None


class ApiKeyIssued(SettingsEvent, frozen=True, kw_only=True, tag="account.api_key_issued"):
    key_id: UUID
    name: str
    role: Role
    # Only the SHA-256 of the secret is ever stored; the secret is shown once.
    secret_sha256: str
    prefix: str


class ApiKeyRevoked(SettingsEvent, frozen=True, kw_only=True, tag="account.api_key_revoked"):
    key_id: UUID


class SystemSshKeyGenerated(SettingsEvent, frozen=True, kw_only=True, tag="account.system_ssh_key_generated"):
    """The account's own SSH key pair (RSA 4096) was made: it logs in to customers' SFTP
    servers. Made once, on first need; separate from its OpenPGP key pair.

    ``public_key``: OpenSSH's one-line form (``ssh-rsa AAAA… comment``), for the server's
    authorized_keys; ``fingerprint``: ``SHA256:<base64>``, as ``ssh-keygen -lf`` prints it;
    ``sealed_private_key``: the private key (PEM), sealed with the deployment's secret key
    (``sealed:v1:…``), never in clear.
    """

    public_key: str
    fingerprint: str
    sealed_private_key: str


class SystemPgpKeyGenerated(SettingsEvent, frozen=True, kw_only=True, tag="account.system_pgp_key_generated"):
    """The account's own OpenPGP key pair (RSA 4096) was made: customers encrypt the files
    they send to its public key, and list automation decrypts them with the private one.
    Made once, on first need; separate from its SSH key pair.

    ``public_key``: ASCII armour; ``fingerprint``: the key's 40 hex digits, upper case;
    ``sealed_private_key``: the armoured secret key, sealed with the deployment's secret key
    (``sealed:v1:…``), never in clear.
    """

    public_key: str
    fingerprint: str
    sealed_private_key: str


class NameClaimed(SettingsEvent, frozen=True, kw_only=True, tag="name.claimed"):
    kind: str
    name: str
    owner_id: UUID


class NameReleased(SettingsEvent, frozen=True, kw_only=True, tag="name.released"):
    kind: str
    name: str
    owner_id: UUID


EVENTS: tuple[type[Event], ...] = (
    AccountOpened,
    GeneralSettingsChanged,
    RegionSettingsChanged,
    ListSettingsChanged,
    SecuritySettingsChanged,
    PacingSettingsChanged,
    ComplianceSettingsChanged,
    DispositionSettingsChanged,
    PublicKeyImported,
    PublicKeyRemoved,
    DefaultDialingProfileChosen,
    DefaultSessionProfileChosen,
    ApiKeyIssued,
    ApiKeyRevoked,
    SystemSshKeyGenerated,
    SystemPgpKeyGenerated,
    NameClaimed,
    NameReleased,
)
