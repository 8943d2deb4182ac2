"""The fused per-pixel intensity equals the plain formula: value, reverse-mode gradients of
every input, forward mode and second derivatives, for every chunk size, in float64 and
float32, with and without per-reflection amplitudes."""

from __future__ import annotations

import pytest
import torch
import torch.autograd.forward_ad as fwAD

from braggcheck.sim.amplitudes import AmplitudeLookup
from braggcheck.sim.fused_lattice import LatticeSetup
from braggcheck.sim.fused_pixels import PixelSetup, fused_pixel_intensity, plain_pixel_intensity

F64 = torch.float64
PIXELS = 12
SUBPIXELS = 2  # along the fast axis, at a quarter and three quarters of the pixel


def _offsets(slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
    quarter = torch.tensor([0.25, 0.75], dtype=slow.dtype)
    f_pos = (fast[:, None] + quarter) * 0.1
    s_pos = (slow[:, None] + 0.5).expand(-1, SUBPIXELS) * 0.1
    return torch.stack((f_pos.reshape(-1), s_pos.reshape(-1)))


def _lookup(requires_grad: bool = False) -> AmplitudeLookup:
    """A made-up F that changes from reflection to reflection (F^2 = 1 + h % 3 + 2 (l % 2)),
    on a grid covering every index drawn here."""
    h, _, l = torch.meshgrid(*(torch.arange(-60, 61, dtype=torch.float64),) * 3,
                             indexing="ij")
    grid = torch.sqrt(1 + (h % 3) + 2 * (l % 2)).requires_grad_(requires_grad)
    return AmplitudeLookup(grid, (-60, -60, -60), 0.0)


_amplitudes = _lookup()


def _setup(cells=(3, 4, 5), dtype=F64, weighted=True, chunk=PIXELS) -> PixelSetup:
    lattice = LatticeSetup(cells, dtype, _amplitudes if weighted else None)
    return PixelSetup(lattice, _offsets, SUBPIXELS, chunk)


def _inputs() -> tuple[torch.Tensor, ...]:
    """pix0, plane, projection (3R x 3, R = 2 row blocks), offset with requires_grad; pixel
    indices (a 3 x 4 patch) as constants. h spans a few reflections across the patch."""
    generator = torch.Generator().manual_seed(5)
    pix0 = torch.tensor([-0.2, -0.15, 1.0], dtype=F64)
    plane = torch.tensor([[1.0, 0.05], [0.02, 1.0], [0.1, -0.05]], dtype=F64)
    projection = torch.randn(6, 3, generator=generator, dtype=F64) * 12
    offset = torch.randn(6, 1, generator=generator, dtype=F64)
    slow, fast = torch.meshgrid(torch.arange(3.0, dtype=F64), torch.arange(4.0, dtype=F64),
                                indexing="ij")
    leaves = tuple(t.requires_grad_(True) for t in (pix0, plane, projection, offset))
    return *leaves, slow.reshape(-1), fast.reshape(-1)


@pytest.mark.parametrize("chunk", [1, 5, PIXELS])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cells", [(2, 2, 2), (3, 4, 5), (1, 6, 16)])
def test_value_and_gradients_match_plain_autograd(cells, weighted, chunk):
    setup = _setup(cells, weighted=weighted, chunk=chunk)
    *leaves, slow, fast = _inputs()
    fused = fused_pixel_intensity(*leaves, slow, fast, setup)
    plain = plain_pixel_intensity(*leaves, slow, fast, setup)
    weights = torch.linspace(-1, 2, PIXELS, dtype=F64)
    g_fused = torch.autograd.grad((fused * weights).sum(), leaves)
    g_plain = torch.autograd.grad((plain * weights).sum(), leaves)
    assert plain.detach().max() > 3 * plain.detach().min(), "h must vary across the patch"
    torch.testing.assert_close(fused, plain, rtol=1e-13,
                               atol=1e-13 * float(plain.detach().max()))
    for a, b in zip(g_fused, g_plain, strict=True):
        assert torch.all(torch.isfinite(a)) and bool(b.abs().max() > 0)
        torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-11 * float(b.abs().max()))


def test_float32_samples_match_float64_to_float32_rounding():
    *leaves, slow, fast = _inputs()
    single = fused_pixel_intensity(*leaves, slow, fast, _setup(dtype=torch.float32, chunk=5))
    double = fused_pixel_intensity(*leaves, slow, fast, _setup(chunk=5))
    assert single.dtype == torch.float32
    g_single = torch.autograd.grad(single.sum(), leaves)
    g_double = torch.autograd.grad(double.sum(), leaves)
    torch.testing.assert_close(single.double(), double, rtol=1e-5,
                               atol=1e-5 * float(double.detach().max()))
    for a, b in zip(g_single, g_double, strict=True):
        assert a.dtype == F64  # geometry gradients stay in the geometry dtype
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * float(b.abs().max()))


def test_gradcheck_and_gradgradcheck():
    setup = _setup(chunk=5)
    *leaves, slow, fast = _inputs()
    # Divided by the largest value so outputs are O(1): gradcheck's absolute tolerance 1e-5
    # would otherwise be below the finite differences' rounding noise (|f| 1e-16 / 1e-6).
    peak = float(plain_pixel_intensity(*leaves, slow, fast, setup).detach().max())

    def function(pix0, plane, projection, offset):
        return fused_pixel_intensity(pix0, plane, projection, offset, slow, fast, setup) / peak

    leaves = tuple(t.detach().requires_grad_(True) for t in leaves)
    assert torch.autograd.gradcheck(function, leaves)
    assert torch.autograd.gradgradcheck(function, leaves)


@pytest.mark.parametrize("chunk", [5, PIXELS])
def test_forward_mode_matches_reverse_mode(chunk):
    setup = _setup(chunk=chunk)
    *leaves, slow, fast = _inputs()
    generator = torch.Generator().manual_seed(3)
    tangents = [torch.randn(t.shape, generator=generator, dtype=F64) for t in leaves]
    with fwAD.dual_level():
        duals = [fwAD.make_dual(t.detach(), d) for t, d in zip(leaves, tangents, strict=True)]
        forward = fwAD.unpack_dual(fused_pixel_intensity(*duals, slow, fast, setup)).tangent
    plain = plain_pixel_intensity(*leaves, slow, fast, setup)
    expected = torch.zeros_like(plain)
    for j in range(PIXELS):  # the Jacobian row by row, contracted with the tangents
        rows = torch.autograd.grad(plain[j], leaves, retain_graph=True)
        expected[j] = sum((r * d).sum() for r, d in zip(rows, tangents, strict=True))
    torch.testing.assert_close(forward, expected, rtol=1e-11,
                               atol=1e-11 * float(expected.abs().max()))


def _grid_setup(chunk: int, grid: torch.Tensor) -> PixelSetup:
    lattice = LatticeSetup((3, 4, 5), F64, _lookup().using(grid))
    return PixelSetup(lattice, _offsets, SUBPIXELS, chunk)


@pytest.mark.parametrize("chunk", [1, 5, PIXELS])
def test_the_amplitude_grid_gradient_matches_plain_autograd(chunk):
    grid = _lookup().grid.clone().requires_grad_(True)
    setup = _grid_setup(chunk, grid)
    *leaves, slow, fast = _inputs()
    weights = torch.linspace(-1, 2, PIXELS, dtype=F64)
    inputs = (*leaves, grid)
    fused = torch.autograd.grad((fused_pixel_intensity(*leaves, slow, fast, setup)
                                 * weights).sum(), inputs)
    plain = torch.autograd.grad((plain_pixel_intensity(*leaves, slow, fast, setup)
                                 * weights).sum(), inputs)
    assert int((plain[-1] != 0).sum()) > 10, "several reflections must receive a gradient"
    for a, b in zip(fused, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-11 * float(b.abs().max()))


def test_the_amplitude_grid_in_forward_mode_and_second_derivatives():
    grid = _lookup().grid.clone()
    *leaves, slow, fast = _inputs()
    tangent = torch.randn(grid.shape, generator=torch.Generator().manual_seed(4), dtype=F64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(grid, tangent)
        values = fused_pixel_intensity(*(t.detach() for t in leaves), slow, fast,
                                       _grid_setup(5, dual))
        forward = fwAD.unpack_dual(values).tangent
    leaf = grid.requires_grad_(True)
    plain = plain_pixel_intensity(*leaves, slow, fast, _grid_setup(5, leaf))
    expected = torch.stack([(torch.autograd.grad(plain[j], leaf, retain_graph=True)[0]
                             * tangent).sum() for j in range(PIXELS)])
    assert float(expected.abs().max()) > 0
    torch.testing.assert_close(forward, expected, rtol=1e-11,
                               atol=1e-11 * float(expected.abs().max()))
    # create_graph: d/d(projection) of d(sum)/d(grid), through the plain formula
    fused = fused_pixel_intensity(*leaves, slow, fast, _grid_setup(5, leaf))
    (first,) = torch.autograd.grad(fused.sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad((first * tangent).sum(), leaves[2])
    (first_plain,) = torch.autograd.grad(plain.sum(), leaf, create_graph=True)
    (second_plain,) = torch.autograd.grad((first_plain * tangent).sum(), leaves[2])
    assert float(second_plain.abs().max()) > 0
    torch.testing.assert_close(second, second_plain, rtol=1e-11,
                               atol=1e-11 * float(second_plain.abs().max()))
