"""Test helpers: database backends, API clients and test data (imported by tests, never by
conftest.py magic)."""
