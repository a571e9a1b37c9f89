"""What happened to an SMS or an e-mail, as a Genesys call result (:class:`domain.codes.CallResult`).

A message campaign keeps the calling-list format: the record's ``call_result`` and the
treatments keyed on it work as for calls. The channel adapters
(:mod:`processors.channels`) translate their protocol's answers (SMTP reply codes, a
provider's HTTP errors and delivery-status webhooks) into the kinds below; this module says
which call result each kind is, so both channels agree. Pure.

Sending (the channel took the message, or did not):

=================  ==============================================  ==========================
failure            when                                            call result
=================  ==============================================  ==========================
invalid_address    the destination does not exist or cannot take   11 SIT invalid number
                   this channel (SMTP 5.1.x / 550 on RCPT; an
                   invalid or non-mobile number)
opted_out          the provider refuses: the recipient opted out   51 do not call
rejected           refused for good, not for the address (content, 3 general error
                   policy, size)
unavailable        the service could not take it: down, timeout,   4 system error
                   a temporary (4xx) refusal, our credentials
                   refused, the provider rate-limits or errs (5xx)
=================  ==============================================  ==========================

Why these: SIT invalid number is what the telephony's "number not in service" already gives
(:data:`domain.dialing.UNANSWERED_RESULTS`), so "this device cannot be reached on this channel"
means one thing whatever the channel, and counts as a line failure
(:func:`domain.call_attempts.failure_of`). Wrong number (53) and wrong party (40) are left to
people (an agent's or the contact's own word), which no server can tell. System error is the
telephony's network error: retryable, and not the record's fault; general error is the one
permanent failure a treatment plan should not simply retry.

Delivery (the provider's later report on an accepted message):

=================  ==============================================  ==========================
status             when                                            call result
=================  ==============================================  ==========================
pending            queued, accepted, sending, sent                 none yet
delivered          delivered (or read)                             33 answer
unreachable        the handset is off or out of coverage           7 no answer
undeliverable      unknown handset, landline, no such mailbox      11 SIT invalid number
opted_out          the recipient had opted out                     51 do not call
failed             anything else (carrier filtering, provider      3 general error
                   error, cancelled)
(no report)        none came long after the provider's validity    28 unknown call result
                   period (:data:`UNREPORTED_RESULT`)
=================  ==============================================  ==========================

Delivered is "answer" rather than "ok" (0): answer is what a plan's "the contact was reached,
the chain is done" rules key on (outbound-facts: the results retry rules usually key on), and
what a talked call gets (:func:`domain.dialing.connected_result`). An unreachable handset is
"no answer": the device exists and a later attempt may reach it. A message never reported on
may or may not have arrived: "unknown call result" says so, and a plan that retries no answers
does not send it twice.
"""

from __future__ import annotations

from typing import Final, Literal

from domain.codes import CallResult

SendFailure = Literal["invalid_address", "opted_out", "rejected", "unavailable"]
DeliveryStatus = Literal["pending", "delivered", "unreachable", "undeliverable", "opted_out", "failed"]

UNREPORTED_RESULT: Final = CallResult.UNKNOWN_CALL_RESULT

SEND_FAILURE_RESULTS: Final[dict[SendFailure, CallResult]] = {
    "invalid_address": CallResult.SIT_INVALID_NUMBER,
    "opted_out": CallResult.DO_NOT_CALL,
    "rejected": CallResult.GENERAL_ERROR,
    "unavailable": CallResult.SYSTEM_ERROR,
}

DELIVERY_RESULTS: Final[dict[DeliveryStatus, CallResult | None]] = {
    "pending": None,
    "delivered": CallResult.ANSWER,
    "unreachable": CallResult.NO_ANSWER,
    "undeliverable": CallResult.SIT_INVALID_NUMBER,
    "opted_out": CallResult.DO_NOT_CALL,
    "failed": CallResult.GENERAL_ERROR,
}


def send_failure_result(failure: SendFailure) -> CallResult:
    """The call result of a message the channel did not take."""
    return SEND_FAILURE_RESULTS[failure]


def delivery_result(status: DeliveryStatus) -> CallResult | None:
    """The call result of a delivery report; None while the message is still on its way."""
    return DELIVERY_RESULTS[status]
