"""Manage API keys in the API's database (see ./scripts/apikey --help). The database is the one
the settings name: MONGODB_URI, else the embedded server of ./scripts/serve on DB_PORT."""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from app import store
from app.services import api_keys
from app.settings import Settings

T = TypeVar("T")


def with_database(settings: Settings, work: Callable[[store.Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = store.open_database(settings.database_uri, settings.mongodb_database, timeout_ms=5_000)
        try:
            await store.ensure_indexes(db)
            return await work(db)
        finally:
            store.close_database(db)

    return asyncio.run(run())


def local_key(settings: Settings, path: Path) -> str:
    """The local development key, kept in `path`; created (again) when missing or revoked."""
    kept = path.read_text().strip() if path.exists() else None

    async def valid_or_new(db: store.Database) -> str:
        if kept and await api_keys.authenticate(db, f"Bearer {kept}") is not None:
            return kept
        return await api_keys.issue_key(
            db,
            organization_id=api_keys.LOCAL_ORGANIZATION,
            user_id=api_keys.LOCAL_USER,
            name="local development",
        )

    key = with_database(settings, valid_or_new)
    if key != kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(key + "\n")
    return key


def main(arguments: argparse.Namespace, settings: Settings) -> int:
    if arguments.command == "create":

        async def create(db: store.Database) -> str:
            return await api_keys.issue_key(
                db, organization_id=arguments.org, user_id=arguments.user, name=arguments.name
            )

        print(with_database(settings, create))
        print("Store it now: it is not shown again.", file=sys.stderr)
    elif arguments.command == "list":

        async def listing(db: store.Database) -> list[store.ApiKey]:
            return await store.list_api_keys(db, organization_id=arguments.org)

        for stored in with_database(settings, listing):
            state = "revoked" if stored.revoked_at else "active"
            created = f"{stored.created_at:%Y-%m-%d %H:%M}"
            print(f"{stored.id}  {state:7}  {stored.user_id}  {created}  {stored.name}")
    elif arguments.command == "revoke":

        async def revoke(db: store.Database) -> bool:
            return await api_keys.revoke_key(db, key_id=arguments.key_id)

        if not with_database(settings, revoke):
            print(f"No key {arguments.key_id}.", file=sys.stderr)
            return 1
        print(f"Revoked {arguments.key_id}.")
    else:
        key = local_key(settings, Path(arguments.file or settings.local_key_file))
        print(f"Local API key (organization {api_keys.LOCAL_ORGANIZATION}): {key}")
        print(f'GraphiQL headers pane: {{"Authorization": "Bearer {key}"}}')
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="scripts/apikey", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    create_command = commands.add_parser("create", help="create a key and print it once")
    create_command.add_argument("--org", required=True, help="organization id")
    create_command.add_argument("--user", required=True, help="user id")
    create_command.add_argument("--name", default="", help="what the key is for")
    list_command = commands.add_parser("list", help="list an organization's keys")
    list_command.add_argument("--org", required=True, help="organization id")
    revoke_command = commands.add_parser("revoke", help="revoke a key by its id")
    revoke_command.add_argument("key_id", help="the id shown by list (the part after sk_)")
    local_command = commands.add_parser("local", help="print the local development key")
    local_command.add_argument(
        "--file", default=None, help="where to keep it (default: $DATA_DIR/local-api-key)"
    )
    return top


if __name__ == "__main__":
    sys.exit(main(parser().parse_args(), Settings()))
