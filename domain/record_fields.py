"""The record fields a file column can be mapped to, and how custom fields are named.

A mapping target is one of ``TARGETS`` or ``custom:<name>`` for the user's own field.
``contact_info`` may be mapped from several columns (each with its contact info type):
a row with several phone columns becomes one chain of records, one per column.
"""

from __future__ import annotations

import re

CLIENT_ID = "client_id"
CONTACT_INFO = "contact_info"
CUSTOM_PREFIX = "custom:"

# Target -> what the column holds, for error messages and the API documentation.
TARGETS: dict[str, str] = {
    CLIENT_ID: "the customer's id, unique in a list (required)",
    CONTACT_INFO: "a phone number or an e-mail address; map several columns for a chain",
    "record_type": "record type code or name (default 2, general)",
    "record_status": "record status code or name (default 1, ready)",
    "call_result": "call result code or name (default 28, unknown call result)",
    "attempt": "attempts made so far (default 0)",
    "dial_sched_time": "when to dial: UTC epoch seconds or ISO 8601",
    "call_time": "last call: UTC epoch seconds or ISO 8601",
    "daily_from": "earliest local time of day to call: HH:MM[:SS] or seconds since midnight",
    "daily_till": "latest local time of day to call: HH:MM[:SS] or seconds since midnight",
    "time_zone": "the contact's own IANA time zone (contact source)",
    "postal_code": "the contact's postal code (contact source)",
    "country": "the contact's ISO 3166 country code",
    "state": "the contact's state or region",
}
CUSTOM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def is_custom(target: str) -> bool:
    return target.startswith(CUSTOM_PREFIX)


def custom_name(target: str) -> str:
    return target[len(CUSTOM_PREFIX) :]


def target_problem(target: str) -> str | None:
    """Why ``target`` is not a mapping target, or None when it is one."""
    if target in TARGETS:
        return None
    if is_custom(target):
        name = custom_name(target)
        if CUSTOM_NAME.match(name):
            return None
        return f"custom field name {name!r} must be letters, digits and _ (at most 63), not starting with a digit"
    return f"unknown field {target!r}: use one of {', '.join(TARGETS)} or custom:<name>"
