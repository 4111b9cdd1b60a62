"""migrator: mechanical RTNL -> nd_lock migration of Linux networking code."""

import hashlib
from functools import cache
from pathlib import Path

__version__ = "0.1.0"

# rules/ and templates/ live beside the package (the project is installed editable).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = PROJECT_ROOT / "rules"
TEMPLATES_DIR = PROJECT_ROOT / "templates"


@cache
def code_digest() -> str:
    """Digest of the package's code and templates.  Caches are keyed on it, so results
    computed by other code (an upgrade, a local change) are never reused."""
    h = hashlib.blake2b(digest_size=8)
    here = Path(__file__).resolve().parent
    for path in sorted([*here.rglob("*.py"), *TEMPLATES_DIR.glob("*.j2")]):
        h.update(str(path.relative_to(PROJECT_ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()
