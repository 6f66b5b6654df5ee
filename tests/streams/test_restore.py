"""Restoring processor state: resume without replay, or rebuild from Kafka alone."""

import re
import shutil
import uuid

from ledger_core import Layer
from tests.streams.bank import open_bank
from tests.streams.conftest import KafkaLedger, amounts, fold_entries

POSTINGS = 200


def _restored(log: str) -> int:
    return sum(int(n) for n in re.findall(r"restored (\d+) state records", log))


def test_restart_with_intact_state_resumes_and_an_empty_state_dir_rebuilds(
    kafka_ledger: KafkaLedger,
) -> None:
    """A clean restart restores nothing; a deleted state dir is rebuilt to the same balances."""
    processor = kafka_ledger.add_processor("keeper")
    client = kafka_ledger.client()
    bank = open_bank(client, customers=8)
    sent = [client.send_post(uuid.uuid4(), "DEPOSIT",
                             {"account": str(c.account_id), "amount": "10.00"},
                             owner=c.account_id) for c in bank.customers for _ in range(25)]
    results = client.wait(sent, 120)
    assert {r.status for r in results.values()} == {"POSTED"}
    client.wait_converged(60)

    processor.stop()
    processor.start()
    assert _restored(processor.log_since_start()) == 0

    processor.stop()
    shutil.rmtree(processor.state_dir)
    processor.start()
    rebuilt = _restored(processor.log_since_start())
    # every posting wrote a transaction record and a customer balance; the house balance too
    assert rebuilt >= 2 * POSTINGS

    # The rebuilt state still knows every transaction id and every balance a limit needs.
    # sent[0] was customer 0's first deposit
    again = results[sent[0]].transaction_id
    assert again is not None
    duplicate = client.post(uuid.UUID(again), "DEPOSIT",
                            {"account": str(bank.customers[0].account_id), "amount": "10.00"},
                            owner=bank.customers[0].account_id)
    assert duplicate.code == "transaction_id_duplicate"
    overdraw = client.post(uuid.uuid4(), "WITHDRAW",
                           {"account": str(bank.customers[1].account_id), "amount": "250.01"},
                           owner=bank.customers[1].account_id)
    assert overdraw.code == "velocity_limit_exceeded"
    exact = client.post(uuid.uuid4(), "WITHDRAW",
                        {"account": str(bank.customers[1].account_id), "amount": "250.00"},
                        owner=bank.customers[1].account_id)
    assert exact.status == "POSTED"
    client.wait_converged(60)
    [emptied] = client.balances(bank.customers[1].account_id)
    assert emptied.available(Layer.SETTLED).normal_balance == 0
    assert amounts(kafka_ledger.cdc_balances()) == amounts(
        fold_entries(kafka_ledger.entries(), bank.normal_types))
