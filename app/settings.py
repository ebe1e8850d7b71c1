"""Configuration, read from the environment (or a `.env` file) by the app factory and the
scripts: the one place that says where the database is."""

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    # The database: MONGODB_URI when set, else the embedded server of ./scripts/serve on
    # 127.0.0.1:DB_PORT, which keeps its data (and the local key) under DATA_DIR.
    mongodb_uri: str | None = None
    db_port: int = 27027
    data_dir: Path = Path(".data")
    mongodb_database: str = "threads"
    mongodb_timeout_ms: int = 5_000
    # In production introspection is off unless this is set; in development it is always on.
    graphql_introspection: bool = False
    request_deadline_seconds: float = 10.0
    max_body_bytes: int = 256 * 1024
    max_query_depth: int = 10
    max_query_aliases: int = 30
    max_query_tokens: int = 3_000
    max_query_nodes: int = 50_000
    max_subscriptions_per_connection: int = 20
    max_subscriptions_per_key: int = 100
    # Events a subscriber may fall behind by before it is disconnected.
    subscriber_queue_size: int = 1_000
    # A thread whose creation has not finished after this long was abandoned by a crash.
    abandoned_create_minutes: float = 10

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def database_uri(self) -> str:
        return self.mongodb_uri or f"mongodb://127.0.0.1:{self.db_port}"

    @property
    def local_key_file(self) -> Path:
        """Where ./scripts/serve keeps the local development key."""
        return self.data_dir / "local-api-key"
