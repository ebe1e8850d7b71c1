"""Rules of the code base that keep it movable, checked by parsing the code: one package speaks
to MongoDB, the GPL embedded server is never imported by the app, and the rooms stay small."""

import ast
import re
from pathlib import Path

APP = Path(__file__).parent.parent / "app"
STORE = APP / "store"
MODULES = sorted(APP.rglob("*.py"))
OPERATOR = re.compile(r"\$[A-Za-z]+")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def storage_words(path: Path) -> set[str]:
    """The string constants of a module that are MongoDB operators, field paths or `_id`."""
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "_id" or OPERATOR.fullmatch(node.value))
    }


def outside_store(paths: list[Path]) -> list[Path]:
    return [path for path in paths if STORE not in path.parents]


def test_only_the_store_imports_motor_and_pymongo() -> None:
    importers = [p for p in MODULES if imported_modules(p) & {"motor", "pymongo", "bson"}]
    assert importers and not outside_store(importers)


def test_only_the_store_speaks_mongodb() -> None:
    offenders = {str(p.relative_to(APP)): storage_words(p) for p in outside_store(MODULES)}
    assert {name: words for name, words in offenders.items() if words} == {}
    assert storage_words(STORE / "listings.py"), "the check finds what it looks for"


def test_the_app_never_imports_the_embedded_server() -> None:
    for path in MODULES:
        assert not {m for m in imported_modules(path) if m.lower().startswith("secantus")}, path


def test_small_rooms() -> None:
    too_long = {
        str(p.relative_to(APP)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400
    }
    assert too_long == {}
    too_deep = [p for p in MODULES if len(p.relative_to(APP).parts) > 2]
    assert too_deep == []
    assert not [p for p in MODULES if p.stem in ("utils", "helpers", "common", "misc")]
