"""Configuration, read from the environment (or a `.env` file) by the app factory and the
scripts: the one place that says where the database is."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The usual origins of local frontend dev servers (Vite, Create React App / Next.js, webpack and
# Vue CLI): the CORS origins of development when CORS_ORIGINS is unset.
DEV_CORS_ORIGINS = tuple(
    f"http://{host}:{port}" for port in (5173, 3000, 8080) for host in ("localhost", "127.0.0.1")
)
ORIGIN = re.compile(r"https?://[^/?#\s]+")
CREATE_LEASE_MARGIN_SECONDS = 5


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
    # How long /readyz waits for the database's answer before it says 503.
    readiness_timeout_seconds: float = 0.5
    # In production introspection is off unless this is set; in development it is always on.
    graphql_introspection: bool = False
    request_deadline_seconds: float = 10.0
    # Requests running at once (health probes and WebSockets aside); more are refused at once
    # with 503 OVERLOADED and Retry-After. 0: no limit. Measured: docs/operations.md#admission.
    max_requests_in_flight: int = 8
    # uvicorn, as ./scripts/serve runs it: open connections (and requests) beyond which it
    # answers 503 itself; seconds an idle keep-alive connection stays open; seconds a client
    # has to send a request's headers (app/http/server.py).
    max_connections: int = 1_000
    keep_alive_timeout_seconds: int = 5
    header_timeout_seconds: float = 10.0
    max_body_bytes: int = 256 * 1024
    max_query_depth: int = 10
    max_query_aliases: int = 30
    max_query_tokens: int = 3_000
    max_query_selections: int = 1_000
    max_query_nodes: int = 100_000
    # The largest answer (bytes of its JSON); a larger one is refused with an error.
    response_max_bytes: int = 32 * 1024 * 1024
    max_subscriptions_per_connection: int = 20
    max_subscriptions_per_key: int = 100
    # Events a subscriber may fall behind by before it is disconnected.
    subscriber_queue_size: int = 1_000
    # Creations and deletions a crash interrupted are finished at start-up and this often, once
    # older than the lease of a create (the request deadline and 5 seconds).
    interrupted_writes_interval_seconds: float = 60
    # ... and the bytes (estimated) those events may hold; 1 MiB.
    subscriber_queue_bytes: int = 1024 * 1024
    # Deleted threads and messages stay restorable in the trash this long, then are purged (at
    # start-up and every TRASH_PURGE_INTERVAL_SECONDS).
    trash_retention_days: float = 30
    trash_purge_interval_seconds: float = 3600
    # How long an instance trusts a valid API key it looked up: a revoked key stops working
    # everywhere within this many seconds (0: look it up on every request).
    api_key_cache_seconds: float = 1.0
    # Once started, leave what is alive then (modules, the schema) to reference counting alone
    # (gc.freeze) and run the cycle collector every GC_YOUNG_THRESHOLD allocations instead of
    # CPython's 700: a large answer allocates tens of thousands of short-lived objects.
    gc_freeze: bool = True
    gc_young_threshold: int = 20_000
    # How often an instance logs the events of message writes a crash (of any instance) lost;
    # it also does at start-up.
    recovery_interval_seconds: float = 60
    # Automatic persisted queries (http/persisted.py): the largest document a client may
    # register (bytes of its text), and how many unexpired registrations an organization holds.
    persisted_query_max_bytes: int = 32 * 1024
    persisted_queries_per_organization: int = 1_000
    # Serve only the trusted documents of ./scripts/register-documents, by their hash.
    trusted_documents_only: bool = False
    # Browser origins (scheme://host[:port]) that may call the API from their pages (CORS),
    # comma-separated; "*" is any. Unset: DEV_CORS_ORIGINS in development, none in production.
    cors_origins: Annotated[list[str] | None, NoDecode] = None
    # Let those pages send cookies and HTTP auth too (keys go in a header, which needs no
    # credentials).
    cors_allow_credentials: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str] | None) -> list[str] | None:
        if origins is None:
            return None
        # A browser's Origin header has no path: "http://localhost:5173/" would never match.
        origins = [origin.rstrip("/") if origin != "*" else origin for origin in origins]
        wrong = [o for o in origins if o != "*" and not ORIGIN.fullmatch(o)]
        if wrong:
            raise ValueError(f"CORS origins are scheme://host[:port] or *, not {wrong}")
        return origins

    @model_validator(mode="after")
    def _no_credentials_for_any_origin(self) -> Self:
        if self.cors_allow_credentials and "*" in (self.cors_origins or []):
            raise ValueError("CORS_ALLOW_CREDENTIALS needs the origins listed, not *")
        return self

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def allowed_origins(self) -> list[str]:
        """The origins CORS allows: CORS_ORIGINS, else the local dev servers in development."""
        if self.cors_origins is not None:
            return self.cors_origins
        return [] if self.production else list(DEV_CORS_ORIGINS)

    @property
    def create_lease(self) -> timedelta:
        """How long a create may still be running: a crash ended it when it is older."""
        return timedelta(seconds=self.request_deadline_seconds + CREATE_LEASE_MARGIN_SECONDS)

    @property
    def database_uri(self) -> str:
        return self.mongodb_uri or f"mongodb://127.0.0.1:{self.db_port}"

    @property
    def local_key_file(self) -> Path:
        """Where ./scripts/serve keeps the local development key."""
        return self.data_dir / "local-api-key"
