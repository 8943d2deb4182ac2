"""Naming a target on the command line: ``MODULE:NAME`` or ``path/to/file.py:NAME``.

``braggcheck replay FILE --target /abs/path/examples/toy_target.py:TOY`` replays a stored case
of any target; :func:`target_spec` writes that name for a target object, so a failure message
can print the one command that replays it, from any directory: the module form only for a module
of an installed distribution, else the absolute file form (a module inside a package folder is
imported under its dotted name, so its relative imports work).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from functools import cache
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
        dotted = _package_module(path.resolve())
        if dotted is not None:
            return dotted
        name = path.stem
        loaded = sys.modules.get(name)
        if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == \
                path.resolve():
            return loaded
        # As ``python path/to/file.py`` would: its folder is importable (its neighbours).
        if str(path.resolve().parent) not in sys.path:
            sys.path.insert(0, str(path.resolve().parent))
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


def _package_module(path: Path) -> ModuleType | None:
    """The module of ``path`` imported under its dotted name when its folder is a package
    (``__init__.py``): its root folder goes on ``sys.path`` so relative imports work. None for
    a lone file."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1:
        return None
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    dotted = ".".join(parts)
    try:
        return importlib.import_module(dotted)
    except Exception as exc:
        raise ConfigError(f"--target: importing {str(path)!r} as {dotted} failed: "
                          f"{type(exc).__name__}: {exc}") from None


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
    """The name of the module-level object bound to ``target`` (the module that defines its
    class first) that works from any directory: ``MODULE:NAME`` for a module of an installed
    distribution, else ``/absolute/path/to/file.py:NAME``; None when no module binds it."""
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
        if file is not None and not _installed(module_name):
            return f"{Path(file).resolve()}:{names[0]}"
        return f"{module_name}:{names[0]}"
    return None


@cache
def _distributions() -> frozenset[str]:
    return frozenset(importlib.metadata.packages_distributions())


def _installed(module_name: str) -> bool:
    """Whether the module belongs to an installed distribution (importable by name from any
    directory, unlike a module found through the working directory or a test's root folder)."""
    return module_name.partition(".")[0] in _distributions()
