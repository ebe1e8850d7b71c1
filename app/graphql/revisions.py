"""A message's earlier versions (`Message.revisions`): a connection of its own, newest first.

A message of version v shows exactly the revisions numbered `kept_revisions(v)`, so a
page is a range of numbers known before any read (its `pageInfo` and `totalCount` included);
the revisions of every message a request pages through are read in one command (the
`revisions` loader).
"""

from datetime import datetime

import strawberry

from app import revisions
from app.graphql.connections import Edge, PageInfo, paged
from app.graphql.content import MessageContent, content_from_domain
from app.graphql.context import Info
from app.pagination import Key, Ordering, Page, numbered_page, page_request
from app.revisions import MAX_REVISIONS, kept_revisions
from app.store import RevisionNumbers

REVISION_ORDER = Ordering(kind="revision", types=(int,))


@strawberry.type(description="An earlier version of a message's content, kept by an edit.")
class MessageRevision:
    number: int = strawberry.field(
        description="The message's version this was: 1 as created, one more per edit."
    )
    content: list[MessageContent] = strawberry.field(description="The parts of this version.")
    text: str = strawberry.field(description="Its text parts joined with a newline.")
    created_at: datetime = strawberry.field(
        description="When this version was written: the message's createdAt for number 1, the"
        " time of the edit that wrote it otherwise."
    )

    @classmethod
    def from_domain(cls, revision: revisions.MessageRevision) -> "MessageRevision":
        return cls(
            number=revision.number,
            content=[content_from_domain(part) for part in revision.content],
            text=revision.text,
            created_at=revision.created_at,
        )


@strawberry.type(description="A page of a message's earlier versions, newest first.")
class MessageRevisionConnection:
    edges: list[Edge[MessageRevision]] = strawberry.field(
        description="The page's versions with cursors."
    )
    nodes: list[MessageRevision] = strawberry.field(description="The page's versions.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(
        description=f"How many earlier versions are kept: the latest {MAX_REVISIONS}."
    )


async def revision_connection(
    info: Info,
    *,
    message_id: str,
    version: int,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> MessageRevisionConnection:
    request = page_request(
        REVISION_ORDER,
        first=first,
        after=after,
        last=last,
        before=before,
        limit=None,
        descending=True,
    )
    low, high = kept_revisions(version)
    numbers = numbered_page(request, low=low, high=high)
    found: list[revisions.MessageRevision] = []
    if numbers.items:  # a message never edited costs no read
        wanted = RevisionNumbers(message_id, tuple(numbers.items))
        found = await info.context.loaders.revisions.load(wanted)
    keys: list[Key] = [(revision.number,) for revision in found]
    page = Page(found, keys, has_next=numbers.has_next, has_previous=numbers.has_previous)
    edges, nodes, page_info = paged(
        page, REVISION_ORDER, MessageRevision.from_domain, query=None, request=request
    )
    return MessageRevisionConnection(
        edges=edges, nodes=nodes, page_info=page_info, total_count=max(0, high - low + 1)
    )
