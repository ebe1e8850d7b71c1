"""Wait until the database at MONGODB_URI answers a ping (at most 30 s)."""

import os
import sys
import time
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017")
deadline = time.monotonic() + 30
while True:
    try:
        client: MongoClient[dict[str, Any]]
        with MongoClient(uri, serverSelectionTimeoutMS=500) as client:
            client.admin.command("ping")
        break
    except PyMongoError:
        if time.monotonic() > deadline:
            sys.exit(f"The database at {uri} did not answer within 30 s.")
        time.sleep(0.2)
