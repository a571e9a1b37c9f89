"""faust-streaming runs with croniter 7, which we force above mode-streaming's cap (< 6).

croniter before 6 mis-handles daylight-saving changes with zoneinfo zones; these tests pin
the behaviour we rely on and show faust's agents and crontab helper still work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from itertools import pairwise
from zoneinfo import ZoneInfo

import faust
from croniter import croniter
from faust.utils.cron import secs_for_next

NEW_YORK = ZoneInfo("America/New_York")


def test_the_lock_holds_croniter_7_and_faust_0_15() -> None:
    assert int(version("croniter").split(".")[0]) >= 7
    assert tuple(int(p) for p in version("faust-streaming").split(".")[:2]) >= (0, 15)


def test_spring_forward_still_fires_that_day_at_the_first_valid_instant() -> None:
    schedule = croniter("30 2 * * *", datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK))
    fires = [schedule.get_next(datetime) for _ in range(3)]
    # 02:30 does not exist on 8 March 2026 in New York; the job runs at 03:00 EDT.
    assert fires[0].astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert [f.astimezone(UTC).hour for f in fires[1:]] == [6, 6]  # 02:30 EDT afterwards


def test_hourly_jobs_across_fall_back_run_once_per_real_hour() -> None:
    schedule = croniter("0 * * * *", datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK))
    fires = [schedule.get_next(datetime).astimezone(UTC) for _ in range(4)]
    assert [b - a for a, b in pairwise(fires)] == [timedelta(hours=1)] * 3


def test_faust_crontab_helper_uses_croniter_7() -> None:
    seconds = secs_for_next("*/5 * * * *", NEW_YORK)
    assert 0 < seconds <= 300


# test_context() drives the agent without a broker; the Kafka URL is never dialled.
app = faust.App("dialstream-croniter-check", broker="kafka://127.0.0.1:9", store="memory://")
numbers = app.topic("numbers", value_type=int)


@app.agent(numbers)
async def doubled(stream):  # type: ignore[no-untyped-def]
    async for value in stream:
        yield value * 2


async def test_a_faust_agent_processes_events_in_its_test_context() -> None:
    async with doubled.test_context() as agent:
        event = await agent.put(21)
        assert agent.results[event.message.offset] == 42
