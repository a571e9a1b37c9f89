"""The Kafka topics of the public contract, one per stream of related aggregates.

Every event class names the topic it belongs to (``Event.TOPIC``). Records are keyed by
aggregate id, so each aggregate's events land on one partition and keep their order.
The value is the event's msgspec JSON; headers carry its type, schema version, event id
and log position (see :mod:`processors.bus.wire`).

:data:`CATALOGUE` is what ``dialstream topics create`` makes: partitions sized to each
stream's volume, event topics kept forever (they are the replayable history a new
consumer group starts from), the dead-letter topic kept for 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass

SETTINGS = "settings"
PROFILES = "profiles"
CAMPAIGNS = "campaigns"
LISTS = "lists"
RECORDS = "records"
CALL_ATTEMPTS = "call-attempts"
SUPPRESSIONS = "suppressions"
AUTOMATION = "automation"
AGENTS = "agents"

ALL_TOPICS: tuple[str, ...] = (
    SETTINGS,
    PROFILES,
    CAMPAIGNS,
    LISTS,
    RECORDS,
    CALL_ATTEMPTS,
    SUPPRESSIONS,
    AUTOMATION,
    AGENTS,
)

# Records no consumer could decode (bad bytes, unknown type, future schema version),
# parked with their origin so that an operator can inspect and replay them.
DEAD_LETTER = "dead-letter"

FOREVER = -1
DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    retention_ms: int = FOREVER
    cleanup_policy: str = "delete"

    def config(self) -> dict[str, str]:
        return {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}


CATALOGUE: tuple[TopicSpec, ...] = (
    TopicSpec(SETTINGS, 1, "account id or name-claim id"),
    TopicSpec(PROFILES, 3, "dialing or session profile id"),
    TopicSpec(CAMPAIGNS, 3, "campaign template or group id"),
    TopicSpec(LISTS, 6, "contact list or import job id"),
    TopicSpec(RECORDS, 12, "record chain id (derived from list and client id)"),
    TopicSpec(CALL_ATTEMPTS, 12, "record id"),
    TopicSpec(SUPPRESSIONS, 6, "suppression list id"),
    TopicSpec(AUTOMATION, 3, "automation job id"),
    TopicSpec(AGENTS, 6, "agent id (derived from account and login)"),
    TopicSpec(DEAD_LETTER, 1, "the original key", retention_ms=30 * DAY_MS),
)
BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in CATALOGUE}


def kafka_name(topic: str, prefix: str = "") -> str:
    """The topic's name on the broker: a deployment may share a cluster under a prefix."""
    return f"{prefix}{topic}"
