"""The numeric codes of the Genesys outbound calling-list format, kept exactly.

Exports and integrations with existing OCS / CX Contact tooling read and write these
numbers, so a member's value never changes; names follow the product's wording.
"""

from __future__ import annotations

from enum import IntEnum


class RecordType(IntEnum):
    NO_RECORD_TYPE = 0
    UNKNOWN = 1
    GENERAL = 2  # what an import gives a record unless the file says otherwise
    CAMPAIGN_RESCHEDULED = 3
    PERSONAL_RESCHEDULED = 4
    PERSONAL_CALLBACK = 5
    CAMPAIGN_CALLBACK = 6
    NO_CALL = 7


class RecordStatus(IntEnum):
    NO_RECORD_STATUS = 0
    READY = 1
    RETRIEVED = 2
    UPDATED = 3
    STALE = 4
    CANCELLED = 5
    AGENT_ERROR = 6
    CHAIN_UPDATED = 7
    MISSED_CALLBACK = 8
    CHAIN_READY = 9


class ContactInfoType(IntEnum):
    NO_CONTACT_TYPE = 0
    HOME_PHONE = 1
    DIRECT_BUSINESS_PHONE = 2
    BUSINESS_WITH_EXTENSION = 3
    MOBILE = 4
    VACATION_PHONE = 5
    PAGER = 6
    MODEM = 7
    VOICE_MAIL = 8
    PIN_PAGER = 9
    EMAIL = 10


class CallResult(IntEnum):
    OK = 0
    TRANSFERRED = 1
    CONFERENCED = 2
    GENERAL_ERROR = 3
    SYSTEM_ERROR = 4
    REMOTE_RELEASE = 5
    BUSY = 6
    NO_ANSWER = 7
    SIT_DETECTED = 8
    ANSWERING_MACHINE = 9
    ALL_TRUNKS_BUSY = 10
    SIT_INVALID_NUMBER = 11
    SIT_VACANT_CODE = 12
    SIT_OPERATOR_INTERCEPT = 13
    SIT_UNKNOWN_CALL_STATE = 14
    SIT_NO_CIRCUIT = 15
    SIT_REORDER = 16
    FAX = 17
    QUEUE_FULL = 18
    CLEARED = 19
    OVERFLOWED = 20
    ABANDONED = 21
    REDIRECTED = 22
    FORWARDED = 23
    CONSULT = 24
    PICKED_UP = 25
    DROPPED = 26
    DROPPED_NO_ANSWER = 27
    UNKNOWN_CALL_RESULT = 28  # what an import gives a record that has never been called
    COVERED = 29
    CONVERSE_ON = 30
    BRIDGED = 31
    SILENCE = 32
    ANSWER = 33
    NU_TONE = 34
    NO_DIAL_TONE = 35
    NO_PROGRESS = 36
    NO_RINGBACK_TONE = 37
    NO_ESTABLISHED = 38
    PAGER_DETECTED = 39
    WRONG_PARTY = 40
    DIAL_ERROR = 41
    CALL_DROP_ERROR = 42
    SWITCH_ERROR = 43
    NO_FREE_PORT = 44
    TRANSFER_ERROR = 45
    STALE = 46
    AGENT_CALLBACK_ERROR = 47
    GROUP_CALLBACK_ERROR = 48
    DEAFENED = 49
    HELD = 50
    DO_NOT_CALL = 51
    CANCEL_RECORD = 52
    WRONG_NUMBER = 53


def parse_code(enum: type[IntEnum], text: str) -> IntEnum:
    """A code from a file: its number (``"6"``) or its name in any case (``"busy"``)."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return enum(int(text))
    return enum[text.upper().replace(" ", "_").replace("-", "_")]
