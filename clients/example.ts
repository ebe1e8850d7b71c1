// The generated types and typed documents in use: fetch, Apollo Client, urql and graphql-ws.
// Type-checked by ./scripts/test (tsc --noEmit); docs/api.md ("Generated clients") and
// docs/realtime.md show the same code.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import {
  CreateThreadDocument,
  InboxDocument,
  MessagesDocument,
  ThreadDocument,
  ThreadEventsDocument,
  type MessageFieldsFragment,
  type ThreadEventsSubscription,
} from "./generated/graphql";

const url = "http://127.0.0.1:8000/graphql";
const headers = { Authorization: "Bearer sk_…" };

/** The API's `extensions.code` values. */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "SERVICE_UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "INTERNAL_SERVER_ERROR"
  | "BAD_REQUEST"
  | "METHOD_NOT_ALLOWED"
  | "NOT_ACCEPTABLE"
  | "OVERLOADED"
  | "PERSISTED_QUERY_NOT_FOUND"
  | "PERSISTED_QUERY_HASH_MISMATCH"
  | "PERSISTED_QUERY_NOT_ALLOWED";

export class ApiError extends Error {
  constructor(readonly codes: ErrorCode[]) {
    super(codes.join(", "));
  }
}

// fetch: the document decides the variables' and the result's types.
export async function request<Result, Variables>(
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
): Promise<Result> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as {
    data?: Result | null;
    errors?: { message: string; extensions: { code: ErrorCode } }[];
  };
  if (body.errors?.length || !body.data) {
    throw new ApiError(body.errors?.map((error) => error.extensions.code) ?? []);
  }
  return body.data;
}

export async function startThread(question: string): Promise<string> {
  const created = await request(CreateThreadDocument, {
    input: { title: question.slice(0, 200), messages: [{ content: question }] },
  });
  return created.createThread.thread.id;
}

// Apollo Client: relayStylePagination merges the pages of a thread's `messages` in the cache
// (the other arguments tell lists apart), so a watched query shows every page fetched so far.
export const apollo = new ApolloClient({
  link: new HttpLink({ uri: url, headers }),
  cache: new InMemoryCache({
    typePolicies: {
      Thread: { fields: { messages: relayStylePagination(["order", "metadata", "role"]) } },
    },
  }),
});

export function watchConversation(id: string, show: (messages: MessageFieldsFragment[]) => void) {
  const conversation = apollo.watchQuery({
    query: MessagesDocument,
    variables: { id, order: "DESC", first: 20 },
  });
  let endCursor: string | null = null;
  conversation.subscribe((result) => {
    if (result.dataState !== "complete") return;
    const messages = result.data.thread?.messages;
    endCursor = messages?.pageInfo.hasNextPage ? messages.pageInfo.endCursor : null;
    show(messages?.edges.map((edge) => edge.node) ?? []);
  });
  return {
    loadOlder: () => endCursor && conversation.fetchMore({ variables: { after: endCursor } }),
  };
}

// urql
export const urql = new Client({
  url,
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: () => ({ headers }),
});

export async function inboxTitles(category: string): Promise<(string | null)[]> {
  const result = await urql.query(InboxDocument, { first: 10, filter: { metadata: { category } } });
  if (result.error) throw result.error;
  return result.data?.threads.nodes.map((thread) => thread.title) ?? [];
}

// graphql-ws: subscriptions over WebSocket. A browser has a WebSocket of its own; Node (20)
// needs one passed in: the `ws` package, as here. The key goes in connection_init.
export const ws = createClient({
  url: url.replace(/^http/, "ws"),
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: headers.Authorization },
});

type ThreadEvent = ThreadEventsSubscription["threadEvents"];

// Load, then subscribe without a gap: `eventCursor` is the cursor of the thread's latest event
// as of the read, so the subscription delivers exactly what happened after the snapshot (a
// message the snapshot already shows may arrive again: keep events by message id).
export async function followThread(id: string, onEvent: (event: ThreadEvent) => void) {
  const loaded = await request(ThreadDocument, { id });
  if (!loaded.thread) throw new ApiError(["NOT_FOUND"]);
  const after = loaded.thread.eventCursor;
  const stop = ws.subscribe<ThreadEventsSubscription>(
    { query: print(ThreadEventsDocument), variables: { threadId: id, after } },
    {
      next: (result) => result.data && onEvent(result.data.threadEvents),
      error: (error) => console.error(error),
      complete: () => {},
    },
  );
  return { thread: loaded.thread, stop };
}
