"""Opening and closing the database, and telling an outage from other driver errors."""

from collections.abc import Callable, Sequence
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

Database = AsyncIOMotorDatabase[dict[str, Any]]


def open_database(
    uri: str, name: str, *, timeout_ms: int, listeners: Sequence[CommandListener] = ()
) -> Database:
    """A client whose every operation gives up after `timeout_ms` (MongoDB's timeoutMS)."""
    client: AsyncIOMotorClient[dict[str, Any]] = AsyncIOMotorClient(
        uri,
        timeoutMS=timeout_ms,
        serverSelectionTimeoutMS=timeout_ms,
        uuidRepresentation="standard",
        event_listeners=list(listeners),
    )
    return client[name]


def close_database(db: Database) -> None:
    db.client.close()


async def ping(db: Database) -> bool:
    try:
        await db.command("ping")
    except PyMongoError:
        return False
    return True


def is_unavailable(error: BaseException) -> bool:
    """Whether a driver error means the database cannot be reached (or did not answer in time)."""
    return isinstance(error, ConnectionFailure) or (
        isinstance(error, PyMongoError) and error.timeout
    )


class CommandListenerBase(CommandListener):
    """A command listener that reacts to `started` only."""

    def started(self, event: CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


class CommandCounter(CommandListenerBase):
    """Calls `on_command` as each database command starts (in the caller's context)."""

    def __init__(self, on_command: Callable[[], None]) -> None:
        self.on_command = on_command

    def started(self, event: CommandStartedEvent) -> None:
        self.on_command()


# One batch for every result the API asks for (the default first batch is 101 documents, and
# each further batch is another round trip).
BATCH_SIZE = 20_000


async def aggregate(db: Database, collection: str, pipeline: list[dict[str, Any]]) -> list[Any]:
    return await db[collection].aggregate(pipeline, batchSize=BATCH_SIZE).to_list(None)
