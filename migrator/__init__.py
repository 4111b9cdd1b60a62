"""migrator: mechanical migration of Linux kernel code off a lock or API, one pack per
migration (migrator/packs/), written as git-format-patch series."""

import hashlib
from functools import cache
from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def code_digest() -> str:
    """Digest of the package's code, packs and templates.  Caches are keyed on it, so
    results computed by other code (an upgrade, a local change) are never reused."""
    h = hashlib.blake2b(digest_size=8)
    files = [p for pattern in ("*.py", "*.j2", "*.toml") for p in PACKAGE_DIR.rglob(pattern)]
    for path in sorted(files):
        h.update(str(path.relative_to(PACKAGE_DIR)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()
