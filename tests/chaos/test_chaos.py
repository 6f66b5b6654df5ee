"""The short chaos run: faults while a seeded workload runs, proven by the audit."""

from pathlib import Path

from tests.chaos.harness import SHORT, chaos, check
from tests.chaos.poison import POISONS

SEED = 20261122


def test_the_short_chaos_run_ends_with_no_violation_and_fault_free_balances(
    tmp_path: Path,
) -> None:
    """Processor, sink, card server and ACH workflow processor kills, a broker restart,
    scaling and every class of poison leave the log provably correct."""
    faulty, calm = chaos(SEED, SHORT, nodes=1, home=tmp_path, log=print)
    problems = check(faulty, calm)
    assert problems == [], "\n".join(problems)
    assert sum(f.startswith("SIGKILL") for f in faulty.faults) >= SHORT.processor_kills
    assert "restarted the broker" in faulty.faults
    assert faulty.faults.count("SIGKILL the card server") == SHORT.card_kills
    assert faulty.faults.count("SIGKILL the ACH workflow processor") == SHORT.ach_kills
    assert sum(faulty.card_answers.values()) >= SHORT.card_purchases
    assert faulty.card_answers.get("authorization 00", 0) > 0
    injected = {f.removeprefix("poison ") for f in faulty.faults if f.startswith("poison ")}
    assert injected == set(POISONS), injected
    assert faulty.report.entries > 0
    assert faulty.statuses.get("POSTED", 0) > SHORT.commands // 2
