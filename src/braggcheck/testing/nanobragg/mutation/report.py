"""The mutation report: a Markdown table and the same results as JSON beside it, both written
atomically (:func:`braggcheck.util.file_writer.write_output`), rewritten after every mutant so
an interrupted run still leaves a consistent partial report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from braggcheck.testing.nanobragg.mutation.runner import STATUSES, MutantResult, result_dict
from braggcheck.util.file_writer import write_output


def score(results: Sequence[MutantResult]) -> tuple[int, int]:
    """(killed, mutants that count): equivalent ones do not count; timeouts count as killed
    by no test, i.e. not killed."""
    counted = [r for r in results if r.status != "equivalent"]
    return sum(r.status == "killed" for r in counted), len(counted)


def markdown(results: Sequence[MutantResult], meta: dict) -> str:
    counts = Counter(r.status for r in results)
    killed, counted = score(results)
    percent = f"{100 * killed / counted:.0f}%" if counted else "n/a"
    lines = [
        "# Mutation score",
        "",
        f"Suite: `{meta['suite_command']}` (timeout {meta['timeout_s']:g} s per mutant, "
        f"reference program: {meta['reference'] or 'none'}).",
        f"Unmutated suite: {meta.get('baseline', 'not run')}.",
        f"Mutants run: {len(results)} of {meta['selected']} selected.",
        "",
        f"**Score: {killed} / {counted} killed ({percent})**; "
        + ", ".join(f"{status} {counts[status]}" for status in STATUSES if counts[status]),
        "",
        "| mutant | file | category | status | time (s) | killed by / detail | slip |",
        "|---|---|---|---|---:|---|---|",
    ]
    for r in results:
        killer = f"`{r.killer}`" if r.killer else ""
        lines.append(f"| `{r.id}` | {r.file} | {r.category} | {r.status} | {r.seconds:.1f} "
                     f"| {_cell(killer)} | {_cell(r.description)} |")
    lines += per_command_tables(results)
    survivors = [r for r in results if r.status in ("survived", "timeout", "not-equivalent")]
    if survivors:
        lines += ["", "## Not killed", ""]
        lines += [f"- `{r.id}` ({r.file}, {r.status}): {r.description}" for r in survivors]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """``text`` for a Markdown table cell (a bare | would end the cell)."""
    return text.replace("|", "\\|")


def per_command_tables(results: Sequence[MutantResult]) -> list[str]:
    """With several commands: their score each and the union's, and which command killed
    which mutant ("-": not run, the mutant was already killed by an earlier command)."""
    names: list[str] = []
    for r in results:
        names += [name for name, _, _ in r.commands if name not in names]
    if len(names) < 2:
        return []
    counted = [r for r in results if r.status != "equivalent"]
    status = {(r.id, name): s for r in counted for name, s, _ in r.commands}
    lines = ["", "## Per command", "",
             "| command | killed | survived | other | not run | score among run |",
             "|---|---:|---:|---:|---:|---|"]
    for name in names:
        seen = [status[(r.id, name)] for r in counted if (r.id, name) in status]
        killed = seen.count("killed")
        lines.append(f"| {name} | {killed} | {seen.count('survived')} | "
                     f"{len(seen) - killed - seen.count('survived')} | "
                     f"{len(counted) - len(seen)} | {killed} / {len(seen)} |")
    union = sum(r.status == "killed" for r in counted)
    lines.append(f"| **union** | {union} | {sum(r.status == 'survived' for r in counted)} | "
                 f"{len(counted) - union - sum(r.status == 'survived' for r in counted)} | "
                 f"0 | {union} / {len(counted)} |")
    lines += ["", "| mutant | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]
    for r in counted:
        lines.append(f"| `{r.id}` | " + " | ".join(status.get((r.id, n), "-") for n in names)
                     + " |")
    return lines


def write_report(path: Path, results: Sequence[MutantResult], meta: dict) -> None:
    """``path`` (Markdown) and ``path`` with suffix ``.json``."""
    killed, counted = score(results)
    payload = {**meta, "killed": killed, "counted": counted,
               "results": [result_dict(r) for r in results]}
    write_output(path.with_suffix(".json"),
                     (json.dumps(payload, indent=2) + "\n").encode())
    write_output(path, markdown(results, meta).encode())
