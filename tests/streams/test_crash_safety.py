"""SIGKILL a processor mid-batch, again and again: nothing lost, nothing doubled."""

import random
import threading
import time
import uuid
from collections import Counter

from tests.streams.bank import open_bank
from tests.streams.conftest import KafkaLedger, amounts, fold_entries

COMMANDS = 1500
KILLS = 5


def test_five_sigkills_mid_batch_lose_and_double_nothing(kafka_ledger: KafkaLedger) -> None:
    """Each command gets one result, each posting's entries appear once, balances = fold."""
    processor = kafka_ledger.add_processor("crashy")
    client = kafka_ledger.client()
    bank = open_bank(client, customers=20)
    rng = random.Random(5)
    sent: list[str] = []

    def load() -> None:
        for i in range(COMMANDS):
            customer = rng.choice(bank.customers)
            code = "DEPOSIT" if i % 3 else "WITHDRAW"
            amount = f"{rng.randint(1, 5000) / 100:.2f}"
            sent.append(client.send_post(uuid.uuid4(), code,
                                         {"account": str(customer.account_id),
                                          "amount": amount}, owner=customer.account_id))
            time.sleep(0.003)

    sender = threading.Thread(target=load)
    sender.start()
    kills = random.Random(11)
    for _ in range(KILLS):
        time.sleep(kills.uniform(0.4, 1.2))
        processor.kill()
        processor.start()
    sender.join()
    results = client.wait(sent, 180)

    result_counts = Counter(r["command_id"] for r in kafka_ledger.results())
    posted = {r.transaction_id for r in results.values() if r.status == "POSTED"}
    entries = kafka_ledger.entries()
    per_transaction = Counter(str(e.transaction_id) for e in entries)
    entry_ids = Counter(e.entry_id for e in entries)

    assert len(results) == COMMANDS
    assert all(result_counts[command_id] == 1 for command_id in sent)
    assert {r.code for r in results.values() if r.status == "REJECTED"} <= {
        "velocity_limit_exceeded"}
    assert set(per_transaction) == posted
    assert set(per_transaction.values()) == {2}
    assert max(entry_ids.values()) == 1
    client.wait_converged(60)
    assert amounts(kafka_ledger.cdc_balances()) == amounts(
        fold_entries(entries, bank.normal_types))
    assert "restored" in processor.log_since_start()
