"""Storage: every MongoDB query and collection name. The only package that imports Motor or
PyMongo, or knows `_id` and `$` operators. Functions are keyword-only, take the caller's
organization (which goes into every filter), return domain values and raise domain errors.
One module per aggregate; this module re-exports what the rest of the app uses."""

from app.store.api_keys import ApiKey, get_api_key, insert_api_key, list_api_keys, revoke_api_key
from app.store.codec import BUCKET
from app.store.connection import (
    CommandCounter,
    CommandListenerBase,
    Database,
    close_database,
    is_unavailable,
    open_database,
    ping,
)
from app.store.events import (
    ChangeStreamsUnsupported,
    list_events,
    record_event,
    watch_events,
)
from app.store.idempotency import Claim, claim, finish, once_visible
from app.store.indexes import ensure_indexes
from app.store.listings import (
    MessagePageQuery,
    count_all,
    exists_outside,
    fetch_message_pages,
    fetch_page,
)
from app.store.messages import (
    append_text,
    finish_message,
    get_message,
    get_messages,
    insert_message,
    remove_message,
    update_message,
)
from app.store.names import API_KEYS, EVENTS, IDEMPOTENCY_KEYS, MESSAGES, THREADS
from app.store.threads import (
    delete_thread,
    finish_interrupted_writes,
    get_thread,
    get_threads,
    insert_thread,
    take_message_number,
    touch_thread,
    update_thread,
)

__all__ = [
    "API_KEYS",
    "BUCKET",
    "EVENTS",
    "IDEMPOTENCY_KEYS",
    "MESSAGES",
    "THREADS",
    "ApiKey",
    "ChangeStreamsUnsupported",
    "Claim",
    "CommandCounter",
    "CommandListenerBase",
    "Database",
    "MessagePageQuery",
    "append_text",
    "claim",
    "close_database",
    "count_all",
    "delete_thread",
    "ensure_indexes",
    "exists_outside",
    "fetch_message_pages",
    "fetch_page",
    "finish",
    "finish_interrupted_writes",
    "finish_message",
    "get_api_key",
    "get_message",
    "get_messages",
    "get_thread",
    "get_threads",
    "insert_api_key",
    "insert_message",
    "insert_thread",
    "is_unavailable",
    "list_api_keys",
    "list_events",
    "once_visible",
    "open_database",
    "ping",
    "record_event",
    "remove_message",
    "revoke_api_key",
    "take_message_number",
    "touch_thread",
    "update_message",
    "update_thread",
    "watch_events",
]
