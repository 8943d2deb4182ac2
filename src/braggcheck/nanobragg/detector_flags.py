"""The detector section from flags: size, pixel, distance, beam centre, pivot and
convention vectors, and the sensor, with the reference program's rules and defaults.
"""

from __future__ import annotations

import math
from typing import Any

from braggcheck.nanobragg import pixel_flags
from braggcheck.nanobragg.flag_values import last_value
from braggcheck.sim.config import DetectorConfig
from braggcheck.sim.detector import default_beam_center_mm
from braggcheck.util.errors import ConfigError


def detector_from_flags(flags: dict[str, Any], convention: str
                        ) -> tuple[DetectorConfig, dict[str, Any]]:
    get = flags.get
    pixel = get("-pixel", 0.1)
    if pixel <= 0:
        raise ConfigError(f"-pixel = {pixel:g} mm; valid: > 0")
    sizes = []
    counts = []
    for axis in ("f", "s"):
        size = last_value(flags, ("-detsize", f"-detsize_{axis}"), 102.4)
        count = last_value(flags, ("-detpixels", f"-detpixels_{axis}"))
        if count is not None:
            if count < 1:
                raise ConfigError(f"-detpixels = {count}; valid: an integer >= 1")
            size = count * pixel
        if size <= 0:
            raise ConfigError(f"-detsize = {size:g} mm; valid: > 0")
        sizes.append(size)
        counts.append(max(1, math.ceil(size / pixel - 0.5)))
    size_f, size_s = sizes
    close_f = (get("-ORGX") - 0.5) * pixel if "-ORGX" in flags else size_f / 2
    close_s = (get("-ORGY") - 0.5) * pixel if "-ORGY" in flags else size_s / 2
    xclose, yclose = get("-Xclose", close_f), get("-Yclose", close_s)
    # Unset beam-centre coordinates take the convention's default from its one definition
    # (detector.default_beam_center_mm); Xbeam/Ybeam are kept for the SMV header.
    default_f, default_s = default_beam_center_mm(convention, size_f, size_s, pixel, close_f,
                                                  close_s)
    if convention in ("mosflm", "denzo"):
        xbeam = get("-Xbeam", (size_s + pixel) / 2)
        ybeam = get("-Ybeam", (size_f + pixel) / 2)
        shift = pixel / 2 if convention == "mosflm" else 0.0
        fbeam = ybeam + shift if "-Ybeam" in flags else default_f
        sbeam = xbeam + shift if "-Xbeam" in flags else default_s
    elif convention == "adxv":
        xbeam = get("-Xbeam", (size_f + pixel) / 2)
        ybeam = get("-Ybeam", (size_s - pixel) / 2)
        fbeam = xbeam if "-Xbeam" in flags else default_f
        sbeam = size_s - ybeam if "-Ybeam" in flags else default_s
    else:
        xbeam, ybeam = get("-Xbeam", xclose), get("-Ybeam", yclose)
        fbeam, sbeam = xbeam, ybeam
        if convention == "custom":
            close_f, close_s = xclose, yclose
            if "-Xbeam" in flags or "-Ybeam" in flags:
                close_f, close_s = fbeam, sbeam
    fbeam = get("-Fbeam", fbeam)
    sbeam = get("-Sbeam", sbeam)
    pivot = None
    if convention == "custom":
        pivot = custom_pivot(flags)
    oversample = get("-oversample")
    if oversample is not None and oversample <= 0:
        oversample = None
    roi = get("-roi")
    if roi is not None:
        roi = (roi[0], roi[1], roi[2], roi[3])
    twotheta = get("-twotheta", 0.0)
    detector = DetectorConfig(
        convention=convention,
        pivot=pivot,
        distance_mm=get("-distance", 100.0),
        close_distance_mm=get("-close_distance"),
        pixel_mm=pixel,
        fpixels=counts[0],
        spixels=counts[1],
        beam_center_f_mm=fbeam,
        beam_center_s_mm=sbeam,
        close_f_mm=close_f,
        close_s_mm=close_s,
        detector_rotx_deg=get("-detector_rotx", 0.0),
        detector_roty_deg=get("-detector_roty", 0.0),
        detector_rotz_deg=get("-detector_rotz", 0.0),
        twotheta_deg=twotheta,
        twotheta_axis=get("-twotheta_axis"),
        fdet_vector=get("-fdet_vector"),
        sdet_vector=get("-sdet_vector"),
        odet_vector=get("-odet_vector"),
        oversample=oversample,
        point_pixel="-point_pixel" in flags,
        roi=roi,
        mask=get("_mask"),
        dmin_A=get("-dmin", 0.0),
        **sensor_from_flags(flags),
        **pixel_flags.detector_fields(flags),
    )
    header = {"xbeam_mm": xbeam, "ybeam_mm": ybeam, "detsize_f_mm": size_f,
              "detsize_s_mm": size_s}
    return detector, header


def sensor_from_flags(flags: dict[str, Any]) -> dict[str, Any]:
    """-detector_thick/-detector_abs/-detector_thicksteps, in command-line order (brief 7.2).

    ``-detector_abs inf`` (or 0) switches the thickness off *at that point* and leaves no
    absorption; a later -detector_thick switches the thickness back on with nothing absorbed,
    which makes every pixel 0, exactly as the reference program does.
    """
    thickness, attenuation = 0.0, None
    for flag in flags["_order"]:
        if flag == "-detector_thick":
            thickness = flags[flag]
            if thickness < 0:
                raise ConfigError(f"-detector_thick = {thickness:g} um; valid: >= 0")
        elif flag == "-detector_abs":
            word = flags[flag]
            try:
                value = math.inf if "inf" in word.lower() else float(word)
            except ValueError:
                raise ConfigError(f"-detector_abs: expected a length in um or inf, got "
                                  f"{word!r}") from None
            if value < 0 or math.isnan(value):
                raise ConfigError(f"-detector_abs = {word}; valid: > 0 um, or 0/inf for none")
            if value in (0.0, math.inf):
                thickness, attenuation = 0.0, math.inf
            else:
                attenuation = value
    layers = flags.get("-detector_thicksteps")
    return {
        "sensor_thickness_um": thickness,
        "sensor_attenuation_um": attenuation,
        "sensor_layers": layers if layers is not None and layers > 0 else None,
    }


def custom_pivot(flags: dict[str, Any]) -> str:
    """In the CUSTOM convention the last pivot-setting flag decides (brief 6.5)."""
    pivot = "beam"
    implies = {"-distance": "beam", "-Xbeam": "beam", "-Ybeam": "beam",
               "-close_distance": "sample", "-Xclose": "sample", "-Yclose": "sample",
               "-ORGX": "sample", "-ORGY": "sample", "-twotheta": "sample",
               # each convention flag also sets a pivot while parsing (-dials: BEAM); only a
               # named convention's own block overrides it, CUSTOM keeps it
               "-mosflm": "beam", "-adxv": "beam", "-denzo": "beam", "-dials": "beam",
               "-xds": "sample"}
    for flag in flags["_order"]:
        if flag in flags.get("_from_header", ()):
            continue  # an SMV header's values imply no pivot
        if flag == "-pivot":
            value = flags["-pivot"]
            if value not in ("beam", "sample"):
                raise ConfigError(f"-pivot {value!r}: valid: beam or sample")
            pivot = value
        elif flag in implies:
            pivot = implies[flag]
    return pivot
