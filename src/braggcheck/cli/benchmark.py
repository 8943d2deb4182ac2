"""Timing and peak memory of the simulator for a few named cases (issue 7).

Each measurement runs in a fresh Python process so that its peak memory is its own: the peak is
the process's resident-set high-water mark (``ru_maxrss``), which sees everything (torch's
allocator, its caches, the Python heap), not only tensors. The ``base`` column is the resident
set just before the first simulation (interpreter + torch + the built config), so ``peak - base``
is what the simulation itself needed. A forward-only process and a forward+backward process are
separate, so the forward's peak is not hidden by the backward's.

Times are the best of ``repeat`` calls after one untimed call (whose time is reported as
``first``: it includes ``torch.compile`` when compilation is on). Forward runs under
``torch.no_grad()`` as ``braggcheck simulate`` does; forward+backward passes every registry
parameter as a tensor with ``requires_grad`` and back-propagates ``image.sum()``; that process
then also times forwards alternately with forward+backward passes, for a ``paired`` ratio that
does not mix two processes' states (the steadier one on a noisy machine). Other ratios are
against the first row's forward time, so a comparison holds on a noisy machine. The ``cpu``
columns are the best process CPU time (all threads summed) of the same calls: on a shared
machine they move less than wall time when other processes take the cores.

On CUDA (``device="cuda"``) each call is timed by CUDA events recorded around it on the current
stream (so the time covers the launches and the kernels, up to the call's last kernel), and the
memory columns are the device's: ``torch.cuda.max_memory_allocated`` over the worker's calls,
``base`` the memory allocated before the first simulation.

With ``$NANOBRAGG_REFERENCE`` set, :func:`reference_time` times the C program on the same case
(wall time of the whole process, best of ``repeat``; its threads are OpenMP's default).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from braggcheck.cli.bench_tables import table_file
from braggcheck.nanobragg.args import from_nanobragg_args
from braggcheck.nanobragg.reference import run_reference
from braggcheck.sim.amplitudes import STRUCTURE_FACTORS
from braggcheck.sim.simulator import simulate
from braggcheck.sim.state import build_state

BASE_ARGS = "-cell 100 100 100 90 90 90 -default_F 100 -N 5"


@dataclass(frozen=True)
class Case:
    name: str
    args: str
    detpixels: int
    description: str
    reflections: int = 0
    """An hkl table of this many reflections (0: none); its amplitudes are then differentiated
    too (the ``structure_factors`` parameter)."""

    def flags(self, shrink: int = 1) -> str:
        table = f" -hkl {table_file(self.reflections)}" if self.reflections else ""
        return (f"{BASE_ARGS} {self.args} -detpixels {max(8, self.detpixels // shrink)}"
                f"{table}").strip()


CASES: dict[str, Case] = {case.name: case for case in (
    Case("n5", "", 1024, "100 A cubic cell, N=5, auto oversample 2"),
    Case("mosaic10", "-mosaic 1 -mosaic_domains 10 -mosaic_seed 1234", 1024,
         "as n5 with 10 mosaic domains"),
    Case("sources9", "-oversample 3 -divergence 0.5 -divsteps 3 -square_div", 256,
         "oversample 3, 3x3 divergence = 9 sources"),
    Case("hkl10k", "", 1024, "as n5 with a 10,000-reflection hkl table, its amplitudes "
         "differentiated too", reflections=10_000),
    # Issue 23's GPU image and its larger sizes (oversample fixed, so the sizes compare).
    Case("gpu1024", "-oversample 2", 1024, "issue 23's image: N=5, oversample 2"),
    Case("gpu2048", "-oversample 2", 2048, "as gpu1024 at 2048^2"),
    Case("gpu4096", "-oversample 2", 4096, "as gpu1024 at 4096^2"),
)}

DEFAULT_CASES: dict[str, tuple[str, ...]] = {
    "cpu": ("n5", "mosaic10", "sources9", "hkl10k"),
    "cuda": ("gpu1024", "gpu2048", "gpu4096", "mosaic10", "hkl10k"),
}
"""The cases run when none is named, by device (4096^2 would take minutes per row on CPU)."""


@dataclass(frozen=True)
class Measurement:
    case: str
    dtype: str
    compiled: bool
    pixels: int
    first_s: float
    forward_s: float
    forward_cpu_s: float
    forward_peak_mb: float
    backward_first_s: float
    forward_backward_s: float
    forward_backward_cpu_s: float
    peak_mb: float
    base_mb: float
    paired_forward_s: float = float("nan")  # forward timed in the fwd+bwd process, interleaved
    device: str = "cpu"  # on "cuda" the memory columns are device memory (max_memory_allocated)
    c_program_s: float = float("nan")  # the C program on the same case ($NANOBRAGG_REFERENCE)

    @property
    def paired_ratio(self) -> float:
        """forward+backward over a forward timed in the same process, call for call alternately:
        both see the same process and machine state, so this ratio moves least between runs."""
        return self.forward_backward_s / self.paired_forward_s


def _rss_mb() -> float:
    """Current resident set (MB) from /proc; 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


Clock = Callable[[Callable[[], object]], float]


def _wall(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _cuda_clock(device: torch.device) -> Clock:
    """Seconds from an event recorded before the call to one recorded after it, on the current
    stream; the device is idle first, so the time is the call's alone."""
    def clock(function) -> float:
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize(device)
        start.record()
        function()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000
    return clock


def _timed(function, repeat: int, clock: Clock = _wall) -> tuple[float, float, float]:
    """(first call, best of ``repeat`` later calls, best process CPU time) in seconds."""
    first = clock(function)
    best = best_cpu = float("inf")
    for _ in range(repeat):
        start_cpu = time.process_time()
        best = min(best, clock(function))
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return first, best, best_cpu


def measure_in_process(flags: str, dtype: torch.dtype, backward: bool,
                       repeat: int, device: str = "cpu") -> dict[str, float]:
    """Time one mode in this process; returns times and memory in MB (device memory on CUDA)."""
    config = from_nanobragg_args(flags)
    target = torch.device(device)
    cuda = target.type == "cuda"
    clock = _cuda_clock(target) if cuda else _wall
    if cuda:
        torch.cuda.init()
        torch.cuda.reset_peak_memory_stats(target)
    base = torch.cuda.memory_allocated(target) / 2**20 if cuda else _rss_mb()
    if not backward:
        def forward() -> None:
            with torch.no_grad():
                simulate(config, dtype=dtype, device=target)
        first, best, cpu = _timed(forward, repeat, clock)
        paired = float("nan")
    else:
        def forward_backward() -> None:
            state = build_state(config, None, dtype, target)
            params = {name: value.detach().clone().requires_grad_(True)
                      for name, value in state.items()}
            if config.crystal.hkl is not None:  # the vector parameter too
                amplitudes = config.crystal.hkl.reflection_amplitudes()
                params[STRUCTURE_FACTORS] = torch.tensor(
                    amplitudes, dtype=torch.float64, device=target, requires_grad=True)
            simulate(config, params, dtype=dtype, device=target).sum().backward()

        def forward() -> None:
            with torch.no_grad():
                simulate(config, dtype=dtype, device=target)

        first, best, cpu = _timed(forward_backward, repeat, clock)
        # Then forwards and forward+backward passes alternately, for the paired ratio (a
        # forward needs less memory, so the peak stays that of forward+backward).
        forward()  # warm-up: its first call allocates differently
        paired = float("inf")
        for _ in range(repeat):
            paired = min(paired, clock(forward))
            best = min(best, clock(forward_backward))
    peak = torch.cuda.max_memory_allocated(target) / 2**20 if cuda else _maxrss_mb()
    return {"first_s": first, "best_s": best, "cpu_s": cpu, "peak_mb": peak,
            "base_mb": base, "paired_forward_s": paired}


def _run_worker(flags: str, dtype: str, compiled: bool, backward: bool,
                repeat: int, threads: int | None = None,
                device: str = "cpu") -> dict[str, float]:
    env = dict(os.environ)
    for name in ("NANOBRAGG_DISABLE_COMPILE", "NB_DISABLE_COMPILE", "NANOBRAGG_COMPILE"):
        env.pop(name, None)
    env["NANOBRAGG_COMPILE" if compiled else "NANOBRAGG_DISABLE_COMPILE"] = "1"
    job = json.dumps({"flags": flags, "dtype": dtype, "backward": backward, "repeat": repeat,
                      "threads": threads, "device": device})
    command = [sys.executable, "-m", "braggcheck.cli.benchmark", job]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {flags!r} ({dtype}, compile="
                           f"{compiled}, backward={backward}, device={device}):\n"
                           f"{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(case: Case, dtype: str, compiled: bool, repeat: int,
            shrink: int = 1, threads: int | None = None, device: str = "cpu") -> Measurement:
    flags = case.flags(shrink)
    forward = _run_worker(flags, dtype, compiled, False, repeat, threads, device)
    both = _run_worker(flags, dtype, compiled, True, repeat, threads, device)
    pixels = max(8, case.detpixels // shrink) ** 2
    return Measurement(
        case=case.name, dtype=dtype, compiled=compiled, pixels=pixels,
        first_s=forward["first_s"], forward_s=forward["best_s"], forward_cpu_s=forward["cpu_s"],
        forward_peak_mb=forward["peak_mb"], backward_first_s=both["first_s"],
        forward_backward_s=both["best_s"], forward_backward_cpu_s=both["cpu_s"],
        peak_mb=both["peak_mb"], base_mb=both["base_mb"],
        paired_forward_s=both["paired_forward_s"], device=device,
    )


def reference_time(case: Case, program: str, repeat: int, shrink: int = 1) -> float:
    """Best wall time (s) of ``repeat`` runs of the C program on ``case`` (its float image
    written and read back, as :func:`braggcheck.nanobragg.reference.run_reference` does)."""
    pixels = max(8, case.detpixels // shrink)
    best = float("inf")
    for _ in range(repeat):
        best = min(best, _wall(lambda: run_reference(program, case.flags(shrink).split(),
                                                     pixels, pixels)))
    return best


HEADER = ("| case | dtype | compile | first s | forward s | ratio | fwd+bwd s | fwd+bwd/fwd "
          "| paired fwd+bwd/fwd | fwd cpu s | fwd+bwd cpu s | fwd peak MB | fwd+bwd peak MB "
          "| base MB |")
CUDA_HEADER = HEADER.replace("peak MB", "device peak MB").replace("base MB", "device base MB")


def table(rows: list[Measurement]) -> str:
    """A Markdown table; ``ratio`` is each forward time over the first row's. Rows on CUDA
    report device memory (the header says so); a table holds one device."""
    header = CUDA_HEADER if rows and rows[0].device == "cuda" else HEADER
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    reference = rows[0].forward_s if rows else 1.0
    for row in rows:
        lines.append(
            f"| {row.case} | {row.dtype} | {'on' if row.compiled else 'off'} "
            f"| {row.first_s:.3f} | {row.forward_s:.3f} | {row.forward_s / reference:.2f} "
            f"| {row.forward_backward_s:.3f} | {row.forward_backward_s / row.forward_s:.2f} "
            f"| {row.paired_ratio:.2f} "
            f"| {row.forward_cpu_s:.3f} | {row.forward_backward_cpu_s:.3f} "
            f"| {row.forward_peak_mb:.0f} | {row.peak_mb:.0f} | {row.base_mb:.0f} |"
        )
    return "\n".join(lines)


def reference_table(times: dict[str, float], rows: list[Measurement]) -> str:
    """The C program's time per case against braggcheck's best forward of that case."""
    lines = ["| case | C program s | braggcheck best forward s (dtype, compile) | C / braggcheck |",
             "|---|---|---|---|"]
    for case, seconds in times.items():
        mine = [row for row in rows if row.case == case]
        if not mine:
            continue
        best = min(mine, key=lambda row: row.forward_s)
        lines.append(f"| {case} | {seconds:.3f} | {best.forward_s:.4f} ({best.dtype}, "
                     f"{'on' if best.compiled else 'off'}) | {seconds / best.forward_s:.1f} |")
    return "\n".join(lines)


def gpu() -> str:
    """The CUDA device's name, memory and CUDA version, or '' where there is none."""
    if not torch.cuda.is_available():
        return ""
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    return (f"GPU {props.name}, {props.total_memory / 2**30:.0f} GiB, "
            f"CUDA {torch.version.cuda}")


def machine() -> str:
    """One line naming the machine: cores, CPU model, Python and torch versions."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs (nproc), {model}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}")


def to_json(rows: list[Measurement]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=1)


def _worker_main(job: str) -> None:
    spec = json.loads(job)
    dtype = {"float32": torch.float32, "float64": torch.float64}[spec["dtype"]]
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    result = measure_in_process(spec["flags"], dtype, spec["backward"], spec["repeat"],
                                spec.get("device", "cpu"))
    print(json.dumps(result))


if __name__ == "__main__":
    _worker_main(sys.argv[1])
