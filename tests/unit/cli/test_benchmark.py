"""``braggcheck bench``: a functional smoke run on a tiny case, and the table's arithmetic.

No timing is asserted (timings belong to the benchmark's report, not to tests).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
import torch

from braggcheck import ConfigError, simulate
from braggcheck.cli import bench, benchmark
from braggcheck.cli import main as cli
from braggcheck.cli.benchmark import CASES, DEFAULT_CASES, Measurement, table
from braggcheck.sim.state import build_state

from ...fake_reference import fake_reference


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


def test_device_cuda_without_cuda_is_one_line_naming_the_flag(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.main(["bench", "--device", "cuda", "--quick"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("braggcheck bench: error: --device cuda: CUDA is not available on "
                            "this machine\n")
    assert captured.out == ""  # refused before any row ran


def test_device_must_be_cpu_or_cuda(capsys):
    with pytest.raises(SystemExit) as stop:
        bench.main(["--device", "tpu"])
    assert stop.value.code == 2
    assert "--device" in capsys.readouterr().err


def test_default_cases_by_device():
    """CPU runs the cases it always ran; the GPU cases are issue 23's image (1024^2, N=5,
    oversample 2) and its 2048^2 and 4096^2 versions."""
    assert DEFAULT_CASES["cpu"] == ("n5", "mosaic10", "sources9", "hkl10k")
    for name, side in (("gpu1024", 1024), ("gpu2048", 2048), ("gpu4096", 4096)):
        flags = CASES[name].flags()
        assert f"-detpixels {side}" in flags and "-N 5" in flags and "-oversample 2" in flags
        assert name in DEFAULT_CASES["cuda"]
    assert set(DEFAULT_CASES["cpu"]) | set(DEFAULT_CASES["cuda"]) <= set(CASES)


def test_cuda_rows_label_their_memory_as_device_memory():
    rows = [replace(_row("a", 2.0, 5.0), device="cuda")]
    assert "| fwd device peak MB | fwd+bwd device peak MB | device base MB |" in table(rows)
    assert "device" not in table([_row("a", 2.0, 5.0)])


def test_timed_keeps_first_call_apart_and_the_best_of_the_rest():
    times = iter([9.0, 3.0, 1.0, 2.0])
    first, best, cpu = benchmark._timed(lambda: None, 3, clock=lambda function: next(times))
    assert (first, best) == (9.0, 1.0)
    assert 0 <= cpu < 1


def test_explicit_cpu_device_with_the_c_program_timed(tmp_path, monkeypatch, capsys):
    """``--device cpu`` is the default path; with $NANOBRAGG_REFERENCE the program is timed on
    the same case (here the fake reference, tests/fake_reference.py) and the JSON carries it."""
    out = tmp_path / "rows.json"
    with fake_reference(tmp_path, planted=False) as script:
        monkeypatch.setenv("NANOBRAGG_REFERENCE", str(script))
        status = bench.main(["--device", "cpu", "--quick", "--case", "sources9", "--dtype",
                             "float64", "--json", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "| sources9 | float64 | off |" in printed and "device peak" not in printed
    c_row = next(line for line in printed.splitlines()
                 if line.startswith("| sources9 |") and "(float64, off)" in line)
    assert float(c_row.split("|")[2]) > 0
    (raw,) = json.loads(out.read_text())
    assert raw["device"] == "cpu" and raw["c_program_s"] > 0


class _FakeEvent:
    """A CUDA event on a CPU clock: record() reads perf_counter."""

    made = 0

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing
        self.at = 0.0
        _FakeEvent.made += 1

    def record(self) -> None:
        self.at = time.perf_counter()

    def synchronize(self) -> None:
        pass

    def elapsed_time(self, end: _FakeEvent) -> float:
        return (end.at - self.at) * 1000  # ms, as CUDA's


@pytest.mark.parametrize("backward", [False, True])
def test_cuda_worker_path_with_a_faked_device(backward, monkeypatch):
    """The worker's CUDA branch without a GPU: CUDA's events, synchronisation and memory
    counters faked, the simulation on CPU. It must time with the events, ask the simulator for
    the device, and report device memory (peak over base) instead of the resident set."""
    devices = []

    def on_cpu(config, params=None, *, device=None, **kwargs):
        devices.append(torch.device(device).type)
        return simulate(config, params, **kwargs)

    monkeypatch.setattr(benchmark, "simulate", on_cpu)
    monkeypatch.setattr(benchmark, "build_state",
                        lambda config, params, dtype, device: build_state(
                            config, params, dtype, torch.device("cpu")))
    monkeypatch.setattr(torch.cuda, "init", lambda: None)
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 3 * 2**20)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 70 * 2**20)
    monkeypatch.setattr(_FakeEvent, "made", 0)
    flags = CASES["sources9"].flags(8)
    result = benchmark.measure_in_process(flags, torch.float32, backward, 2, device="cuda")
    assert set(devices) == {"cuda"}
    calls = 3 if not backward else 3 + 2 * 2  # first + 2 timed (+ paired forward and fwd+bwd)
    assert _FakeEvent.made == 2 * calls  # every timed call between two events
    assert result["peak_mb"] == 70.0 and result["base_mb"] == 3.0
    assert result["first_s"] > 0 and result["best_s"] > 0
    if backward:
        assert 0 < result["paired_forward_s"] < float("inf")
