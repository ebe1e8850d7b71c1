"""Use the installed client: `pip install ./clients`, then
`THREADS_URL=http://127.0.0.1:8000/graphql THREADS_KEY=sk_… python clients/python/example.py`.

Creates a thread with two messages, pages through them oldest first, and shows a typed error.
"""

import asyncio
import os

from threads_client import CreateThreadInput, DeleteThreadInput, MessageInput, ThreadsClient
from threads_client.error_codes import ErrorCode, error_codes
from threads_client.exceptions import GraphQLClientError

MISSING = "thread_00000000-0000-4000-8000-000000000000"


async def main() -> None:
    headers = {"Authorization": f"Bearer {os.environ['THREADS_KEY']}"}
    async with ThreadsClient(url=os.environ["THREADS_URL"], headers=headers) as client:
        created = await client.create_thread(
            CreateThreadInput(
                title="Beef stew",
                messages=[
                    MessageInput(content="How do I make a beef stew?"),
                    MessageInput(content="And with a pressure cooker?"),
                ],
            )
        )
        thread = created.create_thread.thread
        print(f"created {thread.id}: {thread.title} ({thread.message_count} messages)")
        page = await client.messages(thread.id, first=1)
        while page.thread is not None:
            for edge in page.thread.messages.edges:
                print(f"  {edge.node.role.value}: {edge.node.text}")
            if not page.thread.messages.page_info.has_next_page:
                break
            after = page.thread.messages.page_info.end_cursor
            page = await client.messages(thread.id, first=1, after=after)
        try:
            await client.delete_thread(DeleteThreadInput(id=MISSING))
        except GraphQLClientError as error:
            print(f"deleting a missing thread: {[code.value for code in error_codes(error)]}")
            assert ErrorCode.NOT_FOUND in error_codes(error)


if __name__ == "__main__":
    asyncio.run(main())
