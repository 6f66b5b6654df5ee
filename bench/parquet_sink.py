"""Parquet sink: how many entries per second the sink writes from a full topic (goal: 100k/s).

The entries topic is filled with balanced two-entry transactions written by the codec (the
audit replay's generator), then the sink reads it from the beginning (read_committed),
decodes, converts to Arrow (decimal128 units) and writes and renames the files of every
partition until it reaches the end, as `ledger sink parquet run --until-end` does.

    python -m bench.parquet_sink --runs 3 --entries 1000000
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.audit_replay import generate
from bench.broker import broker, create_topics, delete_topics, fresh_prefix, stop_on_sigterm
from bench.figures import median, save, table
from connectors.parquet_sink import ParquetSink, RollPolicy
from streams.topics import Topics


def main(argv: list[str] | None = None) -> str:
    """Generate, sink, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--roll-records", type=int, default=RollPolicy.max_records)
    args = p.parse_args(argv)
    stop_on_sigterm()
    rates: list[float] = []
    files: list[int] = []
    with broker() as bootstrap:
        topics = Topics(fresh_prefix("parquet"), args.partitions)
        try:
            create_topics(bootstrap, [topics.entries, topics.transactions], args.partitions)
            create_topics(bootstrap, [topics.balances], args.partitions, compacted=True)
            started = time.monotonic()
            generate(bootstrap, topics, args.entries)
            print(f"wrote {args.entries:,} entries in {time.monotonic() - started:.0f} s",
                  flush=True)
            for run in range(args.runs):
                out = Path(tempfile.mkdtemp(prefix="bench-parquet-"))
                try:
                    sink = ParquetSink(bootstrap, topics, str(out),
                                       RollPolicy(args.roll_records, 3600))
                    stats = sink.run(until_end=True)
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                assert stats.records == args.entries, stats
                rates.append(stats.records / stats.seconds)
                files.append(stats.files)
                print(f"run {run + 1}/{args.runs}: {rates[-1]:,.0f} entries/s "
                      f"({stats.files} files in {stats.seconds:.1f} s)", flush=True)
        finally:
            delete_topics(bootstrap, topics.prefix)
    rows = [("sink to local Parquet", median(rates), " ".join(f"{x:,.0f}" for x in rates))]
    text = table(["sink", "entries/s (median)", "runs"], rows)
    text += (f"\n\n{args.entries:,} entries ({args.entries // 2:,} two-entry transactions), "
             f"{args.partitions} partitions, files of up to {args.roll_records:,} records "
             f"({median(files):.0f} per run), {args.runs} runs; read (read_committed), "
             "decoded, converted to Arrow with decimal128 units, written (zstd) and renamed. "
             "Goal: 100,000 entries/s.")
    print(text, flush=True)
    save("parquet_sink", {"settings": vars(args), "rates": rates, "files": files,
                          "report": text})
    return text


if __name__ == "__main__":
    main()
