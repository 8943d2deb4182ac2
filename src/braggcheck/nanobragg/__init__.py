"""braggcheck.nanobragg: the reference program's world: its flags (both ways), its image files
(float, SMV, PGM), configurations as JSON, and running the C program itself."""

from braggcheck.nanobragg.args import from_nanobragg_args, parse_nanobragg_args
from braggcheck.nanobragg.export import to_nanobragg_args
from braggcheck.nanobragg.output_files import read_float_image, write_float_image
from braggcheck.nanobragg.reference import compare, reference_program, run_reference
from braggcheck.nanobragg.serialization import config_from_json, config_to_json

__all__ = [
    "compare",
    "config_from_json",
    "config_to_json",
    "from_nanobragg_args",
    "parse_nanobragg_args",
    "read_float_image",
    "reference_program",
    "run_reference",
    "to_nanobragg_args",
    "write_float_image",
]
