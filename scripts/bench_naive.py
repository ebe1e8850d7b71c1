"""The naive peer of the benchmark: the thread list answered the way Strawberry's docs start
out — stock `relay.ListConnection` (offset cursors over whole lists) and a query per field, no
DataLoaders — on the same data."""

from collections.abc import Iterable

import strawberry
from strawberry import relay

from app import store


def make_schema(db: store.Database, organization_id: str) -> strawberry.Schema:
    @strawberry.type
    class NaiveMessage:
        id: str
        text: str

    @strawberry.type
    class NaiveThread:
        id: str
        title: str | None

        # The stock connection is typed for relay.Node types but serves any type.
        @relay.connection(relay.ListConnection[NaiveMessage])  # type: ignore[type-var]
        async def messages(self) -> Iterable[NaiveMessage]:
            cursor = db[store.MESSAGES].find(
                {"organizationId": organization_id, "threadId": self.id}
            )
            docs = await cursor.sort("seq", -1).to_list(None)
            return [NaiveMessage(id=d["_id"], text=d["content"][0]["text"]["value"]) for d in docs]

    @strawberry.type
    class NaiveQuery:
        @relay.connection(relay.ListConnection[NaiveThread])  # type: ignore[type-var]
        async def threads(self) -> Iterable[NaiveThread]:
            cursor = db[store.THREADS].find({"organizationId": organization_id})
            docs = await cursor.sort("createdAt", -1).to_list(None)
            return [NaiveThread(id=d["_id"], title=d["title"]) for d in docs]

    return strawberry.Schema(query=NaiveQuery)
