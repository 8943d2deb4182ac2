"""The README's Python example runs as printed (an API rename would otherwise leave it stale)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_python_example_runs_and_has_a_gradient():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    grad = namespace["cell_a"].grad
    assert grad is not None and bool(grad.isfinite()) and float(grad) != 0.0
