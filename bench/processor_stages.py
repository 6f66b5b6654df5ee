"""The CPU cost of each stage of the processor's per-record path, without Kafka.

The same functions ``streams/processor.py`` calls for an ACH_CREDIT command and for the
house leg it sends, timed one stage at a time over the same encoded records, with a real
RocksDB state per partition and the catalog in memory; no profiler, so the figures are the
stages' true cost on this machine. Staged writes are written to RocksDB every ``--batch``
postings, as the loop does after a commit. The difference between this total and the
wall time per posting of a processor process is the Kafka client's share.

    python -m bench.processor_stages --postings 5000 --runs 5
"""

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.figures import median, save, table
from bench.workload import HOUSE, LedgerPostings, Posting, catalog, customers
from ledger_core import (
    Posted,
    PostedTransaction,
    apply,
    apply_remote_entries,
    parse_command,
    tutorial,
)
from ledger_core.catalog import Catalog
from schemas import mapping
from schemas.codec import codec
from streams.outputs import Source, posted_outputs, result_record
from streams.partition_task import PartitionTask, balance_key
from streams.partitioning import owner_partition
from streams.state import BALANCE, PartitionState, StateIdentity
from streams.topics import Topics


def _stages(tasks: dict[int, PartitionTask], topics: Topics, postings: list[Posting],
            batch: int) -> dict[str, float]:
    """Seconds per stage over ``postings`` (encoded commands), in processing order."""
    now = datetime.now(UTC)
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}
    partitions = len(tasks)
    house_task = tasks[owner_partition(HOUSE.account_id, partitions)]
    journal_id = tutorial.JOURNAL.journal_id
    house_key = balance_key(HOUSE.account_id, journal_id, "USD")
    cache: dict[bytes, Any] = {}

    def timed(name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        value = function(*args, **kwargs)
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
        calls[name] = calls.get(name, 0) + 1
        return value

    for i, posting in enumerate(postings):
        task = tasks[posting.partition]
        source = Source(topics.commands, task.partition, i)
        record = timed("decode the command (Avro)", codec().decode, "command", posting.value)
        command = timed("command_payload + parse_command (pydantic)", _parse, record)
        decision = timed("ledger_core.apply (tran code, checks, balances)", apply, task,
                         command, now)
        assert isinstance(decision, Posted), decision
        stored = house_task.store.get(BALANCE, house_key)
        if stored is not None:
            balance = timed("  of which, per read: a balance from RocksDB (get, decode, model)",
                            _read_balance, house_task, house_key)
            cache[house_key] = balance
            timed("  what-if, per read: the same balance from an in-memory cache",
                  _cached_balance, cache, journal_id)
        outputs = timed("posted_outputs (entries, legs, balance, transaction, result)",
                        posted_outputs, topics, task, record["command_id"], decision, source,
                        now)
        transaction = codec().encode("transaction", mapping.transaction_record(
            PostedTransaction(transaction=decision.transaction,
                                              entries=decision.entries)))
        timed("  of which: the result record (it embeds the encoded transaction)", result_record,
              record["command_id"], "POSTED", source, now,
              transaction_id=decision.transaction.transaction_id, transaction=transaction)
        timed("  what-if: the result record without the transaction", result_record,
              record["command_id"], "POSTED", source, now,
              transaction_id=decision.transaction.transaction_id)
        for leg in (o for o in outputs if o.topic == topics.legs):
            owner = tasks[leg.partition]
            entry = timed("leg: decode + entry_from (pydantic)", _leg_entry, leg.value)
            timed("leg: apply_remote_entries + stage_balance", _apply_leg, owner, entry)
        if (i + 1) % batch == 0:
            timed("write the batch to RocksDB (every partition)", _write_all, tasks)
    per_read = {name: spent[name] * len(postings) / calls[name]
                for name in spent if "per read" in name}
    return {**spent, **per_read}


def _parse(record: dict[str, Any]) -> Any:
    return parse_command(mapping.command_payload(record))


def _read_balance(task: PartitionTask, key: bytes) -> Any:
    return mapping.balance_from(codec().decode("balance", task.store.get(BALANCE, key)))


def _cached_balance(cache: dict[bytes, Any], journal_id: Any) -> Any:
    return cache.get(balance_key(HOUSE.account_id, journal_id, "USD"))


def _leg_entry(value: bytes) -> Any:
    return mapping.entry_from(codec().decode("entry", value))


def _apply_leg(owner: PartitionTask, entry: Any) -> None:
    for balance in apply_remote_entries(owner, [entry]):
        owner.stage_balance(balance)


def _write_all(tasks: dict[int, PartitionTask]) -> None:
    for task in tasks.values():
        task.store.write(task.take_pending(), {})


def _profiled(table_: Catalog, topics: Topics, accounts: list[Any],
              args: argparse.Namespace) -> str:
    """One more run under cProfile: the functions with the most own time."""
    import cProfile
    import io
    import pstats

    from bench.profile_processor import top_functions

    folder = Path(tempfile.mkdtemp())
    tasks = {p: PartitionTask(p, args.partitions, PartitionState(
                 folder / f"partition-{p}", StateIdentity("bench", "stages", args.partitions,
                                                          p)), table_)
             for p in range(args.partitions)}
    try:
        postings = LedgerPostings(accounts, args.partitions).make(args.postings)
        profiler = cProfile.Profile()
        profiler.enable()
        _stages(tasks, topics, postings, args.batch)
        profiler.disable()
    finally:
        for task in tasks.values():
            task.store.close()
        shutil.rmtree(folder, ignore_errors=True)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = top_functions(stats, args.postings, args.profile)
    return ("Under cProfile (which inflates every call; compare shares, not sums):\n\n"
            + table(["function (own time)", "µs / posting", "calls / posting"], rows))


def main(argv: list[str] | None = None) -> str:
    """Time, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postings", type=int, default=5000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="also print the N functions with the most own time (cProfile run)")
    args = p.parse_args(argv)
    accounts = customers(1000)
    table_ = Catalog()
    for entity in catalog(accounts):
        table_.put(entity)
    topics = Topics("stages", args.partitions)
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        folder = Path(tempfile.mkdtemp())
        tasks = {p: PartitionTask(p, args.partitions, PartitionState(
                     folder / f"partition-{p}", StateIdentity("bench", "stages",
                                                              args.partitions, p)), table_)
                 for p in range(args.partitions)}
        try:
            postings = LedgerPostings(accounts, args.partitions).make(args.postings)
            runs.append(_stages(tasks, topics, postings, args.batch))
        finally:
            for task in tasks.values():
                task.store.close()
            shutil.rmtree(folder, ignore_errors=True)
    if args.profile:
        profiled = _profiled(table_, topics, accounts, args)
    names = list(runs[0])
    rows = [(name, median([1e6 * r[name] / args.postings for r in runs])) for name in names]
    total = sum(v for name, v in rows if not name.startswith("  "))
    rows.append(("total per posting (without Kafka)", total))
    text = table(["stage", "µs / posting (median)"], rows)
    text += (f"\n\n{args.runs} runs of {args.postings:,} ACH_CREDIT postings over "
             f"{args.partitions} partitions (each command decided by its owner's task, each "
             f"leg applied by the house's), RocksDB written every {args.batch} postings. The "
             "indented rows are timed on their own: 'of which' is part of posted_outputs, "
             "'what-if' is not done by the processor; neither counts in the total.")
    if args.profile:
        text += "\n\n" + profiled
    print(text, flush=True)
    save("processor_stages", {"settings": vars(args), "runs": runs, "report": text})
    return text


if __name__ == "__main__":
    main()
