"""Restore: how long a processor takes to rebuild its state from Kafka into an empty state
directory, for a ledger of 1M accounts ("minutes, not hours").

The ledger is laid out on fresh topics by writing what a ledger of ``--accounts`` customers,
each credited once through ACH_CREDIT, would have written: the catalog (journal, house, tran
codes and every account), one balance per customer on the balances changelog and one posted
transaction per customer on the transactions changelog, each on its owner's partition. The
records are real codec output: one of each is encoded from the models, and the others are
that template with the ids (fixed-length strings) swapped, which a sample decode checks.

Then, per run:

* ``processor start``: a processor process on an empty state dir, from launch to its first
  assignment (catalog read to its end + every partition restored), as ``ledger processor
  run`` does it on a new machine;
* ``state restore``: ``streams.restore.restore`` of every partition, in this process;
* ``catalog read``: ``CatalogReader.catch_up`` of the whole catalog, in this process.

    python -m bench.restore --runs 3 --accounts 1000000
"""

import argparse
import math
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bench.broker import BENCH_HOME, broker, delete_topics, fresh_prefix, stop_on_sigterm
from bench.figures import median, save, table
from bench.workload import EFFECTIVE, HOUSE, catalog
from ledger_cli.processor_process import ProcessorProcess
from ledger_core import Account, Direction, MemoryLedger, Posted, PostedTransaction, PostTransaction
from ledger_core import apply as apply_command
from schemas import mapping
from schemas.codec import codec
from streams.catalog import CatalogReader, catalog_key, catalog_value
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.partition_task import balance_key, transaction_key
from streams.partitioning import owner_partition
from streams.restore import restore
from streams.state import BALANCE, TRANSACTION, PartitionState, StateIdentity
from streams.topics import Topics, ensure_topics

PLACEHOLDER_ACCOUNT = UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
PLACEHOLDER_TRANSACTION = UUID("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
PLACEHOLDER_COMMAND = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
CODE_WIDTH = 9


def _account(i: int) -> UUID:
    return UUID(int=(0xD0 << 120) | i, version=4)


def _transaction(i: int) -> UUID:
    return UUID(int=(0xE0 << 120) | i, version=4)


def _code(i: int) -> str:
    return f"R.{i:0{CODE_WIDTH}d}"


class Templates:
    """One encoded record of each kind, and the byte strings to swap per account."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        customer = Account(account_id=PLACEHOLDER_ACCOUNT, code=_code(0), name="Restored",
                           normal_balance_type=Direction.CREDIT)
        self.catalog = codec().encode("catalog_record", {
            "entity": catalog_value(customer), "command_id": PLACEHOLDER_COMMAND,
            "written_at": now})
        ledger = MemoryLedger()
        for entity in catalog([customer]):
            _add(ledger, entity)
        decision = apply_command(ledger, PostTransaction(
            transaction_id=PLACEHOLDER_TRANSACTION, tran_code="ACH_CREDIT",
            params={"account": str(PLACEHOLDER_ACCOUNT), "amount": "10.00",
                    "effective": EFFECTIVE}), now)
        assert isinstance(decision, Posted), decision
        [balance] = [b for b in decision.balances if b.account_id == PLACEHOLDER_ACCOUNT]
        self.house_balance = next(b for b in decision.balances
                                  if b.account_id != balance.account_id)
        self.balance = codec().encode("balance", mapping.balance_record(balance))
        posted = PostedTransaction(transaction=decision.transaction,
                                                   entries=decision.entries)
        self.transaction = codec().encode("transaction", mapping.transaction_record(posted))
        self.entry_ids = [str(e.entry_id).encode() for e in decision.entries]
        self.journal_id = decision.transaction.journal_id

    def records(self, i: int) -> tuple[bytes, bytes, bytes]:
        """The catalog record, balance and transaction of account ``i``."""
        account = str(_account(i)).encode()
        transaction = str(_transaction(i)).encode()
        placeholder = str(PLACEHOLDER_ACCOUNT).encode()
        catalog_value_bytes = (self.catalog.replace(placeholder, account)
                               .replace(_code(0).encode(), _code(i).encode()))
        balance = (self.balance.replace(placeholder, account)
                   .replace(str(PLACEHOLDER_TRANSACTION).encode(), transaction))
        posted = (self.transaction.replace(placeholder, account)
                  .replace(str(PLACEHOLDER_TRANSACTION).encode(), transaction))
        for n, entry_id in enumerate(self.entry_ids):
            fresh = str(UUID(int=(0xF0 << 120) | (i << 2) | n, version=4)).encode()
            balance = balance.replace(entry_id, fresh)
            posted = posted.replace(entry_id, fresh)
        return catalog_value_bytes, balance, posted


def _add(ledger: MemoryLedger, entity: object) -> None:
    from ledger_core import Journal, TranCode

    if isinstance(entity, Journal):
        ledger.add_journal(entity)
    elif isinstance(entity, Account):
        ledger.add_account(entity)
    elif isinstance(entity, TranCode):
        ledger.add_tran_code(entity)


def generate(bootstrap: str, topics: Topics, accounts: int) -> float:
    """Write the ledger's topics for ``accounts`` customers; return the seconds it took."""
    started = time.monotonic()
    ensure_topics(AdminClient(kafka_config(bootstrap)), topics)
    templates = Templates()
    out = Producer(kafka_config(bootstrap, {
        "linger.ms": 50, "batch.size": 1_000_000, "compression.type": "lz4",
        "queue.buffering.max.messages": 2_000_000, "enable.idempotence": True, "acks": "all",
    }))
    now = datetime.now(UTC)
    for entity in catalog([]):
        _send(out, topics.catalog, 0, codec().encode("catalog_key", catalog_key(entity)),
              codec().encode("catalog_record", {"entity": catalog_value(entity),
                                                "command_id": str(uuid.uuid4()),
                                                "written_at": now}))
    house = templates.house_balance
    _send(out, topics.balances, owner_partition(HOUSE.account_id, topics.partitions),
          balance_key(house.account_id, house.journal_id, "USD"),
          codec().encode("balance", mapping.balance_record(house)))
    for i in range(accounts):
        account, transaction = _account(i), _transaction(i)
        catalog_bytes, balance, posted = templates.records(i)
        partition = owner_partition(account, topics.partitions)
        _send(out, topics.catalog, 0,
              codec().encode("catalog_key", {"kind": "account", "id": str(account)}),
              catalog_bytes)
        _send(out, topics.balances, partition,
              balance_key(account, templates.journal_id, "USD"), balance)
        _send(out, topics.transactions, partition, transaction_key(transaction), posted)
        if i == accounts - 1:
            _check(catalog_bytes, balance, posted, account, transaction)
    out.flush(300)
    return time.monotonic() - started


def _send(out: Producer, topic: str, partition: int, key: bytes, value: bytes) -> None:
    while True:
        try:
            out.produce(topic, value, key, partition=partition)
            out.poll(0)
            return
        except BufferError:
            out.poll(0.05)


def _check(catalog_bytes: bytes, balance: bytes, posted: bytes, account: UUID,
           transaction: UUID) -> None:
    entity = codec().decode("catalog_record", catalog_bytes)["entity"]
    assert entity[1]["account_id"] == str(account), entity
    assert codec().decode("balance", balance)["account_id"] == str(account)
    record = codec().decode("transaction", posted)
    assert record["transaction_id"] == str(transaction)
    assert {e["account_id"] for e in record["entries"]} == {str(account), str(HOUSE.account_id)}


def processor_start(bootstrap: str, topics: Topics, home: Path,
                    rss_mib: list[float]) -> tuple[float, int]:
    """Seconds from launching a processor on an empty state dir to its assignment (NaN, and
    the reason printed, when the processor gives up during start-up); the processor's
    resident memory once it holds its partitions joins ``rss_mib``."""
    state = home / "state-restore"
    shutil.rmtree(state, ignore_errors=True)
    process = ProcessorProcess(bootstrap, topics.prefix, "restore", state, home / "restore.log",
                               topics.partitions)
    started = time.monotonic()
    process.start(wait=False)
    try:
        try:
            process.wait_assigned(timeout_s=3600)
        except LedgerError as exc:
            reason = str(exc).splitlines()[-1] if str(exc).strip() else repr(exc)
            print(f"the processor did not start after {time.monotonic() - started:.0f} s: "
                  f"{reason}", flush=True)
            return math.nan, 0
        seconds = time.monotonic() - started
        assert process.pid is not None
        rss_mib.append(_rss_mib(process.pid))
        restored = sum(int(n) for n in re.findall(r"restored (\d+) state records",
                                                  process.log_since_start()))
    finally:
        process.stop()
    return seconds, restored


def _rss_mib(pid: int) -> float:
    """The resident set of process ``pid`` (Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def state_restore(bootstrap: str, topics: Topics) -> tuple[float, int]:
    """Seconds for ``restore`` of every partition into empty stores, in this process."""
    folder = Path(tempfile.mkdtemp(dir=BENCH_HOME))
    started = time.monotonic()
    count = 0
    try:
        for partition in range(topics.partitions):
            identity = StateIdentity("bench", topics.prefix, topics.partitions, partition)
            store = PartitionState(folder / f"partition-{partition}", identity)
            count += restore(bootstrap, store, {topics.balances: BALANCE,
                                                topics.transactions: TRANSACTION}, partition)
            store.close()
        return time.monotonic() - started, count
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def catalog_read(bootstrap: str, topics: Topics) -> tuple[float, int]:
    """Seconds to read the whole catalog into a Catalog, in this process."""
    started = time.monotonic()
    reader = CatalogReader(bootstrap, topics.catalog)
    try:
        reader.catch_up()
        return time.monotonic() - started, reader.position
    finally:
        reader.close()


def main(argv: list[str] | None = None) -> str:
    """Generate, run, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--accounts", type=int, default=1_000_000)
    p.add_argument("--partitions", type=int, default=6)
    args = p.parse_args(argv)
    stop_on_sigterm()
    figures: dict[str, list[float]] = {"processor start": [], "state restore": [],
                                       "catalog read": []}
    counts: dict[str, int] = {}
    rss_mib: list[float] = []
    with broker() as bootstrap:
        topics = Topics(fresh_prefix("restore"), args.partitions)
        home = BENCH_HOME / "runs" / topics.prefix
        home.mkdir(parents=True, exist_ok=True)
        try:
            generated = generate(bootstrap, topics, args.accounts)
            print(f"wrote {args.accounts:,} accounts' catalog, balances and transactions "
                  f"in {generated:.0f} s", flush=True)
            steps: list[tuple[str, Callable[[], tuple[float, int]]]] = [
                ("processor start", lambda: processor_start(bootstrap, topics, home, rss_mib)),
                ("state restore", lambda: state_restore(bootstrap, topics)),
                ("catalog read", lambda: catalog_read(bootstrap, topics)),
            ]
            for run_index in range(args.runs):
                for name, step in steps:
                    seconds, count = step()
                    figures[name].append(seconds)
                    counts[name] = count
                    print(f"run {run_index + 1}/{args.runs} {name}: {seconds:,.1f} s "
                          f"({count:,} records)", flush=True)
        finally:
            delete_topics(bootstrap, topics.prefix)
            shutil.rmtree(home, ignore_errors=True)
    rows = [(name, median(values), " ".join(f"{v:,.1f}" for v in values),
             f"{counts[name]:,}", counts[name] / median(values))
            for name, values in figures.items()]
    text = table(["step", "seconds (median)", "runs", "records", "records/s"], rows)
    text += (f"\n\n{args.accounts:,} accounts (one balance and one posted transaction each "
             f"on the changelogs, and the account in the catalog), {args.partitions} "
             f"partitions, {args.runs} runs. 'processor start' is what a new machine waits "
             "for: the catalog read and every partition's restore, in one process.")
    if rss_mib:
        text += (f"\nProcessor resident memory once it holds its partitions: "
                 f"{median(rss_mib):,.0f} MiB (median; runs: "
                 + " ".join(f"{v:,.0f}" for v in rss_mib) + "; goal < 1,024 MiB).")
    print(text, flush=True)
    save("restore", {"settings": vars(args), "seconds": figures, "records": counts,
                     "rss_mib": rss_mib, "report": text})
    return text


if __name__ == "__main__":
    main()
