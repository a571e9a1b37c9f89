"""The composition root: builds the store, handlers, read models and bus for one process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from dialstream.handlers import Handlers, hash_secret
from dialstream.settings import Settings
from dialstream.store import EventStore, store_env
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
    bus: EmbeddedBus

    def start(self) -> None:
        self.catch_up()
        self.bus.start()

    def catch_up(self) -> None:
        """Bring every projection to the head of the log before serving."""
        while self.bus.run_once():
            pass

    def wait(self, position: int, timeout: float = 10.0) -> bool:
        """Read-your-writes: block until the read models include ``position``."""
        return self.bus.wait_until(position, timeout)

    def stop(self) -> None:
        self.bus.stop()
        self.views.close()
        self.store.close()


def build(settings: Settings) -> Runtime:
    if settings.bus != "embedded":
        raise ValueError(f"DIALSTREAM_BUS={settings.bus!r}: only the embedded bus exists in this build")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EventStore(store_env(settings.database_url))
    views = connect(settings.views_url)
    projections = ProjectionStore(views, all_projections())
    bus = EmbeddedBus(store)
    for name in projections.projections:
        bus.subscribe(ProjectionSubscriber(projections, name))
    return Runtime(
        settings=settings,
        store=store,
        handlers=Handlers(store),
        views=views,
        projections=projections,
        catalogue=CatalogueQueries(views),
        hierarchy=HierarchyQueries(views),
        credentials=CredentialQueries(views),
        bus=bus,
    )


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
