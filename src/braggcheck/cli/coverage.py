"""``braggcheck coverage [--examples N] [--plot OUT.png]``: what the property strategies draw.

Draws the same derandomized sample of property cases on every run
(``braggcheck.testing.nanobragg.strategies.configs
.cases``) and prints, per coverage event, how many cases reached it, and per registry
parameter the range of its drawn values. ``--plot`` draws both as histograms (needs
``braggcheck[plots]``).
"""

from __future__ import annotations

from collections import Counter

from braggcheck.cli.main import argument_parser
from braggcheck.nanobragg.output_files import check_output_path
from braggcheck.sim.registry import PARAMETERS
from braggcheck.sim.state import baseline_value
from braggcheck.testing.nanobragg.coverage import coverage_labels
from braggcheck.testing.nanobragg.plots import coverage_figure, pyplot, save
from braggcheck.testing.nanobragg.strategies.cases import cases, derandomized_sample
from braggcheck.util.errors import ConfigError


def main(args: list[str]) -> int:
    parser = argument_parser("coverage", __doc__.strip().splitlines()[0])
    parser.add_argument("--examples", type=int, default=200,
                        help="cases to draw (default 200)")
    parser.add_argument("--plot", metavar="OUT.png", help="draw the histograms")
    options = parser.parse_args(args)
    if not 1 <= options.examples <= 100000:
        raise ConfigError(f"--examples = {options.examples}; valid: 1 to 100000")
    if options.plot:
        check_output_path("--plot", options.plot)
        pyplot()
    sample = derandomized_sample(cases(), options.examples)
    events = Counter(label for case in sample for label in coverage_labels(case))
    values = {name: [baseline_value(case.config, name) for case in sample]
              for name in PARAMETERS}
    print(f"{len(sample)} derandomized cases; coverage events:")
    for label, count in events.most_common():
        print(f"  {count:6d}  {100 * count / len(sample):5.1f} %  {label}")
    print("drawn parameter values (min .. max, distinct):")
    for name, drawn in values.items():
        print(f"  {name:20s} {min(drawn):12.6g} .. {max(drawn):12.6g}  {len(set(drawn)):5d}"
              f"  {PARAMETERS[name].units}")
    if options.plot:
        units = {name: PARAMETERS[name].units for name in PARAMETERS}
        save(coverage_figure(values, units, dict(events), len(sample)), options.plot)
        print(f"wrote {options.plot}")
    return 0
