"""Which inbound SMS replies are opt-outs."""

from __future__ import annotations

import pytest

from domain.opt_out import is_opt_out

OPT_OUTS = [
    "STOP", "stop", "Stop", " stop \n", "STOP.", "Stop!", "'stop'",
    "STOPALL", "stop all", "Stop-All",
    "UNSUBSCRIBE", "unsubscribe", "CANCEL", "cancel", "END", "end", "QUIT", "Quit",
    "REVOKE", "OPT OUT", "opt-out", "optout", "Opt  Out",
]  # fmt: skip
NOT_OPT_OUTS = [
    "", "   ", "START", "UNSTOP", "HELP", "YES", "ok",
    "please stop texting me", "stop it", "don't stop", "STOPPED", "ending", "QUITE", "stopp",
    "cancel my order",
]  # fmt: skip


@pytest.mark.parametrize("text", OPT_OUTS)
def test_a_keyword_on_its_own_is_an_opt_out(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_anything_else_is_not(text: str) -> None:
    assert not is_opt_out(text)
