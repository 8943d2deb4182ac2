"""Mutants of the nanoBragg command line and files: a wrong default, a unit slip in a flag or
an input file, an off-by-one header offset, a wrong header value."""

from __future__ import annotations

from braggcheck.testing.nanobragg.mutation.mutant import Mutant

NB = "nanobragg/"

FLAG_MUTANTS: tuple[Mutant, ...] = (
    Mutant("adc-default-zero", NB + "args.py", 'adc=get("-adc", 40.0)',
           'adc=get("-adc", 0.0)', "default",
           "-adc: the default offset 40 of the integer images becomes 0"),
    Mutant("xtalsize-micrometres", NB + "args.py", "count = size * 1e-3 / (length * 1e-10)",
           "count = size * 1e-6 / (length * 1e-10)", "convention",
           "-xtalsize: the size in mm is read as micrometres"),
    Mutant("sourcefile-wavelength-unit", NB + "input_files.py",
           "wavelength = values[4] * 1e10 if len(values) == 5 else None",
           "wavelength = values[4] * 1e9 if len(values) == 5 else None", "convention",
           "-sourcefile: the fifth column (metres) is converted to Angstrom by 1e9"),
    Mutant("smv-reader-fixed-header", NB + "input_files.py", "offset=size)",
           "offset=512)", "boundary",
           "SMV reader: the pixels start at byte 512 whatever HEADER_BYTES says"),
    Mutant("smv-mosflm-centre-header", NB + "smv.py",
           '("MOSFLM_CENTER_X", g((sbeam - 0.5 * pixel) * 1000))',
           '("MOSFLM_CENTER_X", g(sbeam * 1000))', "boundary",
           "SMV header: MOSFLM_CENTER_X without the half-pixel shift"),
)
