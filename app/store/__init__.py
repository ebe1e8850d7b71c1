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
from app.store.forks import (
    discard_fork,
    insert_hidden_thread,
    insert_messages,
    messages_numbered,
    reveal_fork,
)
from app.store.idempotency import Claim, claim, finish, once_visible
from app.store.indexes import ensure_indexes
from app.store.listings import (
    MessagePageQuery,
    count_all,
    exists_outside,
    fetch_message_pages,
    fetch_page,
    last_messages,
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
from app.store.migrations import migrate
from app.store.names import (
    API_KEYS,
    EVENTS,
    IDEMPOTENCY_KEYS,
    MESSAGES,
    PERSISTED_QUERIES,
    REVISIONS,
    THREADS,
)
from app.store.persisted_queries import (
    TrustedDocument,
    find_persisted_query,
    list_trusted_documents,
    put_trusted_documents,
    register_persisted_query,
)
from app.store.revisions import (
    RevisionNumbers,
    edit_message,
    get_revisions,
    remove_revisions,
)
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
from app.store.trash import (
    purge_trash,
    restore_message,
    restore_thread,
    trash_message,
    trash_thread,
    trashed_ids,
    trashed_message,
)

__all__ = [
    "API_KEYS",
    "BUCKET",
    "EVENTS",
    "IDEMPOTENCY_KEYS",
    "MESSAGES",
    "PERSISTED_QUERIES",
    "REVISIONS",
    "THREADS",
    "ApiKey",
    "ChangeStreamsUnsupported",
    "Claim",
    "CommandCounter",
    "CommandListenerBase",
    "Database",
    "MessagePageQuery",
    "RevisionNumbers",
    "TrustedDocument",
    "append_text",
    "claim",
    "close_database",
    "count_all",
    "delete_thread",
    "discard_fork",
    "edit_message",
    "ensure_indexes",
    "exists_outside",
    "fetch_message_pages",
    "fetch_page",
    "find_persisted_query",
    "finish",
    "finish_interrupted_writes",
    "finish_message",
    "get_api_key",
    "get_message",
    "get_messages",
    "get_revisions",
    "get_thread",
    "get_threads",
    "insert_api_key",
    "insert_hidden_thread",
    "insert_message",
    "insert_messages",
    "insert_thread",
    "is_unavailable",
    "last_messages",
    "list_api_keys",
    "list_events",
    "list_trusted_documents",
    "messages_numbered",
    "migrate",
    "once_visible",
    "open_database",
    "ping",
    "purge_trash",
    "put_trusted_documents",
    "record_event",
    "register_persisted_query",
    "remove_message",
    "remove_revisions",
    "restore_message",
    "restore_thread",
    "reveal_fork",
    "revoke_api_key",
    "take_message_number",
    "touch_thread",
    "trash_message",
    "trash_thread",
    "trashed_ids",
    "trashed_message",
    "update_message",
    "update_thread",
    "watch_events",
]
