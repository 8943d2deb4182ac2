"""braggcheck's own stored examples: hand-picked edge cases of the nanoBragg target.

The package's ``examples/`` folder is replayed by every property before it generates new
examples; copy a failure file from ``reports/failures/`` into
``src/braggcheck/testing/nanobragg/examples/`` to keep it forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from braggcheck.testing.framework.store import FAILURES_DIR, read_document, write_document
from braggcheck.testing.nanobragg.case import Case

EXAMPLES_DIR = Path(__file__).parent / "examples"


def read_case_file(path: str | Path) -> tuple[str | None, Case, str]:
    """(check name or None, case, description) from a stored example or failure file."""
    data = read_document(path)
    case = Case.from_dict(data["case"], base_dir=Path(path).parent)
    return data.get("check"), case, str(data.get("description", ""))


def stored_examples(check: str | None = None) -> list[tuple[str, Case]]:
    """(file stem, case) for each stored example that applies to ``check``."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        target, case, _ = read_case_file(path)
        if target is None or check is None or target == check:
            found.append((path.stem, case))
    return found


def case_document(check: str, case: Case, description: str) -> dict[str, Any]:
    return {"description": description, "check": check, "case": case.to_dict()}


def write_failure(name: str, check: str, case: Case, description: str,
                  directory: str | Path = FAILURES_DIR) -> Path:
    """Write the failing case atomically (a reader never sees half a file); return its path."""
    return write_document(name, case_document(check, case, description), directory)


def replay_command(path: Path) -> str:
    return f"braggcheck replay {path}"
