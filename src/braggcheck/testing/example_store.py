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


def read_document(path: str | Path) -> dict[str, Any]:
    """The JSON object of a stored example or failure file (any target's), checked to hold a
    'case' object; a ConfigError naming the file otherwise."""
    path = Path(path)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"replay: file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"replay: cannot read {str(path)!r} ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"replay: {str(path)!r} is not JSON ({exc.msg}, line "
                          f"{exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("case"), dict):
        raise ConfigError(f"replay: {str(path)!r} holds no 'case' object")
    return data


def write_document(name: str, document: dict[str, Any],
                   directory: str | Path = FAILURES_DIR) -> Path:
    """Write ``document`` as ``directory/name.json`` atomically (a reader never sees half a
    file); return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    write_output(path, (json.dumps(document, indent=2) + "\n").encode())
    return path


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
