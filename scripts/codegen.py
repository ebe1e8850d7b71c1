"""Generate the typed Python client, clients/threads_client, from schema.graphql and
clients/operations.graphql with ariadne-codegen (in .venv/codegen: it needs an older graphql-core
than the app), then lint and format it with the project's ruff (used by ./scripts/codegen)."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "clients" / "threads_client"
ARIADNE_CODEGEN = ROOT / ".venv" / "codegen" / "bin" / "ariadne-codegen"
RUFF = ROOT / ".venv" / "bin" / "ruff"


def generate(into: Path) -> Path:
    """Writes the client package into the directory `into`, and returns the package's path."""
    settings = (ROOT / "pyproject.toml").read_text()
    target = 'target_package_path = "clients"'
    assert target in settings, f"pyproject.toml's [tool.ariadne-codegen] has no {target}"
    config = into / "ariadne-codegen.toml"
    config.write_text(settings.replace(target, f'target_package_path = "{into}"'))
    subprocess.run(
        [ARIADNE_CODEGEN, "--config", config], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    package = into / PACKAGE.name
    ruff: list[str | Path] = [RUFF, "--config", ROOT / "pyproject.toml"]
    subprocess.run([*ruff, "check", "--fix", "--exit-zero", "--silent", package], check=True)
    subprocess.run([*ruff, "format", "--quiet", package], check=True)
    return package


def files(package: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(package.glob("*.py"))}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        package = generate(Path(tmp))
        shutil.rmtree(PACKAGE, ignore_errors=True)
        shutil.copytree(package, PACKAGE)
    print(f"Wrote {PACKAGE.relative_to(ROOT)}/ ({len(files(PACKAGE))} modules).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
