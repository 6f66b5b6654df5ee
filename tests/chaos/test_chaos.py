"""The short chaos run: faults while a seeded workload runs, proven by the audit."""

from pathlib import Path

from tests.chaos.harness import SHORT, chaos, check
from tests.chaos.poison import POISONS

SEED = 20261122


def test_the_short_chaos_run_ends_with_no_violation_and_fault_free_balances(
    tmp_path: Path,
) -> None:
    """Processor kills, a broker restart, scaling and every class of poison leave the log
    provably correct."""
    faulty, calm = chaos(SEED, SHORT, nodes=1, home=tmp_path, log=print)
    assert check(faulty, calm) == []
    assert sum(f.startswith("SIGKILL") for f in faulty.faults) >= SHORT.processor_kills
    assert "restarted the broker" in faulty.faults
    injected = {f.removeprefix("poison ") for f in faulty.faults if f.startswith("poison ")}
    assert injected == set(POISONS), injected
    assert faulty.report.entries > 0
    assert faulty.statuses.get("POSTED", 0) > SHORT.commands // 2
