"""Two processors under concurrent load: no overdraft, and legs that converge."""

import random
import uuid
from decimal import Decimal
from typing import Any

from ledger_core import Balance, Layer
from schemas import mapping
from schemas.codec import codec
from streams.partitioning import owner_partition
from tests.streams.bank import HOUSE, open_bank
from tests.streams.conftest import KafkaLedger, fold_entries

WITHDRAWALS = 500


def test_no_overdraft_under_500_concurrent_withdrawals_on_two_processors(
    kafka_ledger: KafkaLedger,
) -> None:
    """Accepted plus rejected equals sent, and no balance version of a customer goes below 0."""
    kafka_ledger.add_processor("p1")
    kafka_ledger.add_processor("p2")
    client = kafka_ledger.client()
    bank = open_bank(client, customers=5)
    funding = [client.send_post(uuid.uuid4(), "DEPOSIT",
                                {"account": str(c.account_id), "amount": "100.00"},
                                owner=c.account_id) for c in bank.customers]
    assert {r.status for r in client.wait(funding, 60).values()} == {"POSTED"}

    rng = random.Random(20261122)
    sent = []
    for _ in range(WITHDRAWALS):
        customer = rng.choice(bank.customers)
        amount = f"{rng.randint(100, 2500) / 100:.2f}"
        sent.append(client.send_post(uuid.uuid4(), "WITHDRAW",
                                     {"account": str(customer.account_id), "amount": amount},
                                     owner=customer.account_id))
    results = client.wait(sent, 120)

    statuses = [r.status for r in results.values()]
    rejected = [r for r in results.values() if r.status == "REJECTED"]
    assert len(results) == WITHDRAWALS
    assert statuses.count("POSTED") + len(rejected) == WITHDRAWALS
    assert rejected and {r.code for r in rejected} == {"velocity_limit_exceeded"}
    assert statuses.count("POSTED") > 0

    customer_ids = {c.account_id for c in bank.customers}
    versions = [b for m in kafka_ledger.read(kafka_ledger.topics.balances)
                if (b := _balance(m)).account_id in customer_ids]
    assert len(versions) >= len(bank.customers) + statuses.count("POSTED")
    assert min(b.available(Layer.SETTLED).normal_balance for b in versions) >= 0


def test_legs_converge_on_the_house_account(kafka_ledger: KafkaLedger) -> None:
    """Postings owned by customers on every partition leave the house at the sum of its legs."""
    kafka_ledger.add_processor("p1")
    kafka_ledger.add_processor("p2")
    client = kafka_ledger.client()
    bank = open_bank(client, customers=12, limited=False)
    rng = random.Random(7)
    sent, total = [], Decimal(0)
    for _ in range(300):
        customer = rng.choice(bank.customers)
        amount = Decimal(rng.randint(1, 10_000)) / 100
        total += amount
        sent.append(client.send_post(uuid.uuid4(), "DEPOSIT",
                                     {"account": str(customer.account_id), "amount": str(amount)},
                                     owner=customer.account_id))
    assert {r.status for r in client.wait(sent, 120).values()} == {"POSTED"}
    client.wait_converged(60)

    [house] = client.balances(HOUSE.account_id)
    folded = fold_entries(kafka_ledger.entries(), bank.normal_types)
    assert house.settled.normal_balance == total
    assert folded[(HOUSE.account_id, house.journal_id, "USD")].settled == house.settled
    owners = {owner_partition(c.account_id, client.partitions) for c in bank.customers}
    assert owners - {owner_partition(HOUSE.account_id, client.partitions)}, "no remote legs"


def _balance(message: Any) -> Balance:
    return mapping.balance_from(codec().decode("balance", message.value()))
