"""Stored examples: hand-picked edge cases and every failure found, as readable JSON files.

A file holds ``{"description": ..., "check": <name or null for every check>, "case": {...}}``.
The package's ``examples/`` folder is replayed by every property before it generates new
examples. A failing property writes its shrunk case to ``reports/failures/<name>.json``; copy
such a file into ``src/braggcheck/testing/examples/`` to keep it forever.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from braggcheck.testing.cases import Case
from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output

EXAMPLES_DIR = Path(__file__).parent / "examples"
FAILURES_DIR = Path("reports") / "failures"


def read_case_file(path: str | Path) -> tuple[str | None, Case, str]:
    """(check name or None, case, description) from a stored example or failure file."""
    path = Path(path)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"replay: file {str(path)!r} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"replay: {str(path)!r} is not JSON ({exc.msg}, line "
                          f"{exc.lineno})") from None
    if not isinstance(data, dict) or "case" not in data:
        raise ConfigError(f"replay: {str(path)!r} holds no 'case' object")
    case = Case.from_dict(data["case"], base_dir=path.parent)
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
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    text = json.dumps(case_document(check, case, description), indent=2) + "\n"
    write_output(path, text.encode())
    return path


def replay_command(path: Path) -> str:
    return f"braggcheck replay {path}"
