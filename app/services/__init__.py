"""Use cases: one function per write, each validating what needs the database, writing,
recording the thread's event and returning domain values."""
