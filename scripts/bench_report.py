"""The benchmark's output: markdown tables, the machine line, and `--write`, which replaces the
figures between markers in docs/performance.md and README.md."""

import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def replace_between(path: Path, text: str) -> bool:
    """Replace what lies between the markers in `path` with `text`; False if it has none."""
    content = path.read_text()
    if BEGIN not in content or END not in content:
        return False
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text.strip()}\n{END}{tail}")
    return True


def write(docs: str, readme: str) -> list[str]:
    """Write both; the files that had markers."""
    written = []
    for name, text in (("docs/performance.md", docs), ("README.md", readme)):
        if replace_between(ROOT / name, text):
            written.append(name)
    return written
