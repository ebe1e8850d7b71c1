"""The collections."""

THREADS = "threads"
MESSAGES = "messages"
REVISIONS = "message_revisions"  # earlier versions of edited messages
EVENTS = "events"
INBOX_EVENTS = "inbox_events"  # each organization's inbox log
INBOX_COUNTERS = "inbox_counters"  # its numbers, one document per organization
API_KEYS = "api_keys"
IDEMPOTENCY_KEYS = "idempotency_keys"
PERSISTED_QUERIES = "persisted_queries"
MIGRATIONS = "migrations"
THREAD_COUNTERS = "thread_counters"  # each organization's thread counts (store/counters.py)
