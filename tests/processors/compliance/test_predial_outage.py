"""Redis stopped in the middle of a campaign-sized validation run: from the moment it is down,
every answer is deny with the reason, none is allow; started again, answers recover."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from uuid import UUID

from domain.predial import Verdict
from processors.compliance.predial import PreDialRequest, PreDialValidator
from processors.suppression.index import SuppressionEntry
from processors.suppression.redis_index import RedisSuppressionIndex
from schemas.settings import ComplianceSettings
from tests.redis import running

NOON_IN_NEW_YORK = datetime(2026, 3, 10, 16, tzinfo=UTC)
ACCOUNT = UUID("0a000000-0000-4000-8000-00000000000a")
DNC = UUID("00000000-0000-4000-8000-0000000000a1")
RECORDS = 50_000
BATCH = 100


def number(n: int) -> str:
    return f"+1212{200 + n // 10_000:03d}{n % 10_000:04d}"


def test_a_campaign_sized_run_fails_closed_from_the_moment_redis_is_down() -> None:
    with running() as server:
        index = RedisSuppressionIndex(server.url)
        try:
            index.clear()
            # Every tenth record's number is suppressed.
            index.add(
                SuppressionEntry(DNC, "voice", "phone", number(n), uuid.uuid4()) for n in range(0, RECORDS, 10)
            )
            validator = PreDialValidator(
                index, lambda *_: [DNC], lambda _: ComplianceSettings(), clock=lambda: NOON_IN_NEW_YORK
            )
            requests = [
                PreDialRequest(account_id=ACCOUNT, contact_info=number(n), time_zone="America/New_York")
                for n in range(RECORDS)
            ]
            answers: list[tuple[float, int, list[Verdict]]] = []
            down_at: list[float] = []

            def dial() -> None:
                for start in range(0, RECORDS, BATCH):
                    asked = time.monotonic()
                    answers.append((asked, start, validator.validate_many(requests[start : start + BATCH])))

            def outage() -> None:
                while len(answers) < RECORDS // BATCH // 10:  # a tenth of the way in (stopping takes a while)
                    time.sleep(0.001)
                server.stop()
                down_at.append(time.monotonic())

            threads = [threading.Thread(target=dial), threading.Thread(target=outage)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert down_at, "Redis was never stopped"

            before = [(start, v) for asked, start, verdicts in answers if asked < down_at[0] for v in verdicts]
            after = [v for asked, _, verdicts in answers if asked >= down_at[0] for v in verdicts]
            assert len(after) > RECORDS // 3, "most of the run happens with Redis down"
            assert not any(v.allowed for v in after), "an answer without the index must never allow"
            assert all(v.reasons[0].code == "index_unavailable" for v in after)
            assert validator.predial_index_unavailable_total.value >= len(after)
            answered = [v for _, v in before if not (v.reasons and v.reasons[0].code == "index_unavailable")]
            assert any(v.allowed for v in answered) and any(not v.allowed for v in answered)

            server.start()
            recovered = validator.validate_many(requests[:BATCH])
            assert [v.allowed for v in recovered] == [n % 10 != 0 for n in range(BATCH)]
        finally:
            index.close()
