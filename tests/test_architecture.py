"""Rules of the code base that keep it movable: one module speaks to MongoDB through Motor,
and the GPL embedded server is never imported by the app."""

import ast
from pathlib import Path

APP = Path(__file__).parent.parent / "app"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_store_imports_motor_and_pymongo() -> None:
    importers = {p.name for p in APP.glob("*.py") if imported_modules(p) & {"motor", "pymongo"}}
    assert importers == {"store.py"}


def test_the_app_never_imports_the_embedded_server() -> None:
    for path in APP.glob("*.py"):
        assert not {m for m in imported_modules(path) if m.lower().startswith("secantus")}, path
