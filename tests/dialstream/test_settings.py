"""The settings object is checked whole when it is made: every value that cannot work
raises one SettingsError naming the variable, or the flag, it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialstream.settings import Settings, SettingsError


def _env(tmp_path: Path, **variables: str) -> dict[str, str]:
    return {"DIALSTREAM_DATA_DIR": str(tmp_path / "data"), **variables}


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DIALSTREAM_BOOTSTRAP_KEY", "abc", "at least 20 characters"),
        ("DIALSTREAM_DATABASE_URL", "mysql://root:pw@db/dialstream", "'mysql' databases are not supported"),
        ("DIALSTREAM_DATABASE_URL", "not a url", "not a URL"),
        ("DIALSTREAM_DATABASE_URL", "sqlite://events.sqlite", "three slashes"),
        ("DIALSTREAM_DATABASE_URL", "postgresql://u:p@db:port/x", "port in the URL is not a number"),
        ("DIALSTREAM_VIEWS_URL", "redis://localhost/0", "'redis' databases are not supported"),
        ("DIALSTREAM_VIEWS_URL", "sqlite:////nowhere/at/all/views.sqlite", "/nowhere/at/all, does not exist"),
        ("DIALSTREAM_PORT", "abc", "'abc' is not a port number"),
        ("DIALSTREAM_PORT", "0", "0 is not a port number"),
        ("DIALSTREAM_PORT", "65536", "65536 is not a port number"),
        ("DIALSTREAM_BUS", "kafka", "'kafka' is not a bus"),
        ("DIALSTREAM_BUS", "kafka://", "no broker address"),
        ("DIALSTREAM_BUS", "kafka://broker", "'broker' is not HOST:PORT"),
        ("DIALSTREAM_BUS", "kafka://a:9092,b:x", "'b:x': the port is not a number"),
        ("DIALSTREAM_SUPPRESSION_INDEX", "redis", "it is not a URL"),
        ("DIALSTREAM_SUPPRESSION_INDEX", "memcached://cache:11211", "'memcached' URLs are not supported"),
        ("DIALSTREAM_SUPPRESSION_INDEX", "redis://cache:x/0", "port in the URL is not a number"),
        ("DIALSTREAM_SUPPRESSION_INDEX", "redis://cache:6379/zero", "the database 'zero' is not a number"),
        ("DIALSTREAM_SUPPRESSION_INDEX", "redis://", "no host"),
    ],
)
def test_a_value_that_cannot_work_names_its_variable(tmp_path: Path, variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(_env(tmp_path, **{variable: value}))
    assert refused.value.source == variable
    assert says in refused.value.problem
    assert str(refused.value).startswith(f"{variable}: ")
    assert not (tmp_path / "data").exists()


def test_secrets_in_urls_are_not_repeated(tmp_path: Path) -> None:
    for variable in ("DIALSTREAM_DATABASE_URL", "DIALSTREAM_SUPPRESSION_INDEX"):
        with pytest.raises(SettingsError) as refused:
            Settings.from_env(_env(tmp_path, **{variable: "mysql://admin:s3cret@db/x"}))
        assert "s3cret" not in str(refused.value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(_env(tmp_path, DIALSTREAM_BOOTSTRAP_KEY="short-secret"))
    assert "short-secret" not in str(refused.value)


def test_a_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"DIALSTREAM_DATA_DIR": str(tmp_path / "a-file" / "data")})
    assert refused.value.source == "DIALSTREAM_DATA_DIR"
    assert f"{tmp_path / 'a-file'} is not a directory" in refused.value.problem
    with pytest.raises(SettingsError, match="DIALSTREAM_DATA_DIR: cannot use"):
        Settings.from_env({"DIALSTREAM_DATA_DIR": str(tmp_path / "a-file")})


def test_a_value_given_as_a_flag_is_named_by_the_flag(tmp_path: Path) -> None:
    env = _env(tmp_path, DIALSTREAM_PORT="8081", DIALSTREAM_BUS="embedded")
    with pytest.raises(SettingsError, match=r"^--port: 'http' is not a port number"):
        Settings.from_env(env, port="http")
    with pytest.raises(SettingsError, match=r"^--bus: 'kafka:9092' is not a bus"):
        Settings.from_env(env, bus="kafka:9092")
    with pytest.raises(SettingsError, match=r"^--data-dir: "):
        Settings.from_env(env, data_dir=Path("/dev/null/data"))
    with pytest.raises(SettingsError, match=r"^DIALSTREAM_BOOTSTRAP_KEY: "):
        Settings(data_dir=tmp_path, bootstrap_key="abc")  # made in code: named by its variable


def test_every_documented_form_is_accepted(tmp_path: Path) -> None:
    settings = Settings.from_env(
        _env(
            tmp_path,
            DIALSTREAM_PORT="8081",
            DIALSTREAM_DATABASE_URL="postgresql://dialstream:pw@db.example:5433/dialstream",
            DIALSTREAM_BUS="kafka://k1:9092,k2:9093",
            DIALSTREAM_SUPPRESSION_INDEX="redis://cache:6379/2",
            DIALSTREAM_BOOTSTRAP_KEY="x" * 20,
        )
    )
    assert settings.port == 8081 and settings.views_url == settings.database_url
    for index in ("embedded", "redis://cache", "rediss://cache:6380/0", "unix:///run/redis.sock"):
        assert Settings(data_dir=tmp_path, suppression_index=index).suppression_index == index
    for bus in ("embedded", "kafka://127.0.0.1:9092", "kafka://[::1]:9092"):
        assert Settings(data_dir=tmp_path, bus=bus).bus == bus
    default = Settings.from_env({"DIALSTREAM_DATA_DIR": str(tmp_path)})
    assert default.database_url == f"sqlite:///{tmp_path}/events.sqlite"
    assert not any(tmp_path.iterdir()), "making the settings writes nothing"
