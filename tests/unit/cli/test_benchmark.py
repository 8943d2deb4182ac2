"""``braggcheck bench``: a functional smoke run on a tiny case, and the table's arithmetic.

No timing is asserted (timings belong to the benchmark's report, not to tests).
"""

from __future__ import annotations

import pytest

from braggcheck import ConfigError
from braggcheck.cli import bench
from braggcheck.cli.benchmark import CASES, Measurement, table


def _row(case: str, forward: float, both: float, paired: float = 4.0) -> Measurement:
    return Measurement(case=case, dtype="float32", compiled=False, pixels=4, first_s=1.0,
                       forward_s=forward, forward_cpu_s=forward, forward_peak_mb=100.0,
                       backward_first_s=1.0, forward_backward_s=both,
                       forward_backward_cpu_s=both, peak_mb=200.0, base_mb=50.0,
                       paired_forward_s=paired)


def test_table_ratios_are_against_the_first_row():
    text = table([_row("a", 2.0, 5.0), _row("b", 3.0, 6.0)])
    lines = text.splitlines()
    assert len(lines) == 4
    cells_b = [cell.strip() for cell in lines[3].split("|")]
    assert cells_b[6] == "1.50"  # 3.0 / 2.0, forward against row one
    assert cells_b[8] == "2.00"  # 6.0 / 3.0, forward+backward against its own forward
    assert cells_b[9] == "1.50"  # 6.0 / 4.0, against the forward timed in the same process


def test_named_cases_cover_the_issue():
    assert {"n5", "mosaic10", "sources9"} <= set(CASES)
    assert "-mosaic_domains 10" in CASES["mosaic10"].flags()
    assert "-oversample 3" in CASES["sources9"].flags()


def test_quick_run_writes_a_table(tmp_path, capsys):
    out = tmp_path / "perf.md"
    status = bench.main(["--quick", "--case", "sources9", "--dtype", "float64",
                         "--markdown", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "| sources9 | float64 | off |" in printed
    row = next(line for line in printed.splitlines() if line.startswith("| sources9 |"))
    paired = float(row.split("|")[10])
    assert 0 < paired < float("inf")  # the same-process forward was timed
    assert "machine:" in out.read_text() and "| sources9 |" in out.read_text()


def test_repeat_must_be_positive():
    with pytest.raises(ConfigError, match="--repeat"):
        bench.main(["--repeat", "0"])


def test_detpixels_must_be_at_least_8():
    with pytest.raises(ConfigError, match="--detpixels"):
        bench.main(["--detpixels", "4"])
