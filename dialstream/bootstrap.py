"""The composition root: builds the store, handlers, read models and bus for one process."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from dialstream.handlers import Handlers, hash_secret
from dialstream.settings import Settings
from dialstream.store import EventStore, store_env
from processors.bus import Bus
from processors.embedded_bus import EmbeddedBus
from projections.base import ProjectionStore, ProjectionSubscriber
from projections.catalogue import Catalogue, CatalogueQueries
from projections.credentials import CredentialQueries, Credentials
from projections.hierarchy import CampaignHierarchy, HierarchyQueries
from projections.sql import Database, connect

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT_NAME = "Default account"


def all_projections() -> list[Catalogue | Credentials | CampaignHierarchy]:
    return [Catalogue(), Credentials(), CampaignHierarchy()]


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
    bus: Bus

    def start(self) -> None:
        self.bus.start()

    def catch_up(self, timeout: float = 60.0) -> bool:
        """Bring every projection to the head of the log before serving."""
        caught_up = self.bus.catch_up(timeout)
        if not caught_up:
            log.warning("read models are behind the event log (bus %s)", self.settings.bus)
        return caught_up

    def wait(self, position: int, timeout: float = 10.0) -> bool:
        """Read-your-writes: block until the read models include ``position``."""
        return self.bus.wait_until(position, timeout)

    def stop(self) -> None:
        self.bus.stop()
        self.views.close()
        self.store.close()


def build(settings: Settings, *, relay: bool = True, workers: Sequence[str] | None = None) -> Runtime:
    """Wire one process. On Kafka, ``relay`` and ``workers`` (default: every projection)
    say what this process hosts besides the API; the rest run as their own processes."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EventStore(store_env(settings.database_url))
    views = connect(settings.views_url)
    projections = ProjectionStore(views, all_projections())
    return Runtime(
        settings=settings,
        store=store,
        handlers=Handlers(store),
        views=views,
        projections=projections,
        catalogue=CatalogueQueries(views),
        hierarchy=HierarchyQueries(views),
        credentials=CredentialQueries(views),
        bus=_bus(settings, store, projections, relay=relay, workers=workers),
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
        from processors.kafka import KafkaConfig
        from processors.kafka_bus import KafkaBus
        from processors.relay import RelayProgress

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
    ``DIALSTREAM_BOOTSTRAP_KEY`` set, that secret becomes the key, once.
    """
    runtime.catch_up()
    accounts = runtime.catalogue.accounts()
    wanted = runtime.settings.bootstrap_key
    if accounts:
        account_id = accounts[0].id
        if wanted is None or runtime.credentials.by_secret_hash(hash_secret(wanted)):
            return account_id, None
    else:
        account_id = runtime.handlers.open_account(DEFAULT_ACCOUNT_NAME).id
    issued = runtime.handlers.issue_api_key(account_id, "bootstrap admin", "admin", secret=wanted)
    runtime.catch_up()
    return account_id, issued.secret
