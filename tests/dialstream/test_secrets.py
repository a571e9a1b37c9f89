"""The secret box: what it seals only its key opens, and the key it keeps is its owner's alone."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from dialstream.bootstrap import build
from dialstream.secrets import KEY_FILE, PREFIX, SecretBox, SecretUnreadable
from dialstream.settings import Settings, SettingsError
from domain.account import SEALED

PASSWORD = "correct horse battery staple"


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_what_is_sealed_opens_again_and_is_not_readable_sealed() -> None:
    box = SecretBox(_key())

    sealed = box.seal(PASSWORD)

    assert sealed.startswith(PREFIX) and sealed.startswith(SEALED)  # what the account's rule asks
    assert PASSWORD not in sealed
    assert box.open(sealed) == PASSWORD
    assert box.seal(PASSWORD) != sealed  # a fresh IV each time: equal secrets do not show


def test_another_key_refuses_with_an_error_that_says_why() -> None:
    sealed = SecretBox(_key()).seal(PASSWORD)

    with pytest.raises(SecretUnreadable, match="sealed with another key") as refused:
        SecretBox(_key(), key_source="DIALSTREAM_SECRET_KEY").open(sealed)

    assert "DIALSTREAM_SECRET_KEY" in str(refused.value)
    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize("text", [PASSWORD, "sealed:v1:not-a-token", PREFIX + "gAAAAAB" + "A" * 80])
def test_what_is_not_a_sealed_secret_is_refused(text: str) -> None:
    with pytest.raises(SecretUnreadable):
        SecretBox(_key()).open(text)


def test_a_tampered_secret_is_refused() -> None:
    box = SecretBox(_key())
    sealed = box.seal(PASSWORD)
    flipped = sealed[:-8] + ("A" if sealed[-8] != "A" else "B") + sealed[-7:]

    with pytest.raises(SecretUnreadable):
        box.open(flipped)


def test_without_a_key_one_is_made_on_first_use_for_its_owner_only_and_kept(tmp_path: Path) -> None:
    box = SecretBox(directory=tmp_path)
    assert not (tmp_path / KEY_FILE).exists()  # nothing is written until a secret is sealed

    sealed = box.seal(PASSWORD)

    kept = tmp_path / KEY_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert SecretBox(directory=tmp_path).open(sealed) == PASSWORD  # a second box, the same key
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temporary file left behind


def test_a_kept_key_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("not a key\n")

    with pytest.raises(SecretUnreadable, match=KEY_FILE):
        SecretBox(directory=tmp_path).seal(PASSWORD)


def test_the_setting_key_is_used_when_given_and_no_file_is_made(tmp_path: Path) -> None:
    key = _key()
    settings = Settings.from_env(
        {"DIALSTREAM_DATA_DIR": str(tmp_path / "data"), "DIALSTREAM_SECRET_KEY": key}
    )
    runtime = build(settings)
    try:
        sealed = runtime.handlers.context.secrets.seal(PASSWORD)
        assert runtime.secrets is runtime.handlers.context.secrets
    finally:
        runtime.stop()

    assert SecretBox(key).open(sealed) == PASSWORD
    assert not (tmp_path / "data" / KEY_FILE).exists()


def test_the_runtime_keeps_its_key_in_the_data_dir_when_none_is_given(tmp_path: Path) -> None:
    runtime = build(Settings(data_dir=tmp_path))
    try:
        sealed = runtime.secrets.seal(PASSWORD)
    finally:
        runtime.stop()

    assert SecretBox(directory=tmp_path).open(sealed) == PASSWORD


@pytest.mark.parametrize("key", ["too short", "A" * 44, base64.urlsafe_b64encode(b"x" * 31).decode()])
def test_a_secret_key_that_cannot_work_names_its_variable_and_is_not_repeated(
    tmp_path: Path, key: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"DIALSTREAM_DATA_DIR": str(tmp_path), "DIALSTREAM_SECRET_KEY": key})

    assert refused.value.source == "DIALSTREAM_SECRET_KEY"
    assert "32 random bytes" in refused.value.problem
    assert key not in str(refused.value)
