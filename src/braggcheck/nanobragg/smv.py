"""SMV (ADSC) integer images, Poisson noise images and PGM previews, as the reference writes them.

``-intfile``: ``floor(v * scale + adc + 0.5)`` clipped to [0, 65535], scale 55000 / max by
default. ``-noisefile``: a Poisson deviate of each pixel (the reference program's own ``poidev``
on its ``ran1`` stream from ``-seed``, bit for bit, including its single-precision steps), plus
adc, clipped above at 65535 and truncated. ``-pgmfile``: 8-bit P5 greymap. Pixels outside the
ROI are 0 in every file (no adc, no random draw). The header has the reference's keys, order and
``%g`` numbers (brief section 8); its geometry is recomputed from the placed detector.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from braggcheck.sim.constants import MM
from braggcheck.sim.detector import detector_geometry
from braggcheck.sim.rng import Ran1, float32
from braggcheck.sim.state import build_state
from braggcheck.util.file_writer import write_output

if TYPE_CHECKING:
    from braggcheck.nanobragg.args import ParsedArgs
    from braggcheck.sim.config import Config

HEADER_BYTES = 512
AUTO_SCALE_TARGET = 55000.0
MAX_COUNT = 65535.0


_f32 = float32  # round to single precision, as a C ``float`` variable does


def header_fields(config: Config, header: dict) -> list[tuple[str, str]]:
    """(key, value text) in the reference program's order; geometry recomputed after placement."""
    det, beam, crystal = config.detector, config.beam, config.crystal
    with torch.no_grad():
        state = build_state(config, None, torch.float64, torch.device("cpu"))
        geometry = detector_geometry(det, state, beam.beam_vector, beam.polar_vector)
    pix0 = geometry.pix0.numpy()
    fdet, sdet, odet = geometry.fdet.numpy(), geometry.sdet.numpy(), geometry.odet.numpy()
    close = float(pix0 @ odet)
    distance = float(geometry.distance)
    beam_spot = distance * geometry.beam.numpy() - pix0
    fbeam, sbeam = float(fdet @ beam_spot), float(sdet @ beam_spot)
    fclose, sclose = -float(pix0 @ fdet), -float(pix0 @ sdet)
    pixel = det.pixel_mm * MM
    size_s = header.get("detsize_s_mm", det.spixels * det.pixel_mm) * MM
    xbeam = header.get("xbeam_mm", det.beam_center_f_mm)
    ybeam = header.get("ybeam_mm", det.beam_center_s_mm)
    osc = header.get("osc_deg", crystal.phi_step_deg * crystal.phi_steps)
    phi = float(crystal.phi_start_deg)
    dials = (1000 * pix0[2], 1000 * pix0[1], -1000 * pix0[0])

    def g(value: float) -> str:
        return "%g" % float(value)  # noqa: UP031 (C's %g, not Python's format mini-language)

    return [
        ("HEADER_BYTES", str(HEADER_BYTES)), ("DIM", "2"), ("BYTE_ORDER", "little_endian"),
        ("TYPE", "unsigned_short"), ("SIZE1", str(det.fpixels)), ("SIZE2", str(det.spixels)),
        ("PIXEL_SIZE", g(pixel * 1000)), ("DISTANCE", g(distance * 1000)),
        ("WAVELENGTH", g(float(beam.lambda_A))),
        ("BEAM_CENTER_X", g(float(xbeam))), ("BEAM_CENTER_Y", g(float(ybeam))),
        ("ADXV_CENTER_X", g(fbeam * 1000)), ("ADXV_CENTER_Y", g((size_s - sbeam) * 1000)),
        ("MOSFLM_CENTER_X", g((sbeam - 0.5 * pixel) * 1000)),
        ("MOSFLM_CENTER_Y", g((fbeam - 0.5 * pixel) * 1000)),
        ("DENZO_X_BEAM", g(sbeam * 1000)), ("DENZO_Y_BEAM", g(fbeam * 1000)),
        ("DIALS_ORIGIN", ",".join(g(x) for x in dials)),
        ("XDS_ORGX", g(fclose / pixel + 0.5)), ("XDS_ORGY", g(sclose / pixel + 0.5)),
        ("CLOSE_DISTANCE", g(close * 1000)),
        ("PHI", g(phi)), ("OSC_START", g(phi)), ("OSC_RANGE", g(osc)),
        ("TWOTHETA", g(float(det.twotheta_deg))),
        ("DETECTOR_SN", "000"), ("BEAMLINE", "fake"),
    ]


def header_bytes(fields: list[tuple[str, str]]) -> bytes:
    """``{``, ``KEY=value;`` lines (DIALS_ORIGIN without the semicolon), ``}`` form feed, pad."""
    lines = [f"{key}={value}\n" if key == "DIALS_ORIGIN" else f"{key}={value};\n"
             for key, value in fields]
    text = ("{\n" + "".join(lines) + "}\f").encode("ascii")
    if len(text) > HEADER_BYTES:
        raise ValueError(f"SMV header needs {len(text)} bytes, more than {HEADER_BYTES}")
    return text.ljust(HEADER_BYTES, b" ")


def roi_mask(config: Config) -> np.ndarray:
    fmin, fmax, smin, smax = config.detector.roi_bounds
    mask = np.zeros((config.detector.spixels, config.detector.fpixels), dtype=bool)
    mask[smin:smax + 1, fmin:fmax + 1] = True
    return mask


def resolved_scale(image: np.ndarray, scale: float | None) -> float:
    """``-scale``, or 55000 / max(image) (1 for an empty image) when unset or <= 0."""
    if scale is not None and scale > 0:
        return scale
    peak = float(max(image.max(), 0.0))
    return AUTO_SCALE_TARGET / peak if peak > 0 else 1.0


def int_image(image: np.ndarray, scale: float, adc: float, inside: np.ndarray) -> np.ndarray:
    """Noiseless counts; ``image`` is the float32 image (the reference rounds via floorf)."""
    value = np.clip(image.astype(np.float64) * scale + adc, 0.0, MAX_COUNT)
    counts = np.floor((value + 0.5).astype(np.float32)).astype(np.uint16)
    return np.where(inside, counts, 0).astype(np.uint16)


class PoissonDeviates:
    """The reference program's ``poidev`` (Numerical Recipes) on one ``ran1`` stream.

    C ``float`` variables are emulated by rounding to single precision where the reference
    stores one, so the same seed gives the same counts.
    """

    _COF = (76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155,
            0.1208650973866179e-2, -0.5395239384953e-5)

    def __init__(self, seed: int) -> None:
        self.uniform = Ran1(seed)
        self._spare: float | None = None  # gaussdev's cached second deviate

    @classmethod
    def _gammln(cls, xx: float) -> float:
        x = y = _f32(xx)
        tmp = x + 5.5
        tmp -= (x + 0.5) * math.log(tmp)
        ser = 1.000000000190015
        for cof in cls._COF:
            y += 1
            ser += cof / y
        return _f32(-tmp + math.log(2.5066282746310005 * ser / x))

    def _gauss(self) -> float:
        if self._spare is not None:
            spare, self._spare = self._spare, None
            return spare
        while True:
            v1 = _f32(2.0 * self.uniform() - 1.0)
            v2 = _f32(2.0 * self.uniform() - 1.0)
            rsq = _f32(_f32(v1 * v1) + _f32(v2 * v2))
            if 0 < rsq < 1.0:
                break
        fac = _f32(math.sqrt(-2.0 * math.log(rsq) / rsq))
        self._spare = _f32(v1 * fac)
        return _f32(v2 * fac)

    def __call__(self, mean: float) -> float:
        xm = _f32(mean)
        if xm > 1.0e6:
            return _f32(xm + math.sqrt(xm) * self._gauss())
        uniform = self.uniform
        if xm < 12.0:
            g = _f32(math.exp(-xm))
            em, t = -1, 1.0
            while True:
                em += 1
                t = _f32(t * uniform())
                if not t > g:
                    return float(em)
        sq = _f32(math.sqrt(2.0 * xm))
        alxm = _f32(math.log(xm))
        g = _f32(_f32(xm * alxm) - self._gammln(xm + 1.0))
        while True:
            while True:
                y = _f32(math.tan(math.pi * uniform()))
                em = _f32(_f32(sq * y) + xm)
                if not em < 0.0:
                    break
            em = float(math.floor(em))
            exponent = _f32(_f32(_f32(em * alxm) - self._gammln(em + 1.0)) - g)
            t = _f32(0.9 * (1.0 + _f32(y * y)) * math.exp(exponent))
            if not uniform() > t:
                return em


def noise_image(image: np.ndarray, seed: int, adc: float,
                inside: np.ndarray) -> tuple[np.ndarray, int]:
    """Poisson counts + adc (clipped at 65535, truncated) and the number of overloads.

    ROI pixels are drawn in memory order (slow outer); the stream is ``ran1`` seeded with
    ``-seed``. This is a sequential random stream, so it is a plain loop (output only, never
    differentiated).
    """
    deviate = PoissonDeviates(-seed)
    chosen = np.flatnonzero(inside.reshape(-1))
    drawn = []
    overloads = 0
    for mean in image.reshape(-1)[chosen].tolist():  # plain floats: numpy scalars are slow
        value = deviate(mean) + adc
        if value > MAX_COUNT:
            value = MAX_COUNT
            overloads += 1
        drawn.append(int(max(value, 0.0)))
    counts = np.zeros(image.size, dtype=np.uint16)
    counts[chosen] = drawn
    return counts.reshape(image.shape), overloads


def pgm_bytes(image: np.ndarray, scale: float | None, int_scale: float,
              inside: np.ndarray) -> bytes:
    """P5 greymap; default scale 250 / (5 rmsd) over the ROI (the SMV scale if rmsd is 0)."""
    if scale is None or scale <= 0:
        values = image[inside].astype(np.float64)
        count = max(values.size, 2)
        deviation = values - values.sum() / max(values.size, 1)
        rmsd = math.sqrt(float((deviation * deviation).sum()) / (count - 1))
        scale = 250.0 / (5.0 * rmsd) if rmsd > 0 else int_scale
    grey = np.minimum(image.astype(np.float64) * scale, 255.0).astype(np.uint8)
    grey = np.where(inside, grey, 0).astype(np.uint8)
    spixels, fpixels = image.shape
    head = f"P5\n{fpixels} {spixels}\n# pixels scaled by {'%g' % scale}\n255\n"  # noqa: UP031
    return head.encode("ascii") + grey.tobytes()


def write_requested_smv(parsed: ParsedArgs, image: torch.Tensor) -> None:
    """Write the ``-intfile``, ``-noisefile`` and ``-pgmfile`` outputs that were asked for."""
    outputs, config = parsed.outputs, parsed.config
    floats = image.detach().cpu().numpy().astype(np.float32)  # what -floatfile holds
    inside = roi_mask(config)
    scale = resolved_scale(floats, outputs.scale)
    header = header_bytes(header_fields(config, parsed.header))
    if outputs.intfile:
        counts = int_image(floats, scale, outputs.adc, inside)
        write_output(outputs.intfile, header + counts.astype("<u2").tobytes())
    if outputs.noisefile:
        seed = outputs.seed if outputs.seed is not None else int(time.time())
        counts, _ = noise_image(floats, seed, outputs.adc, inside)
        write_output(outputs.noisefile, header + counts.astype("<u2").tobytes())
    if outputs.pgmfile:
        write_output(outputs.pgmfile, pgm_bytes(floats, outputs.pgmscale, scale, inside))
