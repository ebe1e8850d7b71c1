"""The benchmark's scenarios: for each, the logical request every peer gets (a load-generator
flow: scripts/bench_load.py), and what of an answer must be the same across peers (`essence`:
the hand-written endpoint must answer the API's JSON exactly; the naive schema and the REST
peer the same items in the same order)."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.relay import to_base64

from app.pagination import MESSAGE_ORDER, encode_cursor
from scripts.bench_data import Org

ALL_PEERS = ("api", "handwritten", "naive", "rest", "floor", "twin")
DEFAULT_PEERS = ALL_PEERS[:4]
_CHOSEN_PEERS = [p for p in os.environ.get("BENCH_PEERS", "").split(",") if p]
# the API and the hand-written endpoint always: every ratio is to the hand-written endpoint
PEERS = tuple(
    p for p in ALL_PEERS if p in ("api", "handwritten") or p in (_CHOSEN_PEERS or DEFAULT_PEERS)
)
# the answers that must be the API's JSON exactly: the others answer the same items
EXACT = ("handwritten", "floor", "twin")
PAGE_AFTER = 9_900  # page 100 of 100 messages starts after message 9,900

THREAD50 = """query Thread50($id: ID!) { thread(id: $id) {
  id title createdAt updatedAt metadata messageCount
  messages(first: 50) {
    edges { cursor node { id role text createdAt metadata status } }
    pageInfo { hasNextPage endCursor } } } }"""
THREAD50_NAIVE = THREAD50  # the stock connection has edges and pageInfo too
INBOX = """query Inbox { threads(first: 50, orderBy: UPDATED_AT) { nodes {
  id title updatedAt messages(first: 5) { nodes { id role text createdAt } } } } }"""
INBOX_NAIVE = """query Inbox { threads(first: 50, orderBy: UPDATED_AT) { edges { node {
  id title updatedAt messages(first: 5) { edges { node { id role text createdAt } } } } } } }"""
PAGE = """query Page($id: ID!, $after: String) { thread(id: $id) {
  messages(first: 100, after: $after, order: ASC) {
    nodes { id text } pageInfo { hasNextPage endCursor } } } }"""
PAGE_NAIVE = """query Page($id: ID!, $after: String) { thread(id: $id) {
  messages(first: 100, after: $after, order: ASC) {
    edges { node { id text } } pageInfo { hasNextPage endCursor } } } }"""
COUNT = " totalCount totalCountIsExact"
FILTERED = """query Filtered { threads(first: 20, filter: {metadata: {tag: "a"}}) {
  nodes { id title createdAt } pageInfo { hasNextPage endCursor }%s } }"""
FILTERED_NAIVE = """query Filtered { threads(first: 20, filter: {metadata: {tag: "a"}}) {
  edges { node { id title createdAt } } pageInfo { hasNextPage endCursor }%s } }"""
CREATE = """mutation Create($input: CreateMessageInput!) { createMessage(input: $input) {
  message { id role text createdAt } } }"""
CREATE_NAIVE = """mutation Create($input: NaiveCreateMessageInput!) { createMessage(input: $input) {
  message { id role text createdAt } } }"""
TEXT = "a new message from the benchmark"


def graphql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "kind": "single",
        "method": "POST",
        "path": "/graphql",
        "body": {"query": query, "variables": variables or {}},
    }


def handwritten(scenario: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"scenario": scenario, "variables": variables or {}}
    return {"kind": "single", "method": "POST", "path": "/graphql", "body": body}


def get(*paths: str) -> dict[str, Any]:
    if len(paths) == 1:
        return {"kind": "single", "method": "GET", "path": paths[0]}
    return {"kind": "parallel", "paths": list(paths)}


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    read: bool
    made: Callable[[Org, dict[str, Any]], dict[str, dict[str, Any]]]
    # the comparable part of an answer, by peer kind ("graphql", "naive", "rest")
    essence: Callable[[str, Any], Any]

    def flows(self, org: Org, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Each peer's request; the floor's is the API's, the twin's the hand-written one's."""
        flows = self.made(org, extra)
        return flows | {"floor": flows["api"], "twin": flows["handwritten"]}


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    if "nodes" in connection:
        return list(connection["nodes"])
    return [edge["node"] for edge in connection["edges"]]


def thread50_essence(kind: str, answer: Any) -> Any:
    if kind == "rest":
        thread, page = answer
        return (
            thread["id"],
            thread["title"],
            thread["message_count"],
            [(m["id"], m["content"][0]["text"]["value"]) for m in page["data"]],
            page["has_more"],
        )
    thread = answer["data"]["thread"]
    messages = [(m["id"], m["text"]) for m in _nodes(thread["messages"])]
    return (
        thread["id"],
        thread["title"],
        thread["messageCount"],
        messages,
        thread["messages"]["pageInfo"]["hasNextPage"],
    )


def inbox_essence(kind: str, answer: Any) -> Any:
    if kind == "rest":
        listed, *pages = answer
        return [
            (t["id"], [m["id"] for m in page["data"]])
            for t, page in zip(listed["data"], pages, strict=True)
        ]
    return [
        (t["id"], [m["id"] for m in _nodes(t["messages"])])
        for t in _nodes(answer["data"]["threads"])
    ]


def page_essence(kind: str, answer: Any) -> Any:
    if kind == "rest":
        return [m["id"] for m in answer["data"]], answer["has_more"]
    messages = answer["data"]["thread"]["messages"]
    return [m["id"] for m in _nodes(messages)], messages["pageInfo"]["hasNextPage"]


def filtered_essence(kind: str, answer: Any) -> Any:
    if kind == "rest":
        ids, more = [t["id"] for t in answer["data"]], answer["has_more"]
        count = answer.get("total") if answer.get("total_is_exact") else None
        return ids, more, count
    threads = answer["data"]["threads"]
    exact = threads.get("totalCountIsExact")
    count = threads.get("totalCount") if exact else None
    return [t["id"] for t in _nodes(threads)], threads["pageInfo"]["hasNextPage"], count


def create_essence(kind: str, answer: Any) -> Any:
    if kind == "rest":
        return answer["role"], answer["content"][0]["text"]["value"]
    message = answer["data"]["createMessage"]["message"]
    return message["role"].lower(), message["text"]


def _thread50(org: Org, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    v = {"id": org.nested}
    return {
        "api": graphql(THREAD50, v),
        "handwritten": handwritten("thread50", v),
        "naive": graphql(THREAD50_NAIVE, v),
        "rest": get(f"/v1/threads/{org.nested}", f"/v1/threads/{org.nested}/messages?limit=50"),
    }


def _inbox(org: Org, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "api": graphql(INBOX),
        "handwritten": handwritten("inbox"),
        "naive": graphql(INBOX_NAIVE),
        "rest": {
            "kind": "rest_inbox",
            "list": "/v1/threads?limit=50&order_by=updated_at",
            "messages": "/v1/threads/{id}/messages?limit=5",
        },
    }


def _page(after: int | None) -> Callable[[Org, dict[str, Any]], dict[str, dict[str, Any]]]:
    def flows(org: Org, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
        cursor = encode_cursor(MESSAGE_ORDER, (after,)) if after else None
        naive = to_base64("arrayconnection", after - 1) if after else None
        rest = f"/v1/threads/{org.long}/messages?limit=100&order=asc"
        if after:
            rest += f"&after={extra['page100_after_id']}"
        return {
            "api": graphql(PAGE, {"id": org.long, "after": cursor}),
            "handwritten": handwritten("page", {"id": org.long, "afterSeq": after}),
            "naive": graphql(PAGE_NAIVE, {"id": org.long, "after": naive}),
            "rest": get(rest),
        }

    return flows


def _filtered(counted: bool) -> Callable[[Org, dict[str, Any]], dict[str, dict[str, Any]]]:
    def flows(org: Org, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
        count = COUNT if counted else ""
        total = "&include_total=true" if counted else ""
        return {
            "api": graphql(FILTERED % count),
            "handwritten": handwritten("filtered_count" if counted else "filtered", {"tag": "a"}),
            "naive": graphql(FILTERED_NAIVE % count),
            "rest": get(f"/v1/threads?limit=20&metadata[tag]=a{total}"),
        }

    return flows


def _create(org: Org, extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    v = {"input": {"threadId": org.write, "content": TEXT}}
    return {
        "api": graphql(CREATE, v),
        "handwritten": handwritten("create", {"threadId": org.write, "content": TEXT}),
        "naive": graphql(CREATE_NAIVE, v),
        "rest": {
            "kind": "single",
            "method": "POST",
            "path": f"/v1/threads/{org.write}/messages",
            "body": {"role": "user", "content": TEXT},
        },
    }


SCENARIOS = [
    Scenario("thread50", "thread + 50 messages", True, _thread50, thread50_essence),
    Scenario("inbox", "inbox: 50 threads x 5 messages", True, _inbox, inbox_essence),
    Scenario("page1", "page 1 of 10,000 messages", True, _page(None), page_essence),
    Scenario("page100", "page 100 of 10,000 messages", True, _page(PAGE_AFTER), page_essence),
    Scenario(
        "filtered", "threads(first: 20) by metadata", True, _filtered(False), filtered_essence
    ),
    Scenario("counted", "... with totalCount", True, _filtered(True), filtered_essence),
    Scenario("create", "createMessage", False, _create, create_essence),
]


def kind(peer: str) -> str:
    return {"naive": "naive", "rest": "rest"}.get(peer, "graphql")
