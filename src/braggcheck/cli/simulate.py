"""``braggcheck simulate <nanoBragg flags>``: render an image the way the reference program does.

Accepted flags are nanoBragg's own spellings; ``-floatfile OUT.bin`` writes the image as raw
little-endian float32 (slow index outer). Without any output flag a one-line summary is printed
and nothing is written. Output paths are checked before the simulation starts.
"""

from __future__ import annotations

import sys

import torch

from braggcheck.nanobragg.args import parse_nanobragg_args
from braggcheck.nanobragg.flags import KNOWN_FLAGS, UNSUPPORTED
from braggcheck.nanobragg.output_files import check_output_path, write_float_image
from braggcheck.nanobragg.printout import trace_lines
from braggcheck.nanobragg.smv import write_requested_smv
from braggcheck.sim.simulator import simulate


def main(args: list[str]) -> int:
    if args and args[0] in ("-h", "--help", "--help-flags"):
        print(__doc__.strip())
        print("\naccepted flags:\n  " + " ".join(sorted(KNOWN_FLAGS)))
        if UNSUPPORTED:
            print("\nknown but not supported yet:\n  " + " ".join(sorted(UNSUPPORTED)))
        else:
            print("\nevery image-affecting flag of the reference program is supported")
        return 0
    parsed = parse_nanobragg_args(args)
    outputs = parsed.outputs
    targets = {flag: path for flag, path in (("-floatfile", outputs.floatfile),
                                             ("-intfile", outputs.intfile),
                                             ("-noisefile", outputs.noisefile),
                                             ("-pgmfile", outputs.pgmfile)) if path}
    for flag, path in targets.items():
        check_output_path(flag, path)
    with torch.no_grad():
        image = simulate(parsed.config, dtype=torch.float64)
    if outputs.floatfile:
        write_float_image(outputs.floatfile, image)
    if outputs.intfile or outputs.noisefile or outputs.pgmfile:
        write_requested_smv(parsed, image)
    if outputs.printout:  # the reference's per-pixel trace (braggcheck.nanobragg.printout)
        print("\n".join(trace_lines(parsed.config, outputs.printout_pixel)), file=sys.stdout)
    if not targets:
        peak = int(torch.argmax(image))
        slow, fast = divmod(peak, image.shape[1])
        print(f"image {image.shape[0]}x{image.shape[1]} photons: sum {float(image.sum()):.6g}, "
              f"max {float(image.max()):.6g} at (slow {slow}, fast {fast}); "
              "add -floatfile FILE to write it", file=sys.stdout)
    return 0
