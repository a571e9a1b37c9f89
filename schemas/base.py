"""The base of every event: identity, position in its aggregate, tenant, time and version.

Every concrete event is a frozen msgspec ``Struct`` with an explicit, stable tag
(``"campaign_group.started"``), a ``schema_version`` and the Kafka topic it belongs to.
The set of tags is the public contract: a tag never changes meaning; a new shape is a
new ``schema_version`` with an upcaster registered in :mod:`schemas.registry`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """A fact that happened to one aggregate of one account."""

    # The eventsourcing library's DomainEventProtocol: id, version and time of the aggregate.
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    account_id: UUID
    schema_version: int = 1

    TOPIC: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def tag(cls) -> str:
        config = cls.__struct_config__
        return str(config.tag)
