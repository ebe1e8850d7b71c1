// Apollo Client itself against the live API (run by tests/test_apollo_client.py):
//   API_URL=http://127.0.0.1:PORT/graphql API_KEY=sk_… node apq.test.mjs apq|trusted|paging
// with the operations of generated/graphql.ts, the documents the generated client sends; and
//   [GENERATED=path/to/graphql.ts] node apq.test.mjs hashes
// (no server): the hash Apollo's persisted-queries link sends for every operation of that file.
// Every request goes through a recording fetch; the script asserts what went over the wire and
// prints a JSON report (the requests, and the hash Apollo sent for each operation) for the test
// to check on the server's side.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination } from "@apollo/client/utilities";
import { Observable } from "rxjs";
import ts from "typescript";

const { API_URL, API_KEY, GENERATED } = process.env;

// generated/graphql.ts as JavaScript (its only import is of types, which transpiling drops).
const generated = ts.transpileModule(
  readFileSync(GENERATED ?? new URL("generated/graphql.ts", import.meta.url), "utf8"),
  { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } },
).outputText;
const documents = await import(
  `data:text/javascript;base64,${Buffer.from(generated).toString("base64")}`
);

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const requests = [];
const sentHashes = {};

// What each request carried and got: method, operation, hash, whether the query text was in it.
async function recordingFetch(input, init = {}) {
  const method = (init.method ?? "GET").toUpperCase();
  let sent;
  if (method === "GET") {
    const params = new URL(String(input)).searchParams;
    sent = {
      query: params.get("query") ?? undefined,
      operationName: params.get("operationName"),
      extensions: JSON.parse(params.get("extensions") ?? "{}"),
    };
  } else {
    sent = JSON.parse(init.body);
  }
  const response = await fetch(input, init);
  const body = await response.clone().json().catch(() => null);
  const hash = sent.extensions?.persistedQuery?.sha256Hash ?? null;
  if (hash) sentHashes[sent.operationName] = hash;
  requests.push({
    method,
    operation: sent.operationName,
    hash,
    withQuery: typeof sent.query === "string",
    status: response.status,
    codes: (body?.errors ?? []).map((error) => error.extensions?.code),
  });
  return response;
}

function client({ persisted = true, get = false, typePolicies = {} } = {}) {
  const http = new HttpLink({
    uri: API_URL,
    headers: { Authorization: `Bearer ${API_KEY}` },
    fetch: recordingFetch,
  });
  const link = persisted
    ? ApolloLink.from([createPersistedQueryLink({ sha256, useGETForHashedQueries: get }), http])
    : http;
  return new ApolloClient({ link, cache: new InMemoryCache({ typePolicies }) });
}

// The requests one step made: [method, hash-only or with the query, status, codes].
async function wire(step) {
  const start = requests.length;
  let error = null;
  try {
    await step();
  } catch (caught) {
    error = caught;
  }
  const made = requests
    .slice(start)
    .map((r) => [r.method, r.withQuery ? "query" : "hash", r.status, r.codes.join(",")]);
  return { made, error };
}

const NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND";
const NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED";
const query = (c, document, variables) =>
  c.query({ query: document, variables, fetchPolicy: "network-only" });
const mutate = (c, document, variables) => c.mutate({ mutation: document, variables });
const ok = ({ made, error }, expected, what) => {
  assert.equal(error, null, `${what}: ${error}`);
  assert.deepEqual(made, expected, what);
};

async function apq() {
  const posting = client();
  // First use: hash only, not found, then the query with its hash (by POST); then hash only.
  const threads = () => query(posting, documents.ThreadsDocument, { first: 5 });
  ok(await wire(threads), [["POST", "hash", 200, NOT_FOUND], ["POST", "query", 200, ""]], "1st");
  ok(await wire(threads), [["POST", "hash", 200, ""]], "Threads again: hash only");
  // A mutation: the refused hash-only attempt runs nothing (the test counts the threads).
  const create = () => mutate(posting, documents.CreateThreadDocument, { input: { title: "a" } });
  ok(await wire(create), [["POST", "hash", 200, NOT_FOUND], ["POST", "query", 200, ""]], "create");
  ok(await wire(create), [["POST", "hash", 200, ""]], "CreateThread again: hash only");

  // useGETForHashedQueries: hash-only GETs; the retry with the query is a POST.
  const getting = client({ get: true });
  const id = (await query(getting, documents.ThreadsDocument, { first: 1 })).data.threads.edges[0]
    .node.id;
  const thread = () => query(getting, documents.ThreadDocument, { id });
  ok(await wire(thread), [["GET", "hash", 200, NOT_FOUND], ["POST", "query", 200, ""]], "GET 1st");
  ok(await wire(thread), [["GET", "hash", 200, ""]], "Thread again: a hash-only GET");
  const listed = await wire(() => query(getting, documents.ThreadsDocument, { first: 5 }));
  ok(listed, [["GET", "hash", 200, ""]], "Threads by GET: registered by the POSTing client");
}

async function trusted() {
  // Every operation of the file is trusted: each is one hash-only request, found.
  const getting = client({ get: true });
  const steps = [
    () => mutate(getting, documents.CreateThreadDocument, { input: { title: "trusted" } }),
    () => query(getting, documents.ThreadsDocument, { first: 5 }),
    () => query(getting, documents.InboxDocument, {}),
  ];
  for (const step of steps) {
    const { made, error } = await wire(step);
    assert.equal(error, null, String(error));
    assert.equal(made.length, 1, JSON.stringify(made));
    assert.deepEqual(made[0].slice(1), ["hash", 200, ""]);
  }
  const id = (await query(getting, documents.ThreadsDocument, { first: 1 })).data.threads.edges[0]
    .node.id;
  const posted = await wire(() =>
    mutate(getting, documents.CreateMessageDocument, { input: { threadId: id, content: "hi" } }),
  );
  ok(posted, [["POST", "hash", 200, ""]], "CreateMessage: trusted");
  ok(
    await wire(() => query(getting, documents.MessagesDocument, { id, first: 10 })),
    [["GET", "hash", 200, ""]],
    "Messages: trusted",
  );
  // Not in the file: refused at once, and Apollo does not send the query.
  const adhoc = gql`
    query Adhoc {
      threads(first: 1) {
        totalCount
      }
    }
  `;
  const refused = await wire(() => query(getting, adhoc, {}));
  assert.deepEqual(refused.made, [["GET", "hash", 400, NOT_ALLOWED]]);
  assert.ok(refused.error, "the refusal reaches the caller");
  // Without the persisted-queries link: refused.
  const plain = await wire(() => query(client({ persisted: false }), documents.ThreadsDocument, {}));
  assert.deepEqual(plain.made, [["POST", "query", 400, NOT_ALLOWED]]);
}

const titles = (result) => result.data.threads.edges.map((edge) => edge.node.title);

// The watched query's result once the page fetchMore wrote into the cache has reached it.
async function grown(observable, count) {
  for (let wait = 0; wait < 500; wait += 10) {
    const result = observable.getCurrentResult();
    if (titles(result).length > count) return result;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail("the page fetched did not reach the watched query's result");
}

async function paging() {
  // relayStylePagination merges the pages of threads(...) in the cache, forwards and backwards.
  const typePolicies = { Query: { fields: { threads: relayStylePagination(["order", "filter"]) } } };
  const pages = {};
  for (const [direction, size, cursor, more] of [
    ["forward", "first", "after", "hasNextPage"],
    ["backward", "last", "before", "hasPreviousPage"],
  ]) {
    const observable = client({ typePolicies }).watchQuery({
      query: documents.ThreadsDocument,
      variables: { [size]: 3 },
    });
    const subscription = observable.subscribe(() => {});
    let result = await observable.refetch();
    const seen = [titles(result).length];
    while (result.data.threads.pageInfo[more]) {
      assert.ok(seen.length < 10, `${direction}: no end of the pages`);
      const at = result.data.threads.pageInfo[direction === "forward" ? "endCursor" : "startCursor"];
      await observable.fetchMore({ variables: { [size]: 3, [cursor]: at } });
      result = await grown(observable, seen.at(-1));
      seen.push(titles(result).length);
    }
    subscription.unsubscribe();
    pages[direction] = { titles: titles(result), seen };
  }
  assert.deepEqual(pages.forward.titles, pages.backward.titles, "the same list both ways");
  return pages;
}

async function hashes() {
  // Each operation through ApolloClient and the link, to a last link that answers nothing: the
  // hash as Apollo computes it for what it would send, by operation name.
  const found = {};
  const capture = new ApolloLink(
    (operation) =>
      new Observable((observer) => {
        found[operation.operationName] = operation.extensions.persistedQuery.sha256Hash;
        observer.next({ data: null });
        observer.complete();
      }),
  );
  const link = ApolloLink.from([createPersistedQueryLink({ sha256 }), capture]);
  const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  for (const [name, document] of Object.entries(documents)) {
    const operation = document.definitions[0];
    if (!name.endsWith("Document") || operation.kind !== "OperationDefinition") continue;
    const run = {
      query: () => apollo.query({ query: document, fetchPolicy: "network-only" }),
      mutation: () => apollo.mutate({ mutation: document }),
      subscription: () =>
        new Promise((resolve) => {
          const subscription = apollo.subscribe({ query: document }).subscribe({
            next: resolve,
            error: resolve,
            complete: resolve,
          });
          setTimeout(() => subscription.unsubscribe(), 1000);
        }),
    }[operation.operation];
    await run().catch(() => null); // the empty answer is an error to Apollo; the hash is taken
    assert.ok(found[operation.name.value], `no hash for ${operation.name.value}`);
  }
  return found;
}

const scenarios = { apq, trusted, paging, hashes };
const scenario = scenarios[process.argv[2]];
assert.ok(scenario, `scenario: one of ${Object.keys(scenarios)}`);
assert.ok(scenario === hashes || (API_URL && API_KEY), "API_URL and API_KEY are required");
const result = await scenario();
console.log(JSON.stringify({ requests, hashes: sentHashes, result: result ?? null }));
