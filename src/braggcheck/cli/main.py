"""The ``braggcheck`` command: ``simulate`` (nanoBragg flags) and the framework's tools.

Bad input never shows a traceback: a :class:`ConfigError` becomes one line on stderr and exit
status 2. Neither does Ctrl-C, at any moment: it ends with one "interrupted" line and status 130.
For that this module, the console script's entry point, imports nothing heavy (torch, numpy,
hypothesis; the ``braggcheck`` package itself loads them lazily): a command's module is imported
inside :func:`main`'s handler, so an interrupt while torch is still loading is caught too.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

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
    name = args[0] if args and args[0] in SUBCOMMANDS else None
    # The process's own command line (the console script, python -m): once the command is over,
    # a late Ctrl-C must not print a traceback from an exit handler (torch has some) either.
    after = signal.SIG_IGN if argv is None else signal.default_int_handler
    try:
        with _noticed_interrupts(after) as interrupted:
            return _run(args, interrupted)
    except KeyboardInterrupt:
        print(f"braggcheck{f' {name}' if name else ''}: interrupted", file=sys.stderr)
        return 130


class _Interrupted:
    """Whether Ctrl-C came, even if whatever it interrupted swallowed the KeyboardInterrupt
    (torch's C start-up imports numpy and carries on without it when that import fails)."""

    seen = False

    def __call__(self, signum: int, frame: object) -> None:
        self.seen = True
        raise KeyboardInterrupt


@contextmanager
def _noticed_interrupts(after: signal.Handlers | Callable[..., object]
                        ) -> Iterator[_Interrupted]:
    """During the block, Ctrl-C raises KeyboardInterrupt as usual and is also remembered;
    afterwards SIGINT gets ``after``. A SIGINT handler set by someone else (or SIG_IGN) is left
    alone."""
    interrupted = _Interrupted()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield interrupted
        return
    signal.signal(signal.SIGINT, interrupted)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, after)


def _run(args: list[str], interrupted: _Interrupted) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"braggcheck: error: unknown command {name!r}; valid: "
              f"{', '.join(SUBCOMMANDS)}", file=sys.stderr)
        return 2
    try:
        command = _load(name)  # the command's imports (torch...) happen here
        if interrupted.seen:  # an interrupt an import swallowed
            raise KeyboardInterrupt
        return command(rest)
    except (ConfigError, WriteError) as exc:
        print(f"braggcheck {name}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # any other system failure: one line, no traceback
        print(f"braggcheck {name}: failed: {exc}", file=sys.stderr)
        return 1


def argument_parser(command: str, description: str) -> argparse.ArgumentParser:
    """An argparse parser whose usage errors exit with status 2 and one line."""
    return argparse.ArgumentParser(prog=f"braggcheck {command}", description=description)


if __name__ == "__main__":
    raise SystemExit(main())
