"""Statistics and tables: medians of runs, latency percentiles, Markdown tables, and the
JSON file each benchmark leaves in ``var/bench/results`` for docs/benchmarks.md."""

import json
import math
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.broker import BENCH_HOME, REPO


def _head() -> str:
    import subprocess

    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False, cwd=REPO).stdout.strip()


# The code measured is the checkout as the benchmark started.
_COMMIT = _head()


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else math.nan


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of already sorted values, nearest rank."""
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[rank]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return "n/a"
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on, with the machine's load as the run ended (the
    benchmarks share their 2 cores with whatever else runs)."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import os

    return {"commit": _COMMIT, "python": platform.python_version(), "platform": platform.platform(),
            "cpu": cpu, "cores": os.cpu_count(),
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()]}


def save(name: str, body: dict[str, Any]) -> Path:
    """Write one benchmark's figures to ``var/bench/results/<name>.json``."""
    folder = BENCH_HOME / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    body = {"benchmark": name, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(), **body}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path
