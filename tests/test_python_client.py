"""The generated Python client (clients/threads_client) is what ./scripts/codegen makes of
schema.graphql and clients/operations.graphql, and it works against the running app: create,
page both ways, filter, update, delete, and typed error codes."""

import asyncio
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.errors import error_codes as error_codes_of_the_server
from app.store import Database
from clients.threads_client import (
    CreateMessageInput,
    CreateThreadInput,
    DeleteMessageInput,
    DeleteThreadInput,
    GraphQLClientError,
    MessageInput,
    MessageRole,
    SortOrder,
    ThreadFilter,
    ThreadsClient,
    ThreadState,
    UpdateMessageInput,
    UpdateThreadInput,
)
from clients.threads_client.error_codes import ErrorCode, error_codes
from scripts import codegen
from tests.helpers.api import api_key
from tests.helpers.backends import ROOT_DIR
from tests.helpers.live import live_server

pytestmark = [pytest.mark.slow]

SCHEMA = (ROOT_DIR / "schema.graphql").read_text()
MISSING_ID = "thread_00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def server(db: Database) -> AsyncIterator[str]:
    async with live_server(db) as base:
        yield f"{base}/graphql"


@pytest.fixture
async def client(db: Database, server: str) -> AsyncIterator[ThreadsClient]:
    headers = {"Authorization": f"Bearer {await api_key(db)}"}
    async with ThreadsClient(url=server, headers=headers) as client:
        yield client


async def new_thread(client: ThreadsClient, count: int = 5) -> str:
    messages = [
        MessageInput(
            role=MessageRole.USER if i % 2 == 0 else MessageRole.ASSISTANT,
            content=f"message {i}",
            metadata={"source": "web" if i % 2 == 0 else "api"},
        )
        for i in range(count)
    ]
    created = await client.create_thread(
        CreateThreadInput(title="Paging", metadata={"category": "docs"}, messages=messages)
    )
    thread = created.create_thread.thread
    assert thread.message_count == count and thread.state == ThreadState.ACTIVE
    assert thread.created_at.utcoffset() == timedelta(0)  # DateTime → an aware datetime
    return thread.id


def test_the_client_is_current(tmp_path: Path) -> None:
    if not codegen.ARIADNE_CODEGEN.exists():
        pytest.fail("ariadne-codegen is not installed: run ./scripts/install-codegen")
    generated = codegen.files(codegen.generate(tmp_path))
    assert generated == codegen.files(codegen.PACKAGE), (
        "clients/threads_client is out of date: run ./scripts/codegen"
    )


def test_every_custom_scalar_has_a_python_type() -> None:
    settings = tomllib.loads((ROOT_DIR / "pyproject.toml").read_text())
    mapped = settings["tool"]["ariadne-codegen"]["scalars"]
    assert (
        set(re.findall(r"^scalar (\w+)", SCHEMA, re.M)) == set(mapped) == {"DateTime", "Metadata"}
    )


def test_error_codes_are_the_servers() -> None:
    assert {code.value for code in ErrorCode} == error_codes_of_the_server()


async def test_create_and_page_both_ways(client: ThreadsClient) -> None:
    thread_id = await new_thread(client)
    texts: list[str] = []
    after = None
    while True:
        page = (await client.messages(thread_id, first=2, after=after)).thread
        assert page is not None and page.messages.total_count == 5
        texts += [edge.node.text for edge in page.messages.edges]
        if not page.messages.page_info.has_next_page:
            break
        after = page.messages.page_info.end_cursor
    assert texts == [f"message {i}" for i in range(5)]

    backwards: list[str] = []
    before = None
    while True:
        page = (await client.messages(thread_id, last=2, before=before)).thread
        assert page is not None
        backwards = [edge.node.text for edge in page.messages.edges] + backwards
        if not page.messages.page_info.has_previous_page:
            break
        before = page.messages.page_info.start_cursor
    assert backwards == texts

    newest = (await client.messages(thread_id, first=1, order=SortOrder.DESC)).thread
    assert newest is not None and newest.messages.edges[0].node.text == "message 4"
    node = newest.messages.edges[0].node
    assert node.content[0].typename__ == "TextContent" and node.role == MessageRole.USER


async def test_filter_by_metadata_and_role(client: ThreadsClient) -> None:
    thread_id = await new_thread(client)
    await client.create_thread(CreateThreadInput(title="Other", metadata={"category": "misc"}))
    web = (await client.messages(thread_id, metadata={"source": "web"})).thread
    assert web is not None
    assert [e.node.text for e in web.messages.edges] == ["message 0", "message 2", "message 4"]
    assistant = (await client.messages(thread_id, role=MessageRole.ASSISTANT)).thread
    assert assistant is not None and assistant.messages.total_count == 2

    docs = await client.threads(filter_=ThreadFilter(metadata={"category": "docs"}))
    assert [edge.node.id for edge in docs.threads.edges] == [thread_id]
    inbox = await client.inbox(filter_=ThreadFilter(metadata={"category": "docs"}))
    assert inbox.threads.total_count == 1
    assert [m.text for m in inbox.threads.nodes[0].messages.nodes] == [
        f"message {i}" for i in range(5)
    ]
    assert (await client.threads()).threads.total_count == 2


async def test_update_and_delete(client: ThreadsClient) -> None:
    thread_id = await new_thread(client, count=2)
    updated = await client.update_thread(
        UpdateThreadInput(id=thread_id, title="Renamed", metadata={"category": "done"})
    )
    assert updated.update_thread.thread.title == "Renamed"
    assert updated.update_thread.thread.metadata == {"category": "done"}
    # Only the fields given are sent: an explicit None clears, an absent field stays.
    cleared = await client.update_thread(UpdateThreadInput(id=thread_id, title=None))
    assert cleared.update_thread.thread.title is None
    assert cleared.update_thread.thread.metadata == {"category": "done"}

    added = await client.create_message(
        CreateMessageInput(threadId=thread_id, content="one more", metadata={"k": "v"})
    )
    message_id = added.create_message.message.id
    assert added.create_message.thread.message_count == 3
    retagged = await client.update_message(UpdateMessageInput(id=message_id, metadata={}))
    assert retagged.update_message.message.metadata == {}
    fetched = (await client.message(message_id)).message
    assert fetched is not None
    assert (fetched.id, fetched.text, fetched.metadata) == (message_id, "one more", {})

    deleted = await client.delete_message(DeleteMessageInput(id=message_id))
    assert deleted.delete_message.deleted is True
    assert deleted.delete_message.thread.message_count == 2
    assert (await client.message(message_id)).message is None
    gone = await client.delete_thread(DeleteThreadInput(id=thread_id))
    assert gone.delete_thread.id == thread_id and gone.delete_thread.deleted is True
    assert (await client.thread(thread_id)).thread is None


async def test_typed_error_codes(client: ThreadsClient, server: str) -> None:
    with pytest.raises(GraphQLClientError) as malformed:
        await client.thread("not-an-id")
    assert error_codes(malformed.value) == [ErrorCode.BAD_USER_INPUT]

    with pytest.raises(GraphQLClientError) as missing:
        await client.update_thread(UpdateThreadInput(id=MISSING_ID, title="x"))
    assert error_codes(missing.value) == [ErrorCode.NOT_FOUND]

    thread_id = await new_thread(client, count=1)
    await client.update_thread(UpdateThreadInput(id=thread_id, state=ThreadState.LOCKED))
    with pytest.raises(GraphQLClientError) as locked:
        await client.create_message(CreateMessageInput(threadId=thread_id, content="no"))
    assert error_codes(locked.value) == [ErrorCode.CONFLICT]

    async with ThreadsClient(url=server, headers={"Authorization": "Bearer nope"}) as stranger:
        with pytest.raises(GraphQLClientError) as unauthenticated:
            await stranger.threads()
    assert error_codes(unauthenticated.value) == [ErrorCode.UNAUTHENTICATED]


async def test_the_client_installs_and_its_example_runs(
    db: Database, server: str, tmp_path: Path
) -> None:
    """`pip install ./clients` gives an importable `threads_client` outside this repository."""
    site = tmp_path / "site"
    installed = await asyncio.to_thread(
        subprocess.run,
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--disable-pip-version-check", "--target", str(site)),
            str(ROOT_DIR / "clients"),
        ],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "app"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(site),  # httpx and pydantic come from this interpreter's site-packages
        "THREADS_URL": server,
        "THREADS_KEY": await api_key(db),
    }
    ran = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-P", str(ROOT_DIR / "clients" / "python" / "example.py")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert re.fullmatch(r"created thread_[0-9a-f-]{36}: Beef stew \(2 messages\)", lines[0])
    assert lines[1:] == [
        "  USER: How do I make a beef stew?",
        "  USER: And with a pressure cooker?",
        "deleting a missing thread: ['NOT_FOUND']",
    ]
