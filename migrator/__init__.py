"""migrator: mechanical RTNL -> nd_lock migration of Linux networking code."""

from pathlib import Path

__version__ = "0.1.0"

# rules/ and templates/ live beside the package (the project is installed editable).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = PROJECT_ROOT / "rules"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
