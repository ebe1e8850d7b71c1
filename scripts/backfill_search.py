"""Write the search terms of messages and thread titles stored before search existed, or
with terms of older rules (a `termsVersion` below app.search_terms.TERMS_VERSION: before
prefix terms) (see ./scripts/backfill-search --help). Idempotent (only documents without
current terms are written) and
resumable: it walks each collection in `_id` order by batches and marks the last `_id` done,
so a run interrupted goes on from there. The database is the one the settings name."""

import argparse
import sys
from collections.abc import Callable

from app import store
from app.settings import Settings
from scripts.apikey import with_database


async def backfill(db: store.Database, *, batch: int, report: Callable[[str], None]) -> int:
    """How many messages and threads got terms."""
    total = 0
    for threads in (False, True):
        what = "threads" if threads else "messages"
        after = await store.backfill_progress(db, threads=threads)
        while True:
            written, last = await store.backfill_terms(
                db, threads=threads, after=after, batch=batch
            )
            total += written
            await store.mark_backfill_progress(db, threads=threads, after=last)
            report(f"{what}: {total} written, at {last or 'the end'}")
            if last is None:
                break
            after = last
    return total


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=500, help="documents per batch")
    arguments = parser.parse_args(argv)

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def work(db: store.Database) -> int:
        return await backfill(db, batch=arguments.batch, report=report)

    print(f"{with_database(Settings(), work)} documents given search terms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
