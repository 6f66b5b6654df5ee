"""The short chaos run: faults while a seeded workload runs, proven by the audit."""

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from ledger_core import (
    DEFAULT_JOURNAL_ID,
    ControlAttachment,
    MemoryLedger,
    PostTransaction,
    Rejected,
    VoidTransaction,
)
from tests.chaos.harness import SHORT, chaos, check, rollup_problems
from tests.chaos.poison import POISONS
from tests.chaos.workload import build

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


def test_the_roll_up_check_names_a_set_that_lost_or_doubled_a_members_entries() -> None:
    """A set balance equal to its accounts' sum passes; one that lost an entry, counted a
    nested member twice, or is missing, does not."""
    workload = build(SEED, 10, 4)
    popular = str(workload.popular_set.account_set_id)
    nested = str(workload.nested_set.account_set_id)
    accounts = {str(s): frozenset(str(a) for a in members)
                for s, members in workload.set_accounts.items()}
    assert accounts[nested] < accounts[popular]
    journal = str(DEFAULT_JOURNAL_ID)
    balances = {(a, journal, "USD"): ("0", "0", "0", "2.00", "0", "0", 1)
                for a in accounts[popular]}
    count = len(accounts[popular])
    right = {**balances,
             (popular, journal, "USD"): ("0", "0", "0", f"{2 * count}.00", "0", "0", count),
             (nested, journal, "USD"): ("0", "0", "0", f"{2 * len(accounts[nested])}.00",
                                        "0", "0", len(accounts[nested]))}
    assert rollup_problems(accounts, right) == []
    lost = {**right, (popular, journal, "USD"): ("0", "0", "0", f"{2 * count - 2}.00", "0",
                                                 "0", count - 1)}
    twice = count + len(accounts[nested])
    doubled = {**right, (popular, journal, "USD"): ("0", "0", "0", f"{2 * twice}.00", "0",
                                                    "0", twice)}
    missing = {k: v for k, v in right.items() if k[0] != nested}
    for wrong in (lost, doubled, missing):
        assert len(rollup_problems(accounts, wrong)) == 1


def test_the_workloads_velocity_control_refuses_deposits_past_its_cap() -> None:
    """Decided by the pure core, the short run's commands meet the balance cap: the
    control refuses some deposits to the customers it is attached to, and no other."""
    workload = build(SEED, SHORT.commands, 4)
    ledger = MemoryLedger()
    for entity in workload.catalog:
        ledger.put(entity)
    capped = {a.account_id for a in workload.velocity_control
              if isinstance(a, ControlAttachment)}
    refused: set[UUID] = set()
    now = datetime(2026, 12, 4, tzinfo=UTC)
    for op in workload.ops:
        command = (PostTransaction(transaction_id=op.transaction_id, tran_code=op.tran_code,
                                   params=op.params_dict) if op.kind == "post"
                   else VoidTransaction(void_of=op.void_of))
        decision = ledger.post(command, now)
        if isinstance(decision, Rejected) and "Balance cap" in decision.message:
            refused.add(op.owner)
    assert refused and refused <= capped, (refused, capped)
