"""Wait until the API's database (MONGODB_URI, else 127.0.0.1:DB_PORT) answers a ping (30 s)."""

import sys

from pymongo.errors import PyMongoError

from app.settings import Settings
from scripts.embedded import wait_for_ping

if __name__ == "__main__":
    uri = Settings().database_uri
    try:
        wait_for_ping(uri)
    except PyMongoError:
        sys.exit(f"The database at {uri} did not answer within 30 s.")
