"""An attempt's message: a campaign's template filled from the record it goes to.

Input: the template, the sender, the record with its chain's client id, contact and custom
fields, and the attempt id. Output: the :class:`~processors.channels.port.OutboundMessage` for
the channel. The filling is :mod:`domain.message_template`'s; a field the record lacks raises
its :class:`~domain.message_template.TemplateFieldMissing`, and no message is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from domain.message_template import MessageTemplate, fill, record_fields
from processors.channels.port import MessageChannel, OutboundMessage
from schemas.records import Contact, Record


def message_for(
    template: MessageTemplate,
    *,
    channel: MessageChannel,
    sender: str,
    attempt_id: UUID,
    record: Record,
    client_id: str,
    contact: Contact,
    custom: Mapping[str, str],
) -> OutboundMessage:
    """The message of ``attempt_id`` to ``record.contact_info``, its template filled."""
    fields = record_fields(record, client_id=client_id, contact=contact, custom=custom)
    subject = fill(template.subject, fields, record=record.record_id, part="subject") if channel == "email" else ""
    body = fill(template.body, fields, record=record.record_id, part="body")
    return OutboundMessage(attempt_id, channel, record.contact_info, sender, body, subject)
