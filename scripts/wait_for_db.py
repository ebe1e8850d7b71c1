"""Wait until the database at MONGODB_URI answers a ping (at most 30 s)."""

import os
import sys

from pymongo.errors import PyMongoError

from app.settings import Settings
from scripts.embedded import wait_for_ping

if __name__ == "__main__":
    uri = os.environ.get("MONGODB_URI", Settings().mongodb_uri)
    try:
        wait_for_ping(uri)
    except PyMongoError:
        sys.exit(f"The database at {uri} did not answer within 30 s.")
