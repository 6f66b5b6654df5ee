"""`ledger audit` on a real ledger with account sets: the set balances on the balances topic
are proven against the entries that name them, and a forged one is caught."""

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from confluent_kafka import Producer

from ledger_core import (
    DEFAULT_JOURNAL_ID,
    AccountSet,
    AccountSetMember,
    Direction,
    Journal,
    MemberType,
)
from ledger_core.catalog import CatalogKind
from schemas.codec import codec
from streams.client import LedgerClient
from streams.partitioning import owner_partition
from tests.streams.bank import HOUSE, open_bank
from tests.streams.conftest import KafkaLedger


def _audit(ledger: KafkaLedger) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "audit", "--json", "--no-progress",
         "--bootstrap-servers", ledger.bootstrap, "--topic-prefix", ledger.topics.prefix],
        capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _id_on(partition: int, partitions: int) -> UUID:
    """A fresh id whose owner is ``partition``."""
    while True:
        candidate = uuid.uuid4()
        if owner_partition(candidate, partitions) == partition:
            return candidate


def _set(client: LedgerClient, set_id: UUID, name: str, normal: Direction,
         journal_id: UUID = DEFAULT_JOURNAL_ID) -> UUID:
    account_set = AccountSet(account_set_id=set_id, journal_id=journal_id,
                             code=f"{name}.{set_id.hex[:6]}", name=name,
                             normal_balance_type=normal)
    assert client.create(account_set).status == "APPLIED"
    return set_id


def _add(client: LedgerClient, set_id: UUID, member: UUID,
         member_type: MemberType = MemberType.ACCOUNT) -> None:
    result = client.create(AccountSetMember(account_set_id=set_id, member_id=member,
                                            member_type=member_type))
    assert result.status == "APPLIED", result


def _deposit(client: LedgerClient, customer: UUID, amount: str) -> str:
    result = client.post(uuid.uuid4(), "DEPOSIT", {"account": str(customer), "amount": amount},
                         customer)
    assert result.status == "POSTED", result
    assert result.transaction_id is not None
    return result.transaction_id


def _totals(record: dict[str, Any]) -> tuple[Decimal, ...]:
    return (*(Decimal(record[layer][side]) for layer in ("settled", "pending", "encumbrance")
              for side in ("dr_balance", "cr_balance")), Decimal(record["version"]))


@dataclass(frozen=True)
class _Sets:
    everyone: UUID
    team: UUID
    pair: UUID
    elsewhere: UUID


def _open_sets(client: LedgerClient, customers: list[UUID], partitions: int) -> _Sets:
    """ALL (debit-normal) holds every customer and TEAM, which holds the first three; PAIR
    holds the first and the fourth; ELSEWHERE, in another journal, the first two. ALL and
    TEAM live on two partitions that are neither the house's nor the first customer's, so
    the first customer's entries have legs on both."""
    taken = {owner_partition(HOUSE.account_id, partitions),
             owner_partition(customers[0], partitions)}
    all_p, team_p = [p for p in range(partitions) if p not in taken][:2]
    other = Journal(journal_id=uuid.uuid4(), name="Other books", code="OTHER")
    assert client.create(other).status == "APPLIED"
    sets = _Sets(_set(client, _id_on(all_p, partitions), "ALL", Direction.DEBIT),
                 _set(client, _id_on(team_p, partitions), "TEAM", Direction.CREDIT),
                 _set(client, uuid.uuid4(), "PAIR", Direction.CREDIT),
                 _set(client, uuid.uuid4(), "ELSEWHERE", Direction.CREDIT, other.journal_id))
    for customer in customers:
        _add(client, sets.everyone, customer)
    _add(client, sets.everyone, sets.team, MemberType.ACCOUNT_SET)
    for customer in customers[:3]:
        _add(client, sets.team, customer)
    for customer in (customers[0], customers[3]):
        _add(client, sets.pair, customer)
    for customer in customers[:2]:
        _add(client, sets.elsewhere, customer)
    return sets


def _latest(ledger: KafkaLedger) -> dict[tuple[str, str, str], tuple[dict[str, Any], Any]]:
    """The latest record of every balance key, with its message."""
    latest = {}
    for message in ledger.read(ledger.topics.balances):
        record = codec().decode("balance", message.value())
        latest[(record["account_id"], record["journal_id"], record["currency"])] = (
            record, message)
    return latest


def _most_leg_copies(ledger: KafkaLedger) -> int:
    copies: dict[str, int] = {}
    for message in ledger.read(ledger.topics.legs):
        entry_id = codec().decode("entry", message.value())["entry_id"]
        copies[entry_id] = copies.get(entry_id, 0) + 1
    return max(copies.values())


def test_set_balances_audit_clean_and_a_forged_set_balance_is_caught(
    kafka_ledger: KafkaLedger,
) -> None:
    """A nested set, a customer in three sets, a member removed half-way, a void and a set
    of another journal that default-journal entries must not reach; the sets live on
    partitions other than the house's, so one entry has legs on several partitions. The
    audit finds nothing; a forged ALL balance and a balance for an id that is no account
    or set are named."""
    partitions = kafka_ledger.topics.partitions
    processor = kafka_ledger.add_processor()
    client = kafka_ledger.client()
    customers = [c.account_id for c in open_bank(client, customers=8, limited=False).customers]
    sets = _open_sets(client, customers, partitions)
    removed = customers[2]
    posted = [_deposit(client, c, f"{i + 1}.25") for i, c in enumerate(customers)]
    posted += [_deposit(client, c, "2.00") for c in customers]
    result = client.catalog(CatalogKind.REMOVE_FROM_ACCOUNT_SET, {
        "accountSetId": str(sets.team), "memberId": str(removed), "memberType": "ACCOUNT"})
    assert result.status == "APPLIED", result
    posted += [_deposit(client, c, "0.50") for c in customers]
    # A void repeats the sets of the entries it reverses.
    assert client.void(uuid.UUID(posted[0]), customers[0]).status == "POSTED"
    client.wait_converged(60)
    processor.stop()

    latest = _latest(kafka_ledger)
    default = str(DEFAULT_JOURNAL_ID)

    def totals(owner: UUID) -> tuple[Decimal, ...]:
        return _totals(latest[(str(owner), default, "USD")][0])

    def summed(members: list[UUID]) -> tuple[Decimal, ...]:
        return tuple(sum(column, Decimal(0)) for column in zip(*map(totals, members),
                                                               strict=True))

    assert totals(sets.everyone) == summed(customers)
    assert latest[(str(sets.everyone), default, "USD")][0]["normal_balance_type"] == "DEBIT"
    # TEAM: two customers in full, the removed one's first two deposits only.
    expected_team = list(summed(customers[:2]))
    expected_team[1] += Decimal("3.25") + Decimal("2.00")
    expected_team[6] += 2
    assert totals(sets.team) == tuple(expected_team)
    assert totals(sets.pair) == summed([customers[0], customers[3]])
    assert not [key for key in latest if key[0] == str(sets.elsewhere)]
    assert _most_leg_copies(kafka_ledger) >= 2, "no entry had legs on two partitions"

    code, report = _audit(kafka_ledger)
    assert (code, report["violations"]) == (0, [])
    # `ledger audit --account` folds a set's balance from its members' partitions.
    as_of = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "audit", "--json", "--account", str(sets.everyone),
         "--bootstrap-servers", kafka_ledger.bootstrap,
         "--topic-prefix", kafka_ledger.topics.prefix],
        capture_output=True, text=True, timeout=300, check=False)
    assert as_of.returncode == 0, as_of.stderr
    [folded] = json.loads(as_of.stdout)["balances"]
    everyone = latest[(str(sets.everyone), default, "USD")][0]
    assert (folded["version"], folded["settled"]["normalBalance"]) == (
        everyone["version"], everyone["settled"]["normal_balance"])

    record, message = latest[(str(sets.everyone), default, "USD")]
    forged = {**record, "settled": {
        "dr_balance": str(Decimal(record["settled"]["dr_balance"]) + 1),
        "cr_balance": record["settled"]["cr_balance"],
        "normal_balance": str(Decimal(record["settled"]["normal_balance"]) + 1)}}
    stranger = uuid.uuid4()
    tamper = Producer({"bootstrap.servers": kafka_ledger.bootstrap})
    tamper.produce(message.topic(), codec().encode("balance", forged), message.key(),
                   partition=message.partition())
    tamper.produce(message.topic(),
                   codec().encode("balance", {**record, "account_id": str(stranger)}),
                   b"ghost", partition=owner_partition(stranger, partitions))
    assert tamper.flush(30) == 0

    code, report = _audit(kafka_ledger)
    assert code == 1
    assert sorted((v["rule"], v["ids"]["account_id"]) for v in report["violations"]) == sorted([
        ("cdc_must_equal_the_replay", str(sets.everyone)),
        ("cdc_must_equal_the_replay", str(stranger))])
    [caught] = [v for v in report["violations"] if v["ids"]["account_id"] == str(sets.everyone)]
    assert f"balance of set {sets.everyone}" in caught["message"]
