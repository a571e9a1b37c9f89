"""Whether an inbound SMS reply asks to stop messages (an opt-out). Pure.

The keywords are the carriers' common ones (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT)
and the two more the FCC's 2024 consent-revocation order names as revoking consent when sent
alone in reply (REVOKE, OPT OUT). A reply is an opt-out when it is one keyword and nothing
else: case, surrounding blanks and punctuation ("Stop.", " stop! ") and the spacing inside
("opt  out", "opt-out") do not matter; "please stop texting me" is not a keyword reply
(a person reads those). Erring towards an opt-out is the safe side: a missed STOP is a
compliance breach, an extra one costs a contact.
"""

from __future__ import annotations

import re
from typing import Final

OPT_OUT_KEYWORDS: Final[frozenset[str]] = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
# Blanks, hyphens and underscores between letters ("OPT OUT", "opt-out", "STOP ALL").
_SEPARATORS = re.compile(r"[\s\-_]+")
_PUNCTUATION = " \t\r\n.,;:!?\"'()[]*"


def is_opt_out(text: str) -> bool:
    """True when the reply ``text`` is an opt-out keyword on its own."""
    word = _SEPARATORS.sub("", text.strip(_PUNCTUATION)).upper()
    return word in OPT_OUT_KEYWORDS
