"""The collections."""

THREADS = "threads"
MESSAGES = "messages"
REVISIONS = "message_revisions"  # earlier versions of edited messages
EVENTS = "events"
# Each organization's inbox numbers, one document per organization; the inbox log's entries
# ride on the events (store/inbox.py).
INBOX_COUNTERS = "inbox_counters"
API_KEYS = "api_keys"
IDEMPOTENCY_KEYS = "idempotency_keys"
PERSISTED_QUERIES = "persisted_queries"
MIGRATIONS = "migrations"
THREAD_COUNTERS = "thread_counters"  # each organization's thread counts (store/counters.py)
