"""``projections.sql.id_text``: an id's text as ``str`` gives it, whether kept or not, and the
texts kept never more than ``ID_TEXTS_KEPT``."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from projections import sql


def test_an_ids_text_is_its_str_the_first_time_and_every_time_after() -> None:
    ids = [uuid.uuid4() for _ in range(1_000)] + [UUID(int=0), UUID(int=2**128 - 1)]
    assert [sql.id_text(value) for value in ids] == [str(value) for value in ids]
    assert [sql.id_text(value) for value in ids] == [str(value) for value in ids]  # kept this time
    assert sql.id_text(UUID(str(ids[0]))) is sql.id_text(ids[0]), "equal ids share one text"


def test_the_texts_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "ID_TEXTS_KEPT", 10)
    monkeypatch.setattr(sql, "_ID_TEXTS", {})
    ids = [UUID(int=n) for n in range(25)]
    assert [sql.id_text(value) for value in ids] == [str(value) for value in ids]
    assert 0 < len(sql._ID_TEXTS) <= 10
