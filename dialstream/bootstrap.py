"""The composition root: builds the store, handlers, read models and bus for one process."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from dialstream.handlers import Handlers
from dialstream.handlers.accounts import hash_secret
from dialstream.secrets import SecretBox
from dialstream.settings import Settings, SettingsError
from dialstream.store import ConcurrencyConflict, EventStore, store_env, stored_topic_of
from dialstream.store.sqlite_wal import WalCheckpointer, sqlite_path
from domain import account
from processors.bus.embedded import EmbeddedBus
from processors.bus.port import Bus
from processors.channels.config import sms_from_url, smtp_from_url
from processors.channels.email import SmtpChannel, SmtpSettings
from processors.channels.links import MessageLinks
from processors.channels.port import Channel
from processors.channels.sms import HttpSmsChannel, SmsSettings
from processors.compliance.predial import PreDialValidator
from processors.files.system_keys import SystemKeys
from processors.host.lifecycle import Health
from processors.host.schedule import Scheduler
from processors.suppression.expiry import SuppressionExpirySweeper
from processors.suppression.index import SuppressionIndex
from processors.suppression.projection import FollowedIndex, SuppressionIndexFollower
from projections.agents import AgentQueries, AgentStates
from projections.attempt_history import AttemptHistoryProjection, AttemptHistoryQueries
from projections.automation_runs import AutomationRunQueries, AutomationRuns
from projections.base import Projection, ProjectionStore, ProjectionSubscriber
from projections.call_details import CallDetailQueries, CallDetails
from projections.call_results import CallResultCounts, CallResultQueries
from projections.catalogue import CAMPAIGN_GROUP, Catalogue, CatalogueQueries
from projections.credentials import CredentialQueries, Credentials
from projections.group_activity import GroupActivity, GroupActivityQueries
from projections.hierarchy import CampaignHierarchy, HierarchyQueries
from projections.import_jobs import ImportJobQueries, ImportJobs
from projections.record_suppressions import RecordSuppressionQueries, RecordSuppressions
from projections.records import RecordQueries, Records
from projections.sql import Database, connect
from projections.suppression_lists import SuppressionListQueries, SuppressionLists
from schemas.settings import AccountOpened, ComplianceSettings

if TYPE_CHECKING:
    from processors.automation.runner import ListAutomationRunner
    from processors.bus.relay import RelayProgress

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT_NAME = "Default account"
DEFAULT_ACCOUNT_ID = uuid5(NAMESPACE_URL, "urn:dialstream:default-account")
# Background processors a process can host besides the projections (``dialstream worker NAME``).
IMPORTS = "imports"
RETENTION = "retention"
SUPPRESSION_INDEX = "suppression-index"
SUPPRESSION_EXPIRY = "suppression-expiry"
COMPLIANCE = "compliance"
DIALER = "dialer"
RESULTS = "call-results"
LIST_AUTOMATION = "list-automation"
SERVICES = (
    IMPORTS,
    RETENTION,
    SUPPRESSION_INDEX,
    SUPPRESSION_EXPIRY,
    COMPLIANCE,
    DIALER,
    RESULTS,
    LIST_AUTOMATION,
)


class Service(Protocol):
    """What the composition root hosts: a processors.host.lifecycle.Hosted."""

    name: str
    error: BaseException | None

    def start(self) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...
    def health(self) -> Health: ...


def all_projections() -> list[Projection]:
    return [
        Catalogue(),
        Credentials(),
        CampaignHierarchy(),
        Records(),
        ImportJobs(),
        SuppressionLists(),
        RecordSuppressions(),
        AttemptHistoryProjection(),
        GroupActivity(),
        AgentStates(),
        AutomationRuns(),
        CallDetails(),
        CallResultCounts(),
    ]


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    handlers: Handlers
    views: Database
    projections: ProjectionStore
    catalogue: CatalogueQueries
    hierarchy: HierarchyQueries
    credentials: CredentialQueries
    records: RecordQueries
    import_jobs: ImportJobQueries
    suppression_lists: SuppressionListQueries
    activity: GroupActivityQueries
    agents: AgentQueries
    automation_runs: AutomationRunQueries
    call_details: CallDetailQueries
    call_results: CallResultQueries
    bus: Bus
    suppression_index: SuppressionIndex
    secrets: SecretBox  # the handlers' too: seals what events keep of a secret
    services: dict[str, Service] = field(default_factory=dict)
    checkpointers: list[WalCheckpointer] = field(default_factory=list)
    predial: PreDialValidator | None = None  # the compliance gate every attempt passes
    messaging: Messaging = field(default_factory=lambda: Messaging())  # SMS and e-mail channels
    closing: list[Callable[[], None]] = field(default_factory=list)  # what else to close on stop
    # The dialers' leases and the accounts' attempts-per-minute claims (None: in ``views``).
    dialer_db: Database | None = None

    @property
    def dialer_leases(self) -> Database:
        return self.dialer_db if self.dialer_db is not None else self.views

    def start(self) -> None:
        for checkpointer in self.checkpointers:
            checkpointer.start()
        self.bus.start()
        for service in self.services.values():
            service.start()

    def catch_up(self, timeout: float = 60.0) -> bool:
        """Bring every projection to the head of the log before serving."""
        caught_up = self.bus.catch_up(timeout)
        if not caught_up:
            log.warning("read models are behind the event log (bus %s)", self.settings.bus)
        return caught_up

    def wait(self, position: int, timeout: float = 10.0, *, since: int | None = None) -> bool:
        """Read-your-writes: block until the read models include ``position``; with ``since``,
        the events from ``since`` to ``position`` are one command's, and on Kafka only the
        partitions they went to are waited for (see :meth:`KafkaBus.wait_until`)."""
        return self.bus.wait_until(position, timeout, since=since)

    def wait_for_head(self, timeout: float = 10.0) -> bool:
        """Block until the read models include everything stored so far (a read that must not
        miss what any writer stored before it was asked)."""
        return self.wait(self.store.position(), timeout)

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        self.bus.stop()
        for checkpointer in self.checkpointers:
            checkpointer.stop()
        self.suppression_index.close()
        for close in self.closing:
            close()
        if self.dialer_db is not None:
            self.dialer_db.close()
        self.views.close()
        self.store.close()


@dataclass(frozen=True)
class Messaging:
    """The message channels this process is configured with (none: that channel's campaigns
    wait), and the public links their messages carry (none: no delivery reports or replies,
    no unsubscribe links)."""

    smtp: SmtpSettings | None = None
    sms: SmsSettings | None = None
    links: MessageLinks | None = None

    def channels(self) -> dict[str, Channel]:
        """A new adapter per configured channel (each holds its own connections)."""
        channels: dict[str, Channel] = {}
        if self.smtp is not None:
            channels["email"] = SmtpChannel(self.smtp)
        if self.sms is not None:
            channels["sms"] = HttpSmsChannel(self.sms)
        return channels


def messaging(settings: Settings) -> Messaging:
    """The channels of ``settings``; a SettingsError names the variable that cannot work."""

    def parsed(name: str, parse: Callable[[str], T]) -> T | None:
        value = getattr(settings, name)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError as error:
            raise SettingsError(settings.source(name), str(error)) from None

    smtp, sms = parsed("smtp", smtp_from_url), parsed("sms_provider", sms_from_url)
    links = None
    if settings.public_url:
        if not settings.public_url.startswith(("https://", "http://")):
            raise SettingsError(
                settings.source("public_url"), "the public URL is http(s)://HOST[:PORT][/PREFIX]"
            )
        links = MessageLinks(settings.public_url, _link_secret(settings))
    return Messaging(smtp=smtp, sms=sms, links=links)


def _link_secret(settings: Settings) -> bytes:
    if settings.link_secret is not None:
        if len(settings.link_secret) < 16:
            raise SettingsError(settings.source("link_secret"), "the link secret is at least 16 characters")
        return settings.link_secret.encode()
    path = settings.data_dir / "link-secret"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        secret = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(secret)
        return secret


def build(settings: Settings, *, relay: bool = True, workers: Sequence[str] | None = None) -> Runtime:
    """Wire one process. On Kafka, ``relay`` and ``workers`` (default: every projection)
    say what this process hosts besides the API; the rest run as their own processes."""
    _check_databases(settings)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # the settings' check cannot foresee every file system (/proc, a full disk)
        raise SettingsError(
            settings.source("data_dir"), f"cannot create {settings.data_dir}: {error.strerror or error}"
        ) from None
    channels = messaging(settings)
    secrets = SecretBox(
        settings.secret_key, directory=settings.data_dir, key_source=settings.source("secret_key")
    )
    store = EventStore(store_env(settings.database_url))
    views = connect(settings.views_url)
    projections = ProjectionStore(views, all_projections())
    hosted = [name for name in SERVICES if workers is None or name in workers]
    projection_workers = None if workers is None else [w for w in workers if w not in SERVICES]
    runtime = Runtime(
        settings=settings,
        store=store,
        handlers=Handlers(store, secrets=secrets, keys=SystemKeys()),
        views=views,
        projections=projections,
        catalogue=CatalogueQueries(views),
        hierarchy=HierarchyQueries(views),
        credentials=CredentialQueries(views),
        records=RecordQueries(views),
        import_jobs=ImportJobQueries(views),
        suppression_lists=SuppressionListQueries(views),
        activity=GroupActivityQueries(views),
        agents=AgentQueries(views),
        automation_runs=AutomationRunQueries(views),
        call_details=CallDetailQueries(views),
        call_results=CallResultQueries(views),
        bus=_bus(settings, store, projections, relay=relay, workers=projection_workers),
        suppression_index=suppression_index(settings.suppression_index),
        secrets=secrets,
        checkpointers=[
            WalCheckpointer(sqlite_path(url))
            for url in (settings.database_url, settings.views_url)
            if url.startswith("sqlite:") and sqlite_path(url) != ":memory:"
        ],
        messaging=channels,
        dialer_db=_dialer_database(settings.views_url),
    )
    if IMPORTS in hosted:
        runtime.services[IMPORTS] = _import_runner(runtime)
    lookups = runtime.suppression_index
    if SUPPRESSION_INDEX in hosted:
        follower = SuppressionIndexFollower(store, runtime.suppression_index)
        runtime.services[SUPPRESSION_INDEX] = follower
        lookups = FollowedIndex(runtime.suppression_index, follower)
    history = AttemptHistoryQueries(views)
    runtime.predial = PreDialValidator(
        lookups,
        runtime.suppression_lists.applicable,
        _compliance_of(runtime),
        attempts=history.history,
        # The process's one clock (a test or a virtual-time run sets the handlers').
        clock=lambda: runtime.handlers.clock(),
        group_names=lambda account_id, group_id: getattr(
            runtime.catalogue.get(account_id, CAMPAIGN_GROUP, group_id), "name", None
        ),
        abandoned=history.abandoned,
    )
    if COMPLIANCE in hosted:
        from processors.compliance.processor import Compliance, ComplianceProcessor

        processor = Compliance(
            store,
            runtime.handlers.compliance,
            _batch_index(runtime),
            runtime.catalogue,
            runtime.suppression_lists,
            runtime.records,
            RecordSuppressionQueries(views),
            runtime.wait,
            clock=lambda: runtime.handlers.clock(),  # the process's one clock, as the gate's
        )
        if settings.bus.startswith("kafka://"):  # a consumer group: N workers share the partitions
            from processors.bus.kafka_cluster import KafkaConfig
            from processors.host.kafka import KafkaHost

            config = KafkaConfig.from_bus(settings.bus, settings.topic_prefix)
            runtime.services[COMPLIANCE] = KafkaHost(
                store, processor, config, progress=_relay_progress(runtime)
            )
        else:  # a store from before tracking records kept the position with the read models
            runtime.services[COMPLIANCE] = ComplianceProcessor(
                store, processor, legacy_position=lambda: projections.position(COMPLIANCE)
            )
    if RESULTS in hosted:
        runtime.services[RESULTS] = _call_results(runtime)
    # Periodic work: one scheduler per schedule, each holding its lease in the read models'
    # database, which every process of a deployment shares.
    if SUPPRESSION_EXPIRY in hosted:
        from processors.suppression import expiry as suppression_expiry

        expiry = SuppressionExpirySweeper(
            runtime.suppression_lists,
            lambda account_id, list_id, keys: (
                runtime.handlers.suppression.expire_entries(account_id, list_id, keys).position
            ),
            runtime.wait,
            head=store.position,
        )
        runtime.services[SUPPRESSION_EXPIRY] = Scheduler(suppression_expiry.scheduled(expiry), views)
    if LIST_AUTOMATION in hosted:
        runtime.services[LIST_AUTOMATION] = _list_automation(runtime)
    if RETENTION in hosted:
        from processors.retention import sweep as retention

        sweeper = retention.RetentionSweeper(
            runtime.store, runtime.catalogue, runtime.records, handlers=runtime.handlers.records
        )
        runtime.services[RETENTION] = Scheduler(retention.scheduled(sweeper), views)
    if DIALER in hosted:
        runtime.services[DIALER] = _dialer(runtime)
    return runtime


def _call_results(runtime: Runtime) -> Service:
    from processors.results.processor import CallResults, CallResultsProcessor

    if runtime.settings.bus.startswith("kafka://"):  # a consumer group: N workers share the partitions
        from processors.bus.kafka_cluster import KafkaConfig
        from processors.host.kafka import KafkaHost

        config = KafkaConfig.from_bus(runtime.settings.bus, runtime.settings.topic_prefix)
        results = CallResults(runtime.store, runtime.handlers, runtime.suppression_lists)
        return KafkaHost(runtime.store, results, config, progress=_relay_progress(runtime))
    return CallResultsProcessor(runtime.store, runtime.handlers, runtime.suppression_lists)


def _relay_progress(runtime: Runtime) -> RelayProgress | None:
    """The relay's progress when this process runs the relay (a processor waits on it)."""
    from processors.bus.kafka import KafkaBus

    bus = runtime.bus
    return bus.progress if isinstance(bus, KafkaBus) and bus.relay is not None else None


def _dialer(runtime: Runtime) -> Service:
    """The dialer on the telephony simulator in wall-clock time (the only adapter so far)."""
    import random

    from dialstream.settings import simulator_options
    from processors.dialer.ports import DialerPorts
    from processors.dialer.runner import Dialer
    from processors.telephony.simulator import CallModel, SimulatedTelephony, WallClock

    assert runtime.predial is not None
    seed, speed = simulator_options(runtime.settings.telephony)
    model = CallModel(random.SystemRandom().randrange(2**32) if seed is None else seed)
    ports = DialerPorts(
        handlers=runtime.handlers,
        records=runtime.records,
        agents=runtime.agents,
        activity=runtime.activity,
        catalogue=runtime.catalogue,
        predial=runtime.predial,
        telephony=SimulatedTelephony(model, WallClock(speed)),
        clock=lambda: runtime.handlers.clock(),
        simulated_agents=model,
        wait_for_head=runtime.wait_for_head,
        channels=runtime.messaging.channels(),
        links=runtime.messaging.links,
        # Every dialer process runs its simulator at the settings' speed: a simulated minute
        # of the account's cap is 60/speed real seconds, the same in each of them.
        cap_clock=lambda: time.time() * speed,
    )
    return Dialer(ports, runtime.dialer_leases)


def _dialer_database(views_url: str) -> Database | None:
    """A SQLite file of its own beside the read models' for the dialers' leases and claims:
    in the read models' file a claim waited for the lock their writers hold while they apply
    a batch (0.9 ms a claim on the dialer bench). On PostgreSQL they stay in the read models'
    database, where a transaction waits only for the rows it writes."""
    if not views_url.startswith("sqlite:") or sqlite_path(views_url) == ":memory:":
        return None
    path = Path(sqlite_path(views_url))
    return connect(f"sqlite:///{path.with_name(path.stem + '-dialer.sqlite')}")


def _check_databases(settings: Settings) -> None:
    for name in ("database_url", "views_url"):
        url = getattr(settings, name)
        if name == "views_url" and url == settings.database_url:
            continue  # the same database, checked already
        if url.startswith(("postgresql:", "postgres:")):
            check_postgres_reachable(url, settings.source(name))


def check_postgres_reachable(url: str, source: str, timeout_seconds: int = 3) -> None:
    """Raise a SettingsError naming the server when PostgreSQL does not answer in seconds.

    The store's connection pool would wait 30 s and then fail without naming the host.
    """
    import psycopg

    env = store_env(url)
    host, port = env["POSTGRES_HOST"], env["POSTGRES_PORT"]
    try:
        psycopg.connect(
            host=host,
            port=port,
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=timeout_seconds,
        ).close()
    except psycopg.Error as error:
        raise SettingsError(
            source, f"cannot connect to PostgreSQL at {host}:{port} — {_connect_failure(error)}"
        ) from None


def _connect_failure(error: Exception) -> str:
    """libpq's reason, without its preamble: 'connection to server at ... failed: Connection refused'."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = first_line.rpartition("failed: ")[2].removeprefix("FATAL:").strip()
    return reason[:1].lower() + reason[1:]


def _compliance_of(runtime: Runtime) -> Callable[[UUID], ComplianceSettings]:
    def compliance(account_id: UUID) -> ComplianceSettings:
        # From the event store, not the catalogue read model: as new as the log, and in a
        # dialer's step the account is the state the store keeps (no query at each dial).
        state = runtime.store.load(account_id, account.project)
        if state is None:
            raise LookupError(f"account {account_id} is not known (yet)")
        settings: ComplianceSettings = state.settings.compliance
        return settings

    return compliance


# How long the compliance processor's batch lookups may take in Redis: it marks whole batches
# of chains in the background, where the pre-dial gate wants an answer at dial time in 50 ms
# or none. Under load a batch's one script took longer than 50 ms, and every batch failed.
BATCH_LOOKUP_TIMEOUT_S = 2.0


def _batch_index(runtime: Runtime) -> SuppressionIndex:
    """The suppression index as a background processor asks it (the process's own when
    embedded: its entries live in this process)."""
    from processors.suppression.redis_index import RedisSuppressionIndex

    index = runtime.suppression_index
    if not isinstance(index, RedisSuppressionIndex):
        return index
    patient = index.patient(BATCH_LOOKUP_TIMEOUT_S)
    runtime.closing.append(patient.close)
    return patient


def suppression_index(where: str) -> SuppressionIndex:
    """The suppression index adapter named by DIALSTREAM_SUPPRESSION_INDEX."""
    if where == "embedded":
        from processors.suppression.embedded_index import EmbeddedSuppressionIndex

        return EmbeddedSuppressionIndex()
    if where.startswith(("redis://", "rediss://", "unix://")):
        from processors.suppression.redis_index import RedisSuppressionIndex

        return RedisSuppressionIndex(where)
    raise ValueError(f"DIALSTREAM_SUPPRESSION_INDEX={where!r}: use embedded or redis://host:port/db")


def _list_automation(runtime: Runtime) -> Service:
    from processors.automation import runner as automation

    return Scheduler(automation.scheduled(list_automation_runner(runtime)), runtime.views)


def list_automation_runner(runtime: Runtime, **options: Any) -> ListAutomationRunner:
    """The list automation worker over this runtime's store, read models and the accounts' own
    keys (``options``: more of its keyword arguments, e.g. ``timeout_s``)."""
    from processors.automation.runner import ListAutomationRunner
    from processors.files.openpgp import KeyPair

    accounts = runtime.handlers.accounts

    def pgp_key(account_id: UUID) -> KeyPair:
        pair = accounts.pgp_key(account_id)
        return KeyPair(pair.fingerprint, pair.public_key, pair.private_key)

    return ListAutomationRunner(
        runtime.store,
        runtime.catalogue,
        runtime.handlers,
        runtime.settings.data_dir,
        ssh_key=lambda account_id: accounts.ssh_key(account_id).private_key,
        pgp_key=pgp_key,
        records=runtime.records,
        details=runtime.call_details,
        results=runtime.call_results,
        activity=runtime.activity,
        wait_for_head=runtime.wait_for_head,
        **options,
    )


def _import_runner(runtime: Runtime) -> Service:
    from processors.imports.runner import READ_MODELS_LAG, ImportRunner

    return ImportRunner(
        runtime.store,
        runtime.import_jobs,
        runtime.records,
        runtime.bus.wait_until,
        runtime.settings.data_dir,
        # Embedded, one process owns the data directory: a job left running was left by a
        # process that is gone. On Kafka, runners elsewhere hold a job until their lease lapses.
        take_over_at_start=runtime.settings.bus == "embedded",
        read_models_lag=READ_MODELS_LAG if runtime.settings.bus == "embedded" else None,
        suppression_lists=runtime.suppression_lists,
        handlers=runtime.handlers.import_jobs,
    )


def _bus(
    settings: Settings,
    store: EventStore,
    projections: ProjectionStore,
    *,
    relay: bool,
    workers: Sequence[str] | None,
) -> Bus:
    if settings.bus == "embedded":
        embedded = EmbeddedBus(store)
        for name in projections.projections:
            embedded.subscribe(ProjectionSubscriber(projections, name))
        return embedded
    if settings.bus.startswith("kafka://"):
        from processors.bus.kafka import KafkaBus
        from processors.bus.kafka_cluster import KafkaConfig
        from processors.bus.relay import RelayProgress

        return KafkaBus(
            store,
            projections,
            RelayProgress(projections.db),
            KafkaConfig.from_bus(settings.bus, settings.topic_prefix),
            run_relay=relay,
            workers=list(projections.projections) if workers is None else workers,
        )
    raise ValueError(f"DIALSTREAM_BUS={settings.bus!r}: use embedded or kafka://host:port")


def ensure_bootstrap_key(runtime: Runtime) -> tuple[UUID, str | None]:
    """On first start, open the default account and issue its admin key.

    Returns the account and the new secret (None when nothing was issued). With
    ``DIALSTREAM_BOOTSTRAP_KEY`` set, that secret becomes the key, once. Decided on the
    event store, not the read models (which may lag behind workers in other processes):
    the default account and a given bootstrap secret have fixed ids, so two gateways
    starting together collide instead of opening two accounts or issuing a key twice.
    """
    handlers, store = runtime.handlers, runtime.store
    wanted = runtime.settings.bootstrap_key
    default = store.load(DEFAULT_ACCOUNT_ID, account.project)
    issued_secret: str | None = None
    if default is None:
        runtime.catch_up(timeout=5.0)
        existing = runtime.catalogue.accounts()
        if existing or store.position() > 0:
            # An installation from before the default account had a fixed id, or accounts
            # made with `dialstream accounts create`: no second default account.
            account_id = existing[0].id if existing else None
            if account_id is None:
                log.warning("the read models do not list any account yet; no bootstrap key issued")
                return DEFAULT_ACCOUNT_ID, None
        else:
            try:
                account_id = handlers.accounts.open_account(DEFAULT_ACCOUNT_NAME, DEFAULT_ACCOUNT_ID).id
            except ConcurrencyConflict:
                account_id = DEFAULT_ACCOUNT_ID  # another gateway opened it at the same moment
            else:
                if wanted is None:
                    issued_secret = _issue(runtime, account_id, None)
    else:
        account_id = DEFAULT_ACCOUNT_ID
    if wanted is not None:
        issued_secret = _issue(runtime, account_id, wanted)
    runtime.catch_up()
    return account_id, issued_secret


def _issue(runtime: Runtime, account_id: UUID, secret: str | None) -> str | None:
    """Issue the bootstrap admin key once: a given secret always has the same key id."""
    key_id = uuid5(account_id, f"bootstrap:{hash_secret(secret)}") if secret else None
    if secret and runtime.credentials.by_secret_hash(hash_secret(secret)):
        return None  # issued before key ids were fixed
    state = runtime.store.load(account_id, account.project)
    if key_id is not None and state is not None and any(k.key_id == key_id for k in state.api_keys):
        return None
    try:
        return runtime.handlers.accounts.issue_api_key(
            account_id, "bootstrap admin", "admin", secret, key_id
        ).secret
    except ConcurrencyConflict:
        return None


def locked_out(runtime: Runtime, account_id: UUID) -> bool:
    """Whether the stored account has no admin API key left that is not revoked."""
    state = runtime.store.load(account_id, account.project)
    return state is not None and not any(key.role == "admin" and not key.revoked for key in state.api_keys)


def account_for_new_key(store: EventStore) -> UUID:
    """The account ``dialstream api-keys issue`` means when none is named: the default
    account, or else the only one. Decided on the event store: read models are only as
    fresh as the last process that ran their projections (``accounts create`` runs none)."""
    if store.load(DEFAULT_ACCOUNT_ID, account.project) is not None:
        return DEFAULT_ACCOUNT_ID
    opened: list[AccountOpened] = []
    topic, after = stored_topic_of(AccountOpened), 0
    while batch := store.read_topics([topic], after, 1000):
        opened += [event for _, event in batch if isinstance(event, AccountOpened)]
        after = batch[-1][0]
    if len(opened) == 1:
        return opened[0].originator_id
    if not opened:
        raise LookupError(
            "no account here yet; `dialstream up` opens one, `dialstream accounts create` another"
        )
    choices = ", ".join(f"{event.originator_id} ({event.settings.general.account_name})" for event in opened)
    raise LookupError(f"several accounts; name one with --account: {choices}")
