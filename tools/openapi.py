"""Write the published OpenAPI document to docs/openapi.json (`make openapi`).

tests/test_openapi.py compares the app's document with this file, so an API change is always a
visible diff in review: run `make openapi` when the change is intended.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.settings import Settings
from main import create_app

OUT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def document() -> dict[str, object]:
    """The app's OpenAPI document (no database needed)."""
    settings = Settings(database_url="postgresql://unused/unused", demo_data=False, secret_key="x")
    return create_app(settings).openapi()


def dumps(doc: dict[str, object]) -> str:
    """Stable text: keys sorted, so only real changes show in a diff."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    OUT.write_text(dumps(document()), encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
