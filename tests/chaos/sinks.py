"""The sinks under chaos: the Parquet sink and the webhook sink run beside the processors of
the faulty run, are SIGKILLed and restarted at seeded instants, live through the broker's
restarts, and are proven at the end.

- Parquet: after a last run to the end, DuckDB over the files holds every entry of the topic
  exactly once, and every account's sums per layer equal its balance.
- Webhooks: every balance version on the topic reached the receiver (which fails some first
  attempts and drops some connections, by the event's id), versions of one key arrived in
  order, and a re-delivery carried the same ``webhook-id`` and the same body.
"""

import hashlib
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from connectors.parquet_sink import Warehouse
from schemas.codec import codec
from streams.reading import read_committed
from streams.topics import Topics
from tests.sink_process import SinkProcess
from tests.webhooks.receiver import Answer, Receiver

DELIVERY_TIMEOUT_S = 300.0
LAYERS = ("settled", "pending", "encumbrance")
BalanceKey = tuple[str, str, str]


def _flaky(_path: str, webhook_id: str, attempt: int, _event: dict[str, Any]) -> Answer:
    """One event in eight fails its first attempt with a 503, one in sixteen has its first
    connection dropped: retries happen under the faults, chosen by the id, not by chance."""
    draw = int(hashlib.sha256(webhook_id.encode()).hexdigest()[:4], 16)
    if attempt == 1 and draw % 8 == 0:
        return Answer(status=503)
    if attempt == 1 and draw % 16 == 1:
        return Answer(drop=True)
    return Answer()


class ChaosSinks:
    """Both sinks of one run, and the receiver of its webhooks."""

    def __init__(self, bootstrap: str, topics: Topics, home: Path) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.warehouse = home / "warehouse"
        self.receiver = Receiver(_flaky)
        url, secret = self.receiver.endpoint("chaos")
        config = home / "webhooks.yaml"
        config.write_text(yaml.safe_dump({
            "subscriptions": [{"id": "chaos", "url": url, "secret": secret,
                               "events": ["balance.updated"], "start": "earliest"}],
            "retry": {"initial_backoff_seconds": 0.1, "max_backoff_seconds": 2,
                      "max_attempts": 50}}))
        kafka = ["--bootstrap-servers", bootstrap, "--topic-prefix", topics.prefix]
        # Small files and short rolls, so that kills land while files are written and renamed.
        self._parquet = ["parquet", "run", "--out", str(self.warehouse), "--roll-records", "50",
                         "--roll-seconds", "0.5", *kafka]
        self.sinks = {
            "parquet": SinkProcess(self._parquet, home / "parquet-sink.log"),
            "webhook": SinkProcess(["webhook", "run", "--config", str(config), *kafka],
                                   home / "webhook-sink.log"),
        }

    def start(self) -> None:
        """Start both."""
        for sink in self.sinks.values():
            sink.start()

    def kill(self, name: str) -> str:
        """SIGKILL one sink and start it again; the fault's description."""
        self.sinks[name].kill()
        self.sinks[name].start()
        return f"SIGKILL the {name} sink"

    def revive(self) -> list[str]:
        """Restart a sink that exited by itself (a supervisor's job)."""
        revived = []
        for name, sink in self.sinks.items():
            if sink.process is not None and not sink.alive:
                revived.append(f"the {name} sink exited by itself; restarted")
                sink.start()
        return revived

    def prove(self, entries: int) -> list[str]:
        """Everything wrong with what the sinks delivered once the ledger has converged and
        the topics hold ``entries`` entries; stops both sinks."""
        balances = self._balance_versions()
        problems = self._webhook_problems(balances)
        self.sinks["webhook"].stop()
        self.receiver.close()
        self.sinks["parquet"].stop()
        final = SinkProcess([*self._parquet, "--until-end"], self.sinks["parquet"].log).start()
        status = final.wait(600)
        if status != 0:
            return [*problems, f"the Parquet sink's run to the end exited {status}"]
        return problems + self._warehouse_problems(entries, balances)

    def _balance_versions(self) -> dict[BalanceKey, list[dict[str, Any]]]:
        versions: dict[BalanceKey, list[dict[str, Any]]] = defaultdict(list)
        for message in read_committed(self.bootstrap, self.topics.balances,
                                      range(self.topics.partitions)):
            record = codec().decode("balance", message.value())
            versions[(record["account_id"], record["journal_id"], record["currency"])].append(
                record)
        return versions

    def _webhook_problems(self, balances: dict[BalanceKey, list[dict[str, Any]]]
                          ) -> list[str]:
        wanted = {(key, record["version"]) for key, records in balances.items()
                  for record in records}

        def delivered() -> set[tuple[BalanceKey, int]]:
            return {(_key(r.data), r.data["version"]) for r in self.receiver.accepted("chaos")}

        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while not wanted <= delivered() and time.monotonic() < deadline:
            self.revive()
            time.sleep(0.5)
        problems = [f"webhook: {len(wanted - delivered())} balance versions never delivered, "
                    f"e.g. {sorted(wanted - delivered())[:1]}"] if wanted - delivered() else []
        problems += [f"webhook: unverified request {u}" for u in self.receiver.unverified]
        # In order per key: a version arrives for the first time only after every earlier
        # version of its key did (a restart re-delivers from its last commit, in order).
        on_topic = {key: {r["version"] for r in records} for key, records in balances.items()}
        arrived: dict[BalanceKey, set[int]] = defaultdict(set)
        bodies: dict[str, set[bytes]] = defaultdict(set)
        for received in self.receiver.accepted("chaos"):
            key, version = _key(received.data), received.data["version"]
            bodies[received.webhook_id].add(received.body)
            missing = {v for v in on_topic.get(key, set()) if v < version} - arrived[key]
            if version not in arrived[key] and missing:
                problems.append(f"webhook: version {version} of {key} arrived before "
                                f"versions {sorted(missing)}")
            arrived[key].add(version)
        problems += [f"webhook: {webhook_id} was re-delivered with another body"
                     for webhook_id, seen in bodies.items() if len(seen) > 1]
        return problems

    def _warehouse_problems(self, entries: int,
                            balances: dict[BalanceKey, list[dict[str, Any]]]) -> list[str]:
        warehouse = Warehouse(str(self.warehouse))
        [(rows, distinct)] = warehouse.connection.sql(
            "SELECT count(*), count(DISTINCT entry_id) FROM entries").fetchall()
        problems = []
        if (rows, distinct) != (entries, entries):
            problems.append(f"parquet: {rows} entry rows, {distinct} distinct entry ids; the "
                            f"topic holds {entries} entries")
        sums = {(a, j, c, layer.lower(), direction): total for a, j, c, layer, direction, total
                in warehouse.connection.sql(
                    "SELECT account_id, journal_id, currency, layer, direction, sum(units) "
                    "FROM entries GROUP BY ALL").fetchall()}
        for key, records in balances.items():
            latest = max(records, key=lambda r: r["version"])
            for layer in LAYERS:
                for side, direction in (("dr_balance", "DEBIT"), ("cr_balance", "CREDIT")):
                    written = sums.get((*key, layer, direction), Decimal(0))
                    if written != Decimal(latest[layer][side]):
                        problems.append(f"parquet: {key} {layer} {direction} sums to {written}, "
                                        f"its balance says {latest[layer][side]}")
        return problems


def _key(data: dict[str, Any]) -> BalanceKey:
    return (data["accountId"], data["journalId"], data["currency"])
