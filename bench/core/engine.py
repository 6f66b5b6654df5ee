"""Benchmark of the pure engine: postings/s and the CEL cost per entry, by engine.

Run with ``python -m bench.core.engine`` (``--runs`` and ``--postings`` to change the size).
Every figure is the median of the runs; ratios are against cel-python measured in the same
run. Timing is printed, never asserted.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from ledger_core import (
    Activation,
    EnginePolicy,
    MemoryLedger,
    Posted,
    PostTransaction,
    TranCode,
    apply,
    compile_expression,
    compile_tran_code,
    tutorial,
)
from ledger_core.expansion import bind_params, expand

NOW = datetime(2022, 9, 21, 12, tzinfo=UTC)
TODAY = date(2022, 9, 21)

# A tran code whose expressions cannot all be folded: a ternary, string helpers and exact
# decimal arithmetic, so the engines' real cost shows.
COMPUTED = TranCode.model_validate(
    {
        "tranCodeId": "d4000000-0000-4000-8000-000000000001",
        "code": "COMPUTED",
        "params": [
            {"name": "account", "type": "UUID"},
            {"name": "amount", "type": "DECIMAL"},
            {"name": "rush", "type": "BOOLEAN", "default": "false"},
            {"name": "memo", "type": "STRING", "default": "'ach'"},
        ],
        "transaction": {
            "journalId": "uuid('822cb59f-ce51-4837-8391-2af3b7a5fc51')",
            "description": "params.memo.upperAscii() + ' deposit'",
        },
        "entries": [
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')",
             "units": "decimal(params.amount) * decimal('1')", "currency": "'USD'",
             "direction": "DEBIT", "layer": "params.rush ? SETTLED : PENDING"},
            {"accountId": "params.account", "units": "decimal(params.amount) * decimal('1')",
             "currency": "'USD'", "direction": "CREDIT",
             "layer": "params.rush ? SETTLED : PENDING",
             "entryType": "params.rush ? 'RUSH_CR' : 'ACH_CR'"},
        ],
    }
)  # fmt: skip


def _median_rate(runs: int, count: int, body: Callable[[int], None]) -> float:
    rates = []
    for run in range(runs):
        started = time.perf_counter()
        for index in range(count):
            body(run * count + index)
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def _median_us(runs: int, count: int, body: Callable[[], object]) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(count):
            body()
        samples.append((time.perf_counter() - started) / count * 1e6)
    return statistics.median(samples)


def postings_per_second(runs: int, count: int) -> tuple[float, float]:
    """Median postings/s of the tutorial's ACH_CREDIT: apply alone, and apply + commit."""
    commands = [
        PostTransaction.model_construct(
            transaction_id=UUID(int=i + 1),
            tran_code="ACH_CREDIT",
            tran_code_version=None,
            params={"account": str(tutorial.ERNIE.account_id), "amount": "9.53",
                    "effective": "2022-09-21"},
            override_enforcement=None,
        )
        for i in range(runs * count)
    ]  # fmt: skip
    ledger = MemoryLedger()
    tutorial.install(ledger)
    apply(ledger, commands[0], NOW)  # compile outside the measurement

    def decide(index: int) -> None:
        apply(ledger, commands[index], NOW)

    decided = _median_rate(runs, count, decide)

    def decide_and_commit(index: int) -> None:
        decision = apply(ledger, commands[index], NOW)
        assert isinstance(decision, Posted)
        ledger.commit(decision)

    committed = _median_rate(runs, count, decide_and_commit)
    return decided, committed


def cel_us_per_entry(tran_code: TranCode, params: dict[str, object], policy: EnginePolicy,
                     runs: int, count: int) -> float:  # fmt: skip
    """Median µs spent evaluating the tran code's CEL (vars, transaction, entries) per entry."""
    compiled = compile_tran_code(tran_code, policy)
    transaction_id = UUID(int=1)
    bound = bind_params(compiled, params, transaction_id)
    assert isinstance(bound, dict)
    expanded = expand(compiled, bound, transaction_id, TODAY)
    assert not hasattr(expanded, "code"), expanded
    entries = len(expanded[1])
    per_call = _median_us(runs, count, lambda: expand(compiled, bound, transaction_id, TODAY))
    return per_call / entries


def single_expression_us(policy: EnginePolicy, runs: int, count: int) -> float:
    """Median µs of one decimal-free expression, including building its activation."""
    expression = compile_expression(
        "params.rush ? 'RUSH_CR' : 'ACH_CR'",
        roots=("params",), decimal_fields={"params": frozenset()}, policy=policy,
    )  # fmt: skip
    params = {"rush": False, "memo": "ach"}
    return _median_us(runs, count, lambda: expression.evaluate(Activation({"params": params})))


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postings", type=int, default=5000)
    args = parser.parse_args()
    runs, count = args.runs, args.postings
    print(f"ledger_core engine benchmark: python {platform.python_version()}, "
          f"{runs} runs, medians")  # fmt: skip
    decided, committed = postings_per_second(runs, count)
    print(f"\n{'pure engine, tutorial ACH_CREDIT (2 entries)':58} {'postings/s':>12}")
    print(f"{'  apply() only':58} {decided:12,.0f}")
    print(f"{'  apply() + MemoryLedger.commit()':58} {committed:12,.0f}")

    ach = {"account": str(tutorial.ERNIE.account_id), "amount": Decimal("9.53"),
           "effective": "2022-09-21"}  # fmt: skip
    computed = {"account": str(tutorial.ERNIE.account_id), "amount": Decimal("9.53")}
    cel_count = max(count // 10, 200)
    rows = [
        ("cel-python, unfolded (reference)", EnginePolicy.REFERENCE),
        ("Rust where decimal-free, else cel-python, unfolded", EnginePolicy.RUST),
        ("production: folded, exact decimal, Rust, cel-python", EnginePolicy.AUTO),
    ]
    for label, tran_code, params in (("tutorial ACH_CREDIT", tutorial.ACH_CREDIT, ach),
                                     ("COMPUTED (ternary, strings, decimals)", COMPUTED,
                                      computed)):  # fmt: skip
        print(f"\nCEL per entry, {label:42} {'µs/entry':>12} {'vs cel-python':>14}")
        baseline = None
        for name, policy in rows:
            cost = cel_us_per_entry(tran_code, params, policy, runs, cel_count)
            baseline = baseline or cost
            print(f"{'  ' + name:58} {cost:12.2f} {baseline / cost:13.1f}x")
    print(f"\n{'one decimal-free expression incl. activation':58} {'µs':>12}")
    single = {}
    for name, policy in (("cel-python", EnginePolicy.REFERENCE), ("Rust", EnginePolicy.RUST)):
        single[name] = single_expression_us(policy, runs, cel_count)
        ratio = single["cel-python"] / single[name]
        print(f"{'  ' + name:58} {single[name]:12.2f} {ratio:13.1f}x")


if __name__ == "__main__":
    main()
