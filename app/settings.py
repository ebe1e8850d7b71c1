"""Configuration, read from the environment (or a .env file) by the app factory."""

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    # The embedded server of ./scripts/serve.
    mongodb_uri: str = "mongodb://127.0.0.1:27027"
    mongodb_database: str = "threads"
    mongodb_timeout_ms: int = 5_000
