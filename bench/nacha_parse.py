"""NACHA parsing: entries per second that strict ``nacha.parse`` reads and validates (goal: 200k/s).

One large valid file is built in memory with ``nacha.FileBuilder``: batches of PPD, CCD, WEB,
CTX and TEL entries, credits and debits, with addenda 05 (one on every other PPD, CCD and WEB
entry, two on every CTX entry; TEL entries take none). Each run times ``nacha.parse(text)`` in
strict mode, every rule checked, and beside it, in the same run, a floor: splitting the text
into its lines and slicing out each record type, the least any parser of the file does. No
broker, no I/O: the library is pure.

A parse keeps two to four objects per entry for as long as the file lives; were they tracked
by Python's cyclic garbage collector, it would walk them all again each time they grew the heap
by a quarter. The strict parse is also timed with the collector paused around it, as an
application may do for a large file, to show what share the collector still takes (the library
itself leaves the collector alone).

    python -m bench.nacha_parse --runs 5 --entries 100000
"""

import argparse
import gc
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime

from bench.figures import median, save, table
from nacha import FileBuilder, Parsed, addenda, check_digit, generate, parse

SEC_CODES = ("PPD", "CCD", "WEB", "CTX", "TEL")
CREDITS, DEBITS = (22, 32), (27, 37)
ODFI = "07640125"
STRICT, PAUSED, FLOOR = ("strict parse", "strict parse, collector paused",
                         "floor (split, record types)")


def build_file(entries: int, batches: int) -> str:
    """The text of a valid file of ``entries`` entries spread evenly over ``batches`` batches."""
    builder = FileBuilder(immediate_destination="076401251", immediate_origin="1234567890",
                          created=datetime(2024, 3, 1, 9, 30), immediate_origin_name="ACME")
    per_batch = -(-entries // batches)
    for number in range(batches):
        sec = SEC_CODES[number % len(SEC_CODES)]
        batch = builder.batch(sec, originating_dfi=ODFI, effective_entry_date=date(2024, 3, 4),
                              company_name="ACME", company_identification="1234567890",
                              company_entry_description="PAYMENT")
        name_field = "receiving_company_name" if sec in {"CCD", "CTX"} else "individual_name"
        for i in range(min(per_batch, entries - number * per_batch)):
            # a phone call authorizes debits only
            code = DEBITS[i % 2] if sec == "TEL" else (CREDITS + DEBITS)[i % 4]
            prefix = f"{(i * 7919) % 10 ** 8:08d}"
            notes = 2 if sec == "CTX" else 0 if sec == "TEL" or i % 2 else 1
            batch.entry(code, prefix + str(check_digit(prefix)), 100 + i % 99_900,
                        dfi_account_number=f"{i:017d}", **{name_field: f"RECEIVER {i}"},
                        addenda=[addenda("05", payment_related_information=f"INV {i}-{n}")
                                 for n in range(notes)])
    return generate(builder.build())


def verify(text: str, entries: int) -> None:
    """The file parses whole, with all its entries, and writes back as read."""
    parsed = parse(text)
    assert len(parsed.file.entries) == entries, len(parsed.file.entries)
    assert generate(parsed.file) == text, "the parsed file does not write back as read"


def parse_paused(text: str) -> Parsed:
    """``parse`` with the cyclic garbage collector paused."""
    gc.disable()
    try:
        return parse(text)
    finally:
        gc.enable()


def floor(text: str) -> Counter[str]:
    """The least a reader does: the lines, and the record type of each."""
    return Counter(line[:1] for line in text.split("\n"))


def main(argv: list[str] | None = None) -> str:
    """Build, time, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--batches", type=int, default=20)
    args = p.parse_args(argv)
    started = time.perf_counter()
    text = build_file(args.entries, args.batches)
    records, lines = floor(text), text.count("\n")
    print(f"built {args.entries:,} entries ({records['7']:,} addenda, {len(text):,} characters) "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    verify(text, args.entries)
    readers: dict[str, Callable[[str], object]] = {STRICT: parse, PAUSED: parse_paused,
                                                   FLOOR: floor}
    rates: dict[str, list[float]] = {name: [] for name in readers}
    for run in range(args.runs):
        for name, read in readers.items():
            gc.collect()  # every read starts from the same heap
            started = time.perf_counter()
            read(text)
            rates[name].append(args.entries / (time.perf_counter() - started))
        print(f"run {run + 1}/{args.runs}: {STRICT} {rates[STRICT][-1]:,.0f} entries/s, "
              f"collector paused {rates[PAUSED][-1]:,.0f}", flush=True)
    strict, least = median(rates[STRICT]), median(rates[FLOOR])
    rows = [(name, median(values), least / median(values), " ".join(f"{x:,.0f}" for x in values))
            for name, values in rates.items()]
    report = table(["read", "entries/s (median)", "time / floor", "runs"], rows)
    report += (f"\n\n{args.entries:,} entries in {args.batches} batches "
               f"({', '.join(SEC_CODES)}), {records['7']:,} addenda 05, {lines:,} "
               f"lines; {args.runs} runs. Strict: every rule checked, {1e6 / strict:.1f} µs per "
               "entry with the collector running. Goal: 200,000 entries/s.")
    print(report, flush=True)
    save("nacha_parse", {"settings": vars(args), "rates": rates, "report": report})
    return report


if __name__ == "__main__":
    main()
