"""A GraphQL API over the thread-and-message model of LLM assistant platforms, on MongoDB."""
