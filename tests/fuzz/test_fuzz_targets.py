"""The fuzz targets as regression tests, and a short, seeded fuzzing run of each (docs/fuzzing.md).

* Every committed input, the seed corpora (tests/fuzz/corpus/<target>/) and the findings
  (tests/fuzz/findings/<target>/), is replayed through its target: each file is its own test,
  so each finding is a regression test that passes once its bug is fixed.
* Each target then runs under atheris for a fixed number of inputs from a fixed seed, in a
  subprocess with a fixed hash seed, starting from the same corpora and findings. A crash,
  a hang (libFuzzer's ``-timeout``) or a memory blow-up fails the test with the path of the
  input that caused it and the exception.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.run import CORPUS, FINDINGS, ROOT, WORK, inputs, load
from tests.fuzz.targets import TARGETS

SEED = 20261122
# Inputs per bounded run, measured on a 2-core machine with start-up and instrumentation:
# command ~18 s, catalog ~10 s, cel ~8 s, graphql_input ~21 s (docs/fuzzing.md). The command
# target routes through the real router (RocksDB state, the id registry, every output
# decoded), slower per input than the copy of the processor it replaced, so it runs fewer.
RUNS = {"command": 25_000, "catalog": 6_000, "cel": 12_000, "graphql_input": 20_000}
REPLAY_HANG_S = 60  # the replay itself stops an input after 10s, if Python code is running
BOUNDED_TIMEOUT_S = 300

SEEDS = [pytest.param(name, path, id=f"{name}/{path.name}")
         for name in sorted(TARGETS) for path in inputs(CORPUS / name)]
FOUND = [pytest.param(name, path, id=f"{name}/{path.name}")
         for name in sorted(TARGETS) for path in inputs(FINDINGS / name)]


@pytest.mark.parametrize(("name", "path"), SEEDS)
def test_seed_is_handled(name: str, path: Path) -> None:
    """A seed gets one of the target's expected outcomes (no exception)."""
    load(TARGETS[name], instrument=False).test_one_input(path.read_bytes())


@pytest.mark.parametrize(("name", "path"), FOUND)
def test_finding_is_fixed(name: str, path: Path) -> None:
    """A finding's input gets one of the target's expected outcomes, within libFuzzer's time
    and memory limits (replayed in a subprocess, so that a hang, a memory blow-up or a
    native crash fails this test alone)."""
    command = [sys.executable, "-m", "tests.fuzz.run", "replay", "--guarded", name, str(path)]
    try:
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                   errors="backslashreplace", timeout=REPLAY_HANG_S,
                                   check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.relative_to(ROOT)} still hangs: no answer in {REPLAY_HANG_S}s")
    output = (completed.stdout + completed.stderr)[-6000:]
    assert completed.returncode == 0, f"{path.relative_to(ROOT)} still fails:\n{output}"


def test_every_target_has_seeds_and_a_bounded_run() -> None:
    """Each target has a committed corpus and a run count."""
    assert sorted(RUNS) == sorted(TARGETS)
    for name in TARGETS:
        assert inputs(CORPUS / name), f"tests/fuzz/corpus/{name} has no seeds"


def _crash_report(name: str, output: str, artifacts: Path) -> str:
    written = re.findall(r"Test unit written to (\S+)", output)
    lines = [f"libFuzzer found a failing input for target {name!r}."]
    for artifact in written:
        path = Path(artifact)
        data = path.read_bytes() if path.is_file() else b""
        known = [p for p in inputs(FINDINGS / name) if p.read_bytes() == data]
        if known:
            lines.append(f"It is the committed finding {known[0].relative_to(ROOT)} "
                         "(not fixed yet).")
        else:
            lines.append(f"New failing input: {path} - replay it with `python -m "
                         f"tests.fuzz.run replay {name} {path}` and add it under "
                         f"tests/fuzz/findings/{name}/ (docs/fuzzing.md).")
    if not written:
        lines.append(f"libFuzzer wrote no input; artifacts dir {artifacts}.")
    start = output.find("=== Uncaught Python exception")
    tail = output[start:] if start >= 0 else output[-4000:]
    lines.append(tail[:6000])
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_bounded_fuzzing_finds_nothing(name: str, tmp_path: Path) -> None:
    """A short, seeded libFuzzer run of the target ends without a failing input."""
    artifacts = WORK / "bounded" / name
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.iterdir():
        old.unlink()
    command = [sys.executable, "-m", "tests.fuzz.run", name, str(tmp_path / "corpus"),
               str(CORPUS / name), str(FINDINGS / name), f"-seed={SEED}",
               f"-runs={RUNS[name]}", "-timeout=10", "-max_len=4096",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                               errors="backslashreplace", timeout=BOUNDED_TIMEOUT_S,
                               env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, _crash_report(name, output, artifacts)
    assert re.search(rf"Done {RUNS[name]} runs", output), output[-3000:]
