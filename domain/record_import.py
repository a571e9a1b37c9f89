"""From a file row to a chain draft: validate, normalise numbers, assign time zones.

Pure and picklable, so a large import can draft its rows in worker processes while the
main process stores them. Every decision about one row is here; what the list already
holds (duplicates, append types) is decided afterwards in :mod:`domain.record_chain`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from phonenumbers import PhoneNumberType

from domain import phones, time_zones
from domain.codes import CallResult, ContactInfoType, RecordStatus, RecordType, parse_code
from domain.record_chain import ChainDraft, Rejection, chain_id, record_id
from schemas.imports import RowRules
from schemas.records import Contact, Record

MAX_CLIENT_ID = 255
MAX_VALUE = 4000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CODE_FIELDS = {
    "record_type": RecordType,
    "record_status": RecordStatus,
    "call_result": CallResult,
}
CONTACT_FIELDS = ("postal_code", "country", "state", "time_zone")


@dataclass(frozen=True)
class ContactColumn:
    index: int
    column: str
    contact_info_type: int


@dataclass(frozen=True)
class RowPlan:
    """Where each mapped field is in a row: column positions resolved once per file."""

    client_id: int
    client_column: str
    contacts: tuple[ContactColumn, ...]
    fields: tuple[tuple[str, int, str], ...]  # (record or contact field, index, column)
    custom: tuple[tuple[str, int], ...]  # (custom field name, index)


@dataclass(frozen=True)
class Drafting:
    """Everything a worker needs to draft rows of one job."""

    list_id: UUID
    plan: RowPlan
    rules: RowRules
    custom_zones: time_zones.CustomZones


def drafting(list_id: UUID, plan: RowPlan, rules: RowRules) -> Drafting:
    return Drafting(list_id, plan, rules, time_zones.CustomZones.of(rules.custom_time_zones))


class RowError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def draft_rows(ctx: Drafting, rows: Sequence[tuple[int, list[str]]]) -> list[ChainDraft | Rejection]:
    return [draft_row(ctx, line, values) for line, values in rows]


def draft_row(ctx: Drafting, line: int, values: list[str]) -> ChainDraft | Rejection:
    try:
        return _draft(ctx, line, values)
    except RowError as error:
        return Rejection(line=line, reason=error.reason, field=error.field, raw=_raw(values))


def _raw(values: list[str]) -> str:
    return ",".join(values)[:200]


def _draft(ctx: Drafting, line: int, values: list[str]) -> ChainDraft:
    plan, rules = ctx.plan, ctx.rules
    client = values[plan.client_id].strip()
    if not client:
        raise RowError(plan.client_column, f"line {line}: the client id ({plan.client_column}) is empty")
    if len(client) > MAX_CLIENT_ID:
        raise RowError(
            plan.client_column, f"line {line}: the client id is longer than {MAX_CLIENT_ID} characters"
        )
    given: dict[str, str] = {}
    for name, index, column in plan.fields:
        value = values[index].strip()
        if len(value) > MAX_VALUE:
            raise RowError(column, f"line {line}: {column} is longer than {MAX_VALUE} characters")
        if value:
            given[name] = value
    contact = Contact(**{k: given[k] for k in CONTACT_FIELDS if k in given})
    shared = _record_fields(given, rules, line)
    chain = chain_id(ctx.list_id, client)
    records: list[Record] = []
    dropped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for source in plan.contacts:
        raw = values[source.index].strip()
        if not raw:
            continue
        if source.contact_info_type == ContactInfoType.EMAIL:
            info, zone = _email(raw), _contact_zone(ctx, contact)
            if info is None:
                dropped.append((source.column, f"{raw!r} is not an e-mail address"))
                continue
        else:
            device = phones.normalise(raw, rules.phone_region)
            if rules.channel == "sms" and isinstance(device, phones.Device) and not phones.can_text(device):
                # valid, so "keep invalid numbers" does not keep it: no SMS can ever reach it
                dropped.append(
                    (source.column, f"{raw!r} is a {_kind(device)} number; an SMS list texts mobiles")
                )
                continue
            if isinstance(device, phones.PhoneProblem):
                if rules.reject_invalid_numbers:
                    dropped.append((source.column, device.reason))
                    continue
                info = raw
                zone = time_zones.Assignment(rules.default_time_zone_on_error, "default_on_error")
            else:
                info, zone = device.e164, _zone(ctx, contact, device)
        if info in seen:
            continue
        seen.add(info)
        records.append(
            Record(
                record_id=record_id(chain, len(records) + 1),
                chain_n=len(records) + 1,
                contact_info=info,
                contact_info_type=source.contact_info_type,
                time_zone=zone.zone,
                time_zone_rule=zone.rule,  # type: ignore[arg-type]
                second_time_zone=zone.second_zone,
                **shared,
            )
        )
    if not records:
        columns = ", ".join(c.column for c in plan.contacts)
        reasons = "; ".join(f"{column}: {reason}" for column, reason in dropped)
        raise RowError(
            dropped[0][0] if dropped else (plan.contacts[0].column if plan.contacts else ""),
            f"line {line}: no valid contact info ({reasons})"
            if reasons
            else f"line {line}: no contact info in {columns}",
        )
    custom = {name: values[index].strip() for name, index in plan.custom if values[index].strip()}
    return ChainDraft(
        line=line,
        client_id=client,
        chain_id=chain,
        records=records,
        contact=contact,
        custom=custom,
        dropped=dropped,
    )


def _zone(ctx: Drafting, contact: Contact, device: phones.Device | None) -> time_zones.Assignment:
    rules = ctx.rules
    return time_zones.assign(
        source=rules.time_zone_source,
        device=device,
        contact_zone=contact.time_zone or None,
        postal_code=contact.postal_code or None,
        country=contact.country or None,
        custom=ctx.custom_zones,
        default_zone=rules.default_time_zone,
        default_on_error=rules.default_time_zone_on_error,
    )


def _contact_zone(ctx: Drafting, contact: Contact) -> time_zones.Assignment:
    return _zone(ctx, contact, None)


def _kind(device: phones.Device) -> str:
    return PhoneNumberType.to_string(device.number_type).lower().replace("_", " ")


def _email(raw: str) -> str | None:
    if not EMAIL.match(raw):
        return None
    local, _, domain = raw.rpartition("@")
    return f"{local}@{domain.lower()}"


def _record_fields(given: dict[str, str], rules: RowRules, line: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"record_type": rules.default_record_type}
    for name, enum in CODE_FIELDS.items():
        if name in given:
            try:
                fields[name] = int(parse_code(enum, given[name]))
            except (KeyError, ValueError):
                raise RowError(
                    name, f"line {line}: {given[name]!r} is not a {name.replace('_', ' ')} code"
                ) from None
    if "attempt" in given:
        if not given["attempt"].isdigit():
            raise RowError("attempt", f"line {line}: attempt {given['attempt']!r} is not a whole number")
        fields["attempt"] = int(given["attempt"])
    for name in ("dial_sched_time", "call_time"):
        if name in given:
            fields[name] = _epoch(given[name], name, line)
    for name in ("daily_from", "daily_till"):
        if name in given:
            fields[name] = _time_of_day(given[name], name, line)
    return fields


def _epoch(text: str, name: str, line: int) -> int:
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(name, f"line {line}: {name} {text!r} is neither epoch seconds nor ISO 8601") from None
    if moment.tzinfo is None:
        raise RowError(name, f"line {line}: {name} {text!r} needs a UTC offset (e.g. Z or +02:00)")
    return int(moment.timestamp())


def _time_of_day(text: str, name: str, line: int) -> int:
    if text.isdigit():
        seconds = int(text)
    else:
        parts = text.split(":")
        if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            raise RowError(name, f"line {line}: {name} {text!r} is not HH:MM[:SS]")
        hours, minutes, secs = (int(p) for p in [*parts, "0"][:3])
        if hours > 24 or minutes > 59 or secs > 59:
            raise RowError(name, f"line {line}: {name} {text!r} is not a time of day")
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds > 86400:
        raise RowError(name, f"line {line}: {name} {text!r} is after midnight")
    return seconds
