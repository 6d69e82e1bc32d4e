from pathlib import Path

import pytest

from bot.app.config import ConfigError, Settings, load_settings


def _load(**values: object) -> Settings:
    return load_settings(_env_file=None, **values)


def test_defaults_use_the_sandbox() -> None:
    settings = _load()
    assert settings.uses_sandbox
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_path == Path("data/bot.sqlite3")
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.default_language == "en"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGER_URL", "https://exchange.example/")
    monkeypatch.setenv("EXCHANGER_API_LOGIN", "login")
    monkeypatch.setenv("EXCHANGER_API_KEY", "k" * 32)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "RU")
    settings = _load()
    assert settings.exchanger_url == "https://exchange.example"
    assert settings.default_language == "ru"
    assert not settings.uses_sandbox


def test_secrets_never_show_in_repr_or_errors() -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    settings = _load(
        exchanger_url="https://x.example",
        exchanger_api_login="l",
        exchanger_api_key=secret,
        secret_key=secret,
    )
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    with pytest.raises(ConfigError) as caught:
        _load(bot_token=secret)
    assert "BOT_TOKEN" in str(caught.value) and secret not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"telegram_api_url": "api.telegram.org"}, "TELEGRAM_API_URL"),
        ({"public_url": "not a url"}, "PUBLIC_URL"),
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
        ({"exchanger_url": "https://x.example", "exchanger_api_login": "l"}, "EXCHANGER_API_KEY"),
    ],
)
def test_wrong_values_name_the_variable(values: dict[str, object], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        _load(**values)


def test_empty_strings_mean_unset() -> None:
    settings = _load(bot_token="", exchanger_url="", public_url=" ")
    assert settings.bot_token is None and settings.exchanger_url is None and settings.public_url is None
