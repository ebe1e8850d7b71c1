"""The TypeScript side (clients/): graphql-codegen turns schema.graphql and operations.graphql
into clients/generated/ without errors or warnings and as committed, and tsc --noEmit passes on
the example that uses them. Needs node (and ./scripts/install-codegen's clients/node_modules)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.errors import error_codes
from tests.helpers.backends import ROOT_DIR

pytestmark = [pytest.mark.slow]

CLIENTS = ROOT_DIR / "clients"
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(
    NODE is None, reason="TypeScript check: node is not on this machine"
)


def node(*args: str | Path, cwd: Path) -> str:
    """Runs a node tool from clients/node_modules; returns what it printed."""
    if not (CLIENTS / "node_modules" / ".bin").is_dir():
        pytest.fail("clients/node_modules is missing: run ./scripts/install-codegen")
    assert NODE is not None
    done = subprocess.run([NODE, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@needs_node
def test_codegen_is_current_without_warnings(tmp_path: Path) -> None:
    work = tmp_path / "clients"
    work.mkdir()
    shutil.copy(ROOT_DIR / "schema.graphql", tmp_path)
    for name in ("codegen.ts", "operations.graphql"):
        shutil.copy(CLIENTS / name, work)
    (work / "node_modules").symlink_to(CLIENTS / "node_modules")
    output = node(
        CLIENTS / "node_modules" / ".bin" / "graphql-codegen", "--config", "codegen.ts", cwd=work
    )
    assert not re.search(r"warn|error|⚠|✖", output, re.IGNORECASE), output
    generated = sorted(path.name for path in (work / "generated").iterdir())
    assert generated == sorted(path.name for path in (CLIENTS / "generated").iterdir())
    for name in generated:
        assert (work / "generated" / name).read_text() == (
            CLIENTS / "generated" / name
        ).read_text(), f"clients/generated/{name} is out of date: run ./scripts/codegen"


@needs_node
def test_the_example_type_checks() -> None:
    tsc = CLIENTS / "node_modules" / "typescript" / "bin" / "tsc"
    assert node(tsc, "--noEmit", "-p", ".", cwd=CLIENTS) == ""


def test_the_examples_error_codes_are_the_servers() -> None:
    union = re.search(r"type ErrorCode =(.*?);", (CLIENTS / "example.ts").read_text(), re.S)
    assert union and set(re.findall(r'"(\w+)"', union.group(1))) == error_codes()
