"""The ``braggcheck`` command: ``simulate`` (nanoBragg flags) and the framework's tools.

Bad input never shows a traceback: a :class:`ConfigError` becomes one line on stderr and exit
status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from braggcheck.util.errors import ConfigError, WriteError

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "simulate": ("braggcheck.cli.simulate", "render an image from nanoBragg flags"),
    "check": ("braggcheck.cli.check",
              "property-based gradient check of the built-in simulator (the main job)"),
    "report": ("braggcheck.cli.report", "run the Tier-2 gradient suite, write a report"),
    "replay": ("braggcheck.cli.replay", "replay a stored failing configuration"),
    "bench": ("braggcheck.cli.bench", "time forward/backward and measure peak memory"),
    "coverage": ("braggcheck.cli.coverage",
                 "what the property strategies draw (event counts, value histograms)"),
    "diff": ("braggcheck.cli.diff", "differential test against a reference nanoBragg"),
    "mutants": ("braggcheck.cli.mutants", "mutation score: plant known bugs, run the suite"),
}


def _usage() -> str:
    lines = ["usage: braggcheck COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<9} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    lines += ["", "'braggcheck COMMAND --help' describes a command."]
    return "\n".join(lines)


def _load(name: str) -> Callable[[list[str]], int]:
    module = importlib.import_module(SUBCOMMANDS[name][0])
    return module.main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"braggcheck: error: unknown command {name!r}; valid: "
              f"{', '.join(SUBCOMMANDS)}", file=sys.stderr)
        return 2
    try:
        return _load(name)(rest)
    except (ConfigError, WriteError) as exc:
        print(f"braggcheck {name}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # any other system failure: one line, no traceback
        print(f"braggcheck {name}: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"braggcheck {name}: interrupted", file=sys.stderr)
        return 130


def argument_parser(command: str, description: str) -> argparse.ArgumentParser:
    """An argparse parser whose usage errors exit with status 2 and one line."""
    return argparse.ArgumentParser(prog=f"braggcheck {command}", description=description)


if __name__ == "__main__":
    raise SystemExit(main())
