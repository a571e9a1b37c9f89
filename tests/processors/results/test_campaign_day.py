"""A small simulated campaign day (see :mod:`tests.processors.results.campaign_day`): 160 chains
of one to three devices, four virtual hours from 19:00 New York time; ``make bench ONLY=day``
runs the same day over 10,000 chains."""

from __future__ import annotations

from pathlib import Path

import pytest

from processors.dialer.virtual import run_virtual
from processors.telephony.simulator import Rates, Timings
from tests.processors.dialer.support import lab
from tests.processors.results.campaign_day import EVENING, check, plan_day


@pytest.mark.timeout(600)  # about 30 s alone; several times that beside the other slow tests
def test_a_campaign_day_ends_with_every_record_explained_by_its_treatments(tmp_path: Path) -> None:
    with lab(tmp_path, seed=5, rates=Rates(answer_person=0.3), timings=Timings(talk_mean_s=60.0), epoch=EVENING) as L:
        day = plan_day(L, 160, agents=4)
        run_virtual(L.dialer, L.clock, until=L.clock.now() + 4 * 3600.0)
        L.settle()
        counts = check(L, day, tmp_path)
    # The day did what it is meant to exercise (each rule above had cases to hold for).
    assert counts["calls"] > 160 and counts["retried"] > 0 and counts["moved_on"] > 0, counts
