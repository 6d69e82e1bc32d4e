"""Settings from the environment, then `.env`. Secrets are `SecretStr` and never printed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.platforms.registry import PLATFORMS, PlatformConfig, PlatformConfigError, module_of

SUPPORTED_LANGUAGES = ("en", "ru")
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")


class ConfigError(Exception):
    """One clear line naming the variable that is wrong; never contains its value."""


class StartupError(Exception):
    """The bot cannot start for a reason the operator must fix; the message says which."""


def _http_url(value: str | None, *, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL such as https://example.com")
    return value.strip().rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    exchanger_platform: str = "premiumexchanger"
    exchanger_url: str | None = None
    exchanger_api_login: str | None = None
    exchanger_api_key: SecretStr | None = None
    exchanger_api_secret: SecretStr | None = None
    exchanger_webhook_secret: SecretStr | None = None
    database_path: Path = Path("data/bot.sqlite3")
    secret_key: SecretStr | None = None
    public_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    default_language: Literal["en", "ru"] = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # The operator's Telegram accounts (comma-separated user ids): they get the admin commands.
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # Shown in /help and the main menu: a Telegram @username or an https URL; hidden when unset.
    support_contact: str | None = None
    # Set: Telegram delivers updates to this URL (served by the bot's HTTP server) instead of polling.
    telegram_webhook_url: str | None = None
    telegram_webhook_delete_on_shutdown: bool = True
    # How long a stopping bot lets updates in flight finish before it closes.
    shutdown_grace_seconds: float = Field(20.0, ge=0, le=300)

    @field_validator(
        "bot_token",
        "exchanger_api_key",
        "exchanger_api_secret",
        "exchanger_webhook_secret",
        "secret_key",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("exchanger_api_login", mode="before")
    @classmethod
    def _empty_login_is_unset(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("BOT_TOKEN does not look like a token from @BotFather (digits:letters)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("SECRET_KEY must be at least 16 characters (or unset, to generate one)")
        return value

    @field_validator("telegram_api_url", mode="before")
    @classmethod
    def _telegram_url(cls, value: str) -> str:
        url = _http_url(value, name="TELEGRAM_API_URL")
        if url is None:
            raise ValueError("TELEGRAM_API_URL must not be empty")
        return url

    @field_validator("exchanger_url", mode="before")
    @classmethod
    def _exchanger_url(cls, value: str | None) -> str | None:
        return _http_url(value, name="EXCHANGER_URL")

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return _http_url(value, name="PUBLIC_URL")

    @field_validator("telegram_webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        url = _http_url(value, name="TELEGRAM_WEBHOOK_URL")
        if url is not None and not url.startswith("https://"):
            raise ValueError("TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram refuses plain http)")
        return url

    @field_validator("support_contact", mode="before")
    @classmethod
    def _support_contact(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return None
        if re.fullmatch(r"@?[A-Za-z][A-Za-z0-9_]{4,31}", text):
            return "@" + text.lstrip("@")
        if re.fullmatch(r"https?://[^\s<>\"']{1,200}", text):
            return text
        raise ValueError("SUPPORT_CONTACT must be a Telegram @username or an http(s) URL")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if not all(re.fullmatch(r"[1-9]\d{0,15}", part) for part in ids):
            raise ValueError("ADMIN_IDS must be Telegram user ids separated by commas, such as 12345,67890")
        return frozenset(int(part) for part in ids)

    @field_validator("default_language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("exchanger_platform", mode="before")
    @classmethod
    def _known_platform(cls, value: object) -> object:
        name = value.strip().lower() if isinstance(value, str) else value
        if name not in PLATFORMS:
            raise ValueError(f"EXCHANGER_PLATFORM must be one of {', '.join(sorted(PLATFORMS))}")
        return name

    @model_validator(mode="after")
    def _platform_settings(self) -> Settings:
        try:
            module_of(self.exchanger_platform).check_config(self.platform_config())
        except PlatformConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def platform_config(self, sandbox_step_seconds: float | None = 10.0) -> PlatformConfig:
        return PlatformConfig(
            name=self.exchanger_platform,
            site_url=self.exchanger_url,
            api_login=self.exchanger_api_login,
            api_key=self.exchanger_api_key,
            api_secret=self.exchanger_api_secret,
            webhook_secret=self.exchanger_webhook_secret,
            public_url=self.public_url,
            sandbox_step_seconds=sandbox_step_seconds,
        )

    @property
    def uses_sandbox(self) -> bool:
        return self.exchanger_url is None


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation failure into one `ConfigError` line per variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        if field and not message.startswith(field):
            message = f"{field}: {message}"
        lines.append(message)
    return "; ".join(lines) or "invalid configuration"
