"""The example store of any target: stored cases and failures as readable JSON documents.

A document holds ``{"description": ..., "target": <name>, "check": <name or null for every
check>, "case": {...}}``. A failing property writes its shrunk case to
``reports/failures/<name>.json``; copy such a file into a target's examples folder to keep it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from braggcheck.util.errors import ConfigError
from braggcheck.util.file_writer import write_output

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


def example_files(directory: str | Path) -> list[Path]:
    """The stored example files (``*.json``) of a folder, sorted; a ConfigError when the
    folder does not exist or holds none (a mistyped examples folder must not silently replay
    nothing: every property would pass without its stored cases)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"examples folder {str(directory)!r} does not exist")
    found = sorted(directory.glob("*.json"))
    if not found:
        raise ConfigError(f"examples folder {str(directory)!r} holds no stored examples "
                          "(*.json)")
    return found


def write_document(name: str, document: dict[str, Any],
                   directory: str | Path = FAILURES_DIR) -> Path:
    """Write ``document`` as ``directory/name.json`` atomically (a reader never sees half a
    file); return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    write_output(path, (json.dumps(document, indent=2) + "\n").encode())
    return path
