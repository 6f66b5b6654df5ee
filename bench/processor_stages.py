"""The CPU cost of each stage of the processor's per-record path, without Kafka.

The steps ``streams.routing.Router`` takes for a batch of ACH_CREDIT commands and for the
house legs they send, timed one stage at a time over the same encoded records, with a real
RocksDB state per partition, the real id registry and the catalog in memory; no profiler,
so the figures are the stages' true cost on this machine. Each partition's commands are
decided as one batch of up to ``--batch`` records (``ledger_core.decide_batch``), and the
staged writes go to RocksDB after each batch, as the loop does after a commit. The
difference between this total and the wall time per posting of a processor process is the
Kafka client's share and the loop's.

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
from bench.workload import LedgerPostings, Posting, catalog, customers
from ledger_core import Command, Posted, apply_remote_entries
from ledger_core.batch import decide_batch
from ledger_core.catalog import Catalog
from schemas import mapping
from schemas.codec import codec
from streams.id_registry import IdRegistry
from streams.outputs import Output, Source, posted_outputs
from streams.partition_task import PartitionTask
from streams.state import PartitionState, StateIdentity
from streams.topics import Topics


def _stages(tasks: dict[int, PartitionTask], topics: Topics, postings: list[Posting],
            batch: int) -> dict[str, float]:
    """Seconds per stage over ``postings`` (encoded commands), in processing order."""
    now = datetime.now(UTC)
    spent: dict[str, float] = {}
    registry = IdRegistry(topics, tasks)

    def timed(name: str, function: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        value = function(*args)
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
        return value

    for first in range(0, len(postings), batch):
        by_partition: dict[int, list[tuple[int, str, Command]]] = {}
        for offset, posting in enumerate(postings[first:first + batch], first):
            record = timed("decode the command (Avro) and map it (mapping.command_from)",
                           _decoded, posting.value)
            task = tasks[posting.partition]
            timed("claim its transaction id (the registry, in this process)", _claim,
                  registry, task, record, now)
            by_partition.setdefault(posting.partition, []).append(
                (offset, record["command_id"], record["command"]))
        legs: list[Output] = []
        for partition, admitted in by_partition.items():
            task = tasks[partition]
            decisions = timed("decide_batch (tran code, checks, balances)", decide_batch,
                              task, [command for _, _, command in admitted], now)
            for (offset, command_id, _), decision in zip(admitted, decisions, strict=True):
                assert isinstance(decision, Posted), decision
                source = Source(topics.commands, partition, offset)
                outputs = timed("posted_outputs (entries, legs, balances, transaction, "
                                "result)", posted_outputs, topics, task, command_id, decision,
                                source, now)
                legs += [o for o in outputs if o.topic == topics.legs]
        for leg in legs:
            owner = tasks[leg.partition]
            entry = timed("leg: decode + entry_from", _leg_entry, leg.value)
            timed("leg: apply_remote_entries + stage_balance", _apply_leg, owner, entry)
        timed("write the batch to RocksDB (every partition)", _write_all, tasks)
    return spent


def _decoded(value: bytes) -> dict[str, Any]:
    record = codec().decode("command", value)
    record["command"] = mapping.command_from(record)
    return record


def _claim(registry: IdRegistry, task: PartitionTask, record: dict[str, Any],
           now: datetime) -> None:
    command = record["command"]
    assert task.posted(command.transaction_id) is None
    claim = registry.claim(command.transaction_id, task.partition, record["command_id"], now)
    assert claim.holder == task.partition, claim
    registry.decided(command.transaction_id)


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
    total = sum(v for _, v in rows)
    rows.append(("total per posting (without Kafka)", total))
    text = table(["stage", "µs / posting (median)"], rows)
    text += (f"\n\n{args.runs} runs of {args.postings:,} ACH_CREDIT postings over "
             f"{args.partitions} partitions (each partition's commands decided as one batch by "
             f"its task, each leg folded by the house's), batches of {args.batch} records, "
             "RocksDB written after each batch.")
    if args.profile:
        text += "\n\n" + profiled
    print(text, flush=True)
    save("processor_stages", {"settings": vars(args), "runs": runs, "report": text})
    return text


if __name__ == "__main__":
    main()
