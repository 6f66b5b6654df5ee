"""Where a ledger processor spends its time per posting: cProfile of the real loop.

A fresh ledger is set up and warmed up by a processor process, which is then stopped; a
backlog of ACH_CREDIT postings is written to the commands topic; then a ``Processor`` runs
in this process, on the same state and instance id, under cProfile until every posting's
result and balances are committed. Only the processing loop (``step``) is profiled, not
start-up. Costs are printed in µs per posting: the loop's stages (cumulative) and the
functions with the most time of their own; the raw profile is left in
``var/bench/results/profile_processor.prof`` for ``python -m pstats``.

    python -m bench.profile_processor --postings 20000
"""

import argparse
import cProfile
import io
import pstats
import time
from typing import Any

from bench.broker import BENCH_HOME, broker, stop_on_sigterm
from bench.figures import save, table
from bench.measure import Watcher, blast, producer, warm_up
from bench.systems import LedgerSystem
from streams.processor import ProcessorConfig, open_processor
from streams.topics import Topics

# The loop's stages, by (file fragment, function name); cumulative time, so they nest.
STAGES = [
    ("the whole loop (Processor.step)", "streams/processor.py", "step"),
    ("consume a batch", "~", "<method 'consume' of 'cimpl.Consumer' objects>"),
    ("catalog refresh", "streams/catalog.py", "refresh"),
    ("route every record", "streams/processor.py", "_route"),
    ("  admit a command (decode, parse, claim its id)", "streams/routing.py", "_admit"),
    ("    parse_command (pydantic)", "ledger_core/commands.py", "parse_command"),
    ("  decide a partition's commands (decide_batch)", "ledger_core/batch.py",
     "decide_batch"),
    ("  write the decisions (posted_outputs)", "streams/outputs.py", "posted_outputs"),
    ("  apply a leg", "streams/routing.py", "_leg"),
    ("  produce (Producer.produce)", "streams/checkpoint.py", "produce"),
    ("Avro encode, everywhere", "schemas/codec.py", "encode"),
    ("Avro decode, everywhere (commands, legs, state reads)", "schemas/codec.py", "decode"),
    ("RocksDB reads (Rdict.get)", "~", "<method 'get' of 'builtins.Rdict' objects>"),
    ("owner partition (murmur2 in Python)", "streams/partitioning.py", "owner_partition"),
    ("model -> record mapping, everywhere", "schemas/mapping.py", "*"),
    ("consumer positions", "~", "<method 'position' of 'cimpl.Consumer' objects>"),
    ("send_offsets_to_transaction", "~",
     "<method 'send_offsets_to_transaction' of 'cimpl.Producer' objects>"),
    ("commit_transaction", "~", "<method 'commit_transaction' of 'cimpl.Producer' objects>"),
    ("begin_transaction", "~", "<method 'begin_transaction' of 'cimpl.Producer' objects>"),
    ("write state to RocksDB (_write_state)", "streams/checkpoint.py", "_write_state"),
]


def profile(bootstrap: str, args: argparse.Namespace) -> tuple[pstats.Stats, float, int]:
    """Profile the loop over a backlog of ``args.postings`` postings."""
    system = LedgerSystem(bootstrap, partitions=args.partitions, batch_max=args.batch_max,
                          batch_timeout_ms=args.batch_timeout_ms)
    system.start()
    try:
        watcher = Watcher(bootstrap, [system.results, system.balances], system.partitions,
                          system.results)
        out = producer(bootstrap)
        warm_up(system, bootstrap, watcher, out, 200)
        [process] = system.processors
        process.stop()
        blast(out, system.commands, system.postings(args.postings))
        processor = open_processor(ProcessorConfig(
            bootstrap=bootstrap, topics=Topics(system.prefix, system.partitions),
            state_dir=process.state_dir, instance_id=process.instance_id,
            batch_max=args.batch_max, batch_timeout_s=args.batch_timeout_ms / 1000))
        expected = system.expected(args.postings)
        profiler = cProfile.Profile()
        started = time.monotonic()
        profiler.enable()
        while any(watcher.counts[t] < n for t, n in expected.items()):
            processor.step()
        profiler.disable()
        seconds = time.monotonic() - started
        processor.close()
        watcher.close()
        return pstats.Stats(profiler, stream=io.StringIO()), seconds, args.postings
    finally:
        system.stop()


def stage_costs(stats: pstats.Stats, postings: int) -> list[tuple[str, float, float]]:
    """(stage, cumulative µs per posting, calls per posting) of each stage."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for label, fragment, name in STAGES:
        total, calls = 0.0, 0
        for (filename, _line, function), (_cc, nc, _tt, ct, _callers) in raw.items():
            if fragment in filename and name in ("*", function):
                total += ct
                calls += nc
        if name == "*":  # nested mapping helpers would count twice: keep own time only
            total = sum(v[2] for (f, _l, _n), v in raw.items() if fragment in f)
        rows.append((label, 1e6 * total / postings, calls / postings))
    return rows


def top_functions(stats: pstats.Stats, postings: int, count: int) -> list[tuple[str, float,
                                                                            float]]:
    """The functions with the most time of their own, in µs per posting."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:count]
    rows = []
    for (filename, line, function), (_cc, nc, tt, _ct, _callers) in ranked:
        where = function if filename == "~" else f"{_short(filename)}:{line} {function}"
        rows.append((where, 1e6 * tt / postings, nc / postings))
    return rows


def _short(filename: str) -> str:
    for root in ("/work/main/", "site-packages/"):
        if root in filename:
            return filename.split(root, 1)[1]
    return filename.rsplit("/", 2)[-1]


def main(argv: list[str] | None = None) -> str:
    """Profile, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postings", type=int, default=20_000)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--batch-max", type=int, default=500)
    p.add_argument("--batch-timeout-ms", type=int, default=10)
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args(argv)
    stop_on_sigterm()
    with broker() as bootstrap:
        stats, seconds, postings = profile(bootstrap, args)
    dump = BENCH_HOME / "results" / "profile_processor.prof"
    dump.parent.mkdir(parents=True, exist_ok=True)
    stats.dump_stats(str(dump))
    stages = stage_costs(stats, postings)
    top = top_functions(stats, postings, args.top)
    text = (f"{postings:,} ACH_CREDIT postings in {seconds:.1f} s under cProfile "
            f"({postings / seconds:,.0f} postings/s, {1e6 * seconds / postings:,.0f} µs per "
            "posting of wall time; cProfile itself adds to every Python call)\n\n")
    text += table(["stage (cumulative)", "µs / posting", "calls / posting"], stages)
    text += "\n\n" + table(["function (own time)", "µs / posting", "calls / posting"], top)
    print(text, flush=True)
    save("profile_processor", {"settings": vars(args), "seconds": seconds, "report": text})
    return text


if __name__ == "__main__":
    main()
