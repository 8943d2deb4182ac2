"""The worked refinement example of docs/refinement.md, run as written with fewer steps."""

from __future__ import annotations

import re
from pathlib import Path

import torch

DOC = Path(__file__).parents[2] / "docs" / "refinement.md"


def _example(steps: int) -> str:
    """The document's python block, with its step count replaced."""
    block = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[0]
    assert "\nsteps = 6\n" in block, "the example's step count moved: update this test"
    return block.replace("\nsteps = 6\n", f"\nsteps = {steps}\n")


def test_the_refinement_example_lowers_the_loss_and_approaches_the_truth(capsys):
    namespace: dict = {}
    exec(compile(_example(3), str(DOC), "exec"), namespace)  # the document's own code
    losses, refined, truth = namespace["losses"], namespace["refined"], namespace["truth"]
    scales, start = namespace["scales"], torch.tensor([5.0, 5.0, 5.0, 100.0], dtype=torch.float64)
    final = namespace["closure"]().item()  # the loss after the last step
    assert len(losses) == 3 and final < 1e-2 * losses[0], (losses, final)
    before = torch.linalg.norm((start - truth) / scales)
    after = torch.linalg.norm((refined - truth) / scales)
    assert after < 0.2 * before, (refined, truth)
    # the cell counts, the new continuous parameters, are each within 0.05 cells
    assert torch.all((refined[:3] - truth[:3]).abs() < 0.05), refined
    assert "2.400e-01" in capsys.readouterr().out  # the printed first line, as documented


def test_the_structure_factor_example_recovers_the_amplitudes_on_the_window(capsys):
    """The second block: every reflection whose spot is on the window comes back to 1e-3."""
    block = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[1]
    assert "\nsteps = 4\n" in block, "the example's step count moved: update this test"
    namespace: dict = {}
    exec(compile(block.replace("\nsteps = 4\n", "\nsteps = 2\n"), str(DOC), "exec"), namespace)
    F, truth, seen, losses = (namespace[k] for k in ("F", "truth", "seen", "losses"))
    assert int(seen.sum()) >= 10, "the window must hold spots of several reflections"
    final = namespace["closure"]().item()
    assert final < 1e-4 * losses[0], (losses, final)
    error = ((F.detach() - truth).abs() / truth)[seen]
    assert float(error.max()) < 1e-2, error
    start = namespace["start"]
    unseen = ~(namespace["reach"] > 0)
    assert torch.equal(F.detach()[unseen], start[unseen])  # no gradient, no change
