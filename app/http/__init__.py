"""HTTP and WebSocket transport: the API key gate, request bookkeeping, GraphiQL, the endpoint."""
