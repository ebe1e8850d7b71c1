"""WebSocket byte limits over real sockets: a message over the body limit closes the connection
(1009) before authentication; a subscriber that stops reading is closed (1013) while the events
queued for it stay within their byte bound."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import wsproto
from wsproto import events

from app.domain import Event, EventType
from app.main import create_app
from app.realtime import CLOSE_TOO_SLOW, EventHub
from app.settings import Settings
from app.store import Database
from tests.helpers.api import api_key
from tests.helpers.factories import make_thread
from tests.helpers.live import served

LIMIT = Settings().max_body_bytes


class RawSocket:
    """A graphql-transport-ws client on a plain socket, reading only when asked to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.connection = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.pending: list[events.Event] = []

    def send(self, message: dict[str, object] | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        self.writer.write(self.connection.send(events.TextMessage(data=text)))

    async def next_event(self) -> events.Event:
        """The next event from the server (a message, a close), or ConnectionClosed at EOF."""
        while not self.pending:
            data = await self.reader.read(65536)
            self.connection.receive_data(data or None)
            self.pending.extend(self.connection.events())
        return self.pending.pop(0)

    async def close_code(self) -> int:
        """Reads until the server closes: the close code it sent."""
        while True:
            event = await self.next_event()
            if isinstance(event, events.CloseConnection):
                return event.code
            assert not isinstance(event, events.RejectConnection)


@asynccontextmanager
async def ws_connect(base: str, *, receive_buffer: int | None = None) -> AsyncIterator[RawSocket]:
    url = urlsplit(base)
    sock = socket.socket()
    if receive_buffer is not None:  # set before connecting, so the window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    client = RawSocket(reader, writer)
    request = events.Request(
        host=f"{url.hostname}:{url.port}", target="/graphql", subprotocols=["graphql-transport-ws"]
    )
    writer.write(client.connection.send(request))
    accepted = await client.next_event()
    assert isinstance(accepted, events.AcceptConnection), accepted
    try:
        yield client
    finally:
        writer.close()


@asynccontextmanager
async def serving(db: Database, settings: Settings) -> AsyncIterator[tuple[str, EventHub]]:
    """The app on uvicorn (whose own WebSocket limit is 16 MiB: the app's is what acts)."""
    app = create_app(settings, database=db)
    async with app.router.lifespan_context(app), served(app) as base:
        yield base, app.state.hub


async def test_a_message_over_the_limit_is_refused_before_sign_in(db: Database) -> None:
    async with serving(db, Settings()) as (base, _):
        async with ws_connect(base) as ws:
            ws.send("x" * (LIMIT + 1))
            assert await ws.close_code() == 1009
        async with ws_connect(base) as ws:  # UTF-8 bytes count, not characters
            ws.send("é" * (LIMIT // 2 + 1))
            assert await ws.close_code() == 1009
        key = await api_key(db)
        async with ws_connect(base) as ws:  # at the limit, the message is read: signed in
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            padding = LIMIT - len(json.dumps({**init, "pad": ""}))
            ws.send({**init, "pad": "x" * padding})
            reply = await ws.next_event()
            assert isinstance(reply, events.TextMessage)
            assert json.loads(reply.data)["type"] == "connection_ack"


async def test_a_subscriber_that_stops_reading_is_closed(db: Database) -> None:
    bound = 256 * 1024
    settings = Settings(subscriber_queue_bytes=bound)
    thread = await make_thread(db)
    key = await api_key(db)
    async with serving(db, settings) as (base, hub), ws_connect(base, receive_buffer=4096) as ws:
        ws.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        assert isinstance(await ws.next_event(), events.TextMessage)  # connection_ack
        query = (
            f'subscription {{ threadEvents(threadId: "{thread.id}")'
            "{ ... on MessageDelta { delta } } }"
        )
        ws.send({"id": "1", "type": "subscribe", "payload": {"query": query}})
        for _ in range(500):
            if hub.subscribers:
                break
            await asyncio.sleep(0.01)
        (subscriber,) = hub.subscribers
        delta = "x" * 64 * 1024
        most_queued, seq = 0, 0
        # The client reads nothing now: the server's socket buffers fill, then its queue.
        while not subscriber.mailbox.overflowed:
            seq += 1
            assert seq < 2_000, "the queue never filled"
            hub.dispatch(
                Event(
                    organization_id=thread.organization_id,
                    thread_id=thread.id,
                    seq=seq,
                    type=EventType.MESSAGE_DELTA,
                    message_id="msg_00000000-0000-4000-8000-000000000000",
                    delta=delta,
                )
            )
            most_queued = max(most_queued, subscriber.mailbox.queued_bytes)
            await asyncio.sleep(0.005)
        assert 0 < most_queued <= bound
        assert await asyncio.wait_for(ws.close_code(), 10) == CLOSE_TOO_SLOW
        for _ in range(100):
            if not hub.subscribers:
                break
            await asyncio.sleep(0.05)
        assert not hub.subscribers, "the connection's subscriptions and queues are gone"
