"""The collections."""

THREADS = "threads"
MESSAGES = "messages"
EVENTS = "events"
API_KEYS = "api_keys"
IDEMPOTENCY_KEYS = "idempotency_keys"
