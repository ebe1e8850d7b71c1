"""Copy the assets of Strawberry's GraphiQL page from npm into app/static, each checked against
the page's integrity hash, with its package's LICENSE file when it has one, and pin the hashes
in app/static/integrity.json (used by ./scripts/vendor-graphiql)."""

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from app.http.graphiql import STATIC_DIR, cdn_assets, integrity, strawberry_page

# `@scope/name@1.0.0/dist/file.js` → (`@scope/name@1.0.0`, `dist/file.js`)
PACKAGE_PATH = re.compile(r"((?:@[^/]+/)?[^/@]+@[^/]+)/(.+)")


def npm_pack(spec: str, into: Path) -> tarfile.TarFile:
    packed = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    return tarfile.open(into / json.loads(packed.stdout)[0]["filename"])


def member(tarball: tarfile.TarFile, name: str) -> bytes | None:
    try:
        extracted = tarball.extractfile(f"package/{name}")
    except KeyError:
        return None
    return None if extracted is None else extracted.read()


def main() -> int:
    assets = cdn_assets(strawberry_page())
    shutil.rmtree(STATIC_DIR, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        tarballs: dict[str, tarfile.TarFile] = {}
        for path, expected in sorted(assets.items()):
            match = PACKAGE_PATH.fullmatch(path)
            assert match, path
            spec, name = match.groups()
            if spec not in tarballs:
                tarballs[spec] = npm_pack(spec, Path(tmp))
                (STATIC_DIR / spec).mkdir(parents=True)
                license_text = member(tarballs[spec], "LICENSE")
                if license_text is not None:
                    (STATIC_DIR / spec / "LICENSE").write_bytes(license_text)
            data = member(tarballs[spec], name)
            if data is None or integrity(data) != expected:
                print(f"{path}: npm's file does not match the page's {expected}", file=sys.stderr)
                return 1
            (STATIC_DIR / path).parent.mkdir(parents=True, exist_ok=True)
            (STATIC_DIR / path).write_bytes(data)
            print(f"{path}  {expected}")
    pins = json.dumps(dict(sorted(assets.items())), indent=2) + "\n"
    (STATIC_DIR / "integrity.json").write_text(pins)
    return 0


if __name__ == "__main__":
    sys.exit(main())
