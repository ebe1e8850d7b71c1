// The GraphQL-over-HTTP spec audit of graphql-http (its `serverAudits`) against a running API.
// Run from clients/ (so that node_modules resolves): node audit.mjs http://127.0.0.1:8000/graphql
// with the key in the environment, GRAPHQL_AUDIT_KEY=sk_… (not on the command line, where `ps`
// would show it). Prints one JSON array: every audit's id, name and status (ok, or notice / warn
// / error for a failed MAY / SHOULD / MUST) and, for a failure, the reason, the HTTP status and
// the body. tests/test_graphql_over_http.py runs it against the live app.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
const key = process.env.GRAPHQL_AUDIT_KEY;
if (!url || !key) {
  console.error("usage: GRAPHQL_AUDIT_KEY=<key> node audit.mjs <url of /graphql>");
  process.exit(2);
}

// Every request of the audit carries the key, whatever headers the audit itself sets.
async function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetchWithKey })) {
  const result = await audit.fn();
  const { id, name, status, reason, response } = result;
  const entry = { id, name, status };
  if (status !== "ok") {
    entry.reason = reason;
    entry.httpStatus = response.status;
    entry.contentType = response.headers.get("content-type");
    entry.body = await response.text().catch(() => "(body already read)");
  }
  results.push(entry);
}
console.log(JSON.stringify(results, null, 2));
