"""The collections."""

THREADS = "threads"
MESSAGES = "messages"
REVISIONS = "message_revisions"  # earlier versions of edited messages
EVENTS = "events"
API_KEYS = "api_keys"
IDEMPOTENCY_KEYS = "idempotency_keys"
PERSISTED_QUERIES = "persisted_queries"
MIGRATIONS = "migrations"
