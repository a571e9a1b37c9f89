"""The Kafka topics of the public contract, one per stream of related aggregates.

Every event class names the topic it belongs to (``Event.TOPIC``); records on a topic
are keyed by aggregate id so that each aggregate's events keep their order.
"""

from __future__ import annotations

SETTINGS = "settings"
PROFILES = "profiles"
CAMPAIGNS = "campaigns"
LISTS = "lists"
RECORDS = "records"
CALL_ATTEMPTS = "call-attempts"
SUPPRESSIONS = "suppressions"
AUTOMATION = "automation"

ALL_TOPICS: tuple[str, ...] = (
    SETTINGS,
    PROFILES,
    CAMPAIGNS,
    LISTS,
    RECORDS,
    CALL_ATTEMPTS,
    SUPPRESSIONS,
    AUTOMATION,
)
