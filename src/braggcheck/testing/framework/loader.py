"""Naming a target on the command line: ``MODULE:NAME`` or ``path/to/file.py:NAME``.

``braggcheck replay FILE --target examples/toy_target.py:TOY`` replays a stored case of any
target; :func:`target_spec` writes that name for a target object, so a failure message can
print the one command that replays it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from braggcheck.testing.framework.target import Target
from braggcheck.util.errors import ConfigError

TARGET_SPEC_FORM = "MODULE:NAME or path/to/file.py:NAME"


def _module(where: str) -> ModuleType:
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ConfigError(f"--target: file {where!r} does not exist (expected "
                              f"{TARGET_SPEC_FORM})")
        name = path.stem
        loaded = sys.modules.get(name)
        if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == \
                path.resolve():
            return loaded
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"--target: cannot load {where!r} as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while being defined
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise ConfigError(f"--target: importing {where!r} failed: "
                              f"{type(exc).__name__}: {exc}") from None
        return module
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise ConfigError(f"--target: cannot import module {where!r} ({exc}); expected "
                          f"{TARGET_SPEC_FORM}") from None


def load_target(spec: str) -> Target:
    """The target object ``spec`` names (a one-line ConfigError when it names none)."""
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise ConfigError(f"--target = {spec!r}: expected {TARGET_SPEC_FORM}")
    module = _module(where)
    if not hasattr(module, attribute):
        raise ConfigError(f"--target: {where!r} has no attribute {attribute!r}")
    target = getattr(module, attribute)
    if not isinstance(target, Target):
        raise ConfigError(f"--target: {spec!r} is a {type(target).__name__}, not a target "
                          "(see docs/targets.md for the protocol)")
    return target


def target_spec(target: Target) -> str | None:
    """``MODULE:NAME`` of the module-level name bound to ``target`` (the module that defines
    its class first), or ``path/to/file.py:NAME`` for a module loaded from a file that is not
    on ``sys.path`` (relative to the working directory when below it); None when none is."""
    home = type(target).__module__
    modules = sorted(sys.modules.items(), key=lambda item: item[0] != home)
    for module_name, module in modules:
        if module_name == "__main__" or module is None:
            continue
        names = [n for n, v in list(vars(module).items())
                 if v is target and not n.startswith("_")]
        if not names:
            continue
        file = getattr(module, "__file__", None)
        if file is not None and not _importable(module_name):
            relative = os.path.relpath(file)
            return f"{file if relative.startswith('..') else relative}:{names[0]}"
        return f"{module_name}:{names[0]}"
    return None


def _importable(module_name: str) -> bool:
    """Whether ``import module_name`` finds the module on ``sys.path`` (a package's modules
    are, once the package is imported)."""
    if "." in module_name:
        return True
    return importlib.machinery.PathFinder.find_spec(module_name) is not None
