"""The postings every benchmark sends: the tutorial's ACH_CREDIT (a 2-leg posting that
debits the house ASSETS account and credits a customer's checking account) and, for the
hot-account benchmark, a BOOK_TRANSFER between two customers that leaves the house alone.

Customers own their postings (commands are keyed by the customer), so the house account
receives its leg through the legs topic whenever it lives on another partition. Amounts are
decimal strings with two places, drawn from a seeded generator; never floats.

The peer apps (pass-through, faust, quixstreams) get the same postings as a plain JSON
command carrying the command id, the two account ids and the decimal amount.
"""

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

from ledger_core import Account, Direction, Journal, PostTransaction, TranCode, tutorial
from ledger_core.catalog import CatalogKind
from schemas import mapping
from schemas.codec import codec
from streams.outputs import command_key
from streams.partitioning import account_key, owner_partition, partition_for_key

HOUSE = tutorial.ASSETS
EFFECTIVE = date(2022, 9, 21).isoformat()
BOOK_TRANSFER = TranCode.model_validate({
    "tranCodeId": "b0000000-0000-4000-8000-0000000000b1",
    "code": "BOOK_TRANSFER",
    "description": "A transfer between two customers' checking accounts.",
    "params": [{"name": "from", "type": "UUID"}, {"name": "to", "type": "UUID"},
               {"name": "amount", "type": "DECIMAL"}, {"name": "effective", "type": "DATE"}],
    "transaction": {"journalId": f"uuid('{tutorial.JOURNAL.journal_id}')",
                    "effective": "params.effective"},
    "entries": [
        {"accountId": "params.from", "units": "params.amount", "currency": "'USD'",
         "direction": "DEBIT", "layer": "SETTLED"},
        {"accountId": "params.to", "units": "params.amount", "currency": "'USD'",
         "direction": "CREDIT", "layer": "SETTLED"},
    ],
})


def customers(count: int, seed: int = 1) -> list[Account]:
    """``count`` credit-normal checking accounts with ids fixed by ``seed``."""
    rng = random.Random(seed)
    return [Account(account_id=UUID(int=rng.getrandbits(128), version=4),
                    code=f"BENCH.CHECKING.{seed}.{i}", name=f"Customer {i} - Checking",
                    normal_balance_type=Direction.CREDIT) for i in range(count)]


def catalog(accounts: list[Account]) -> list[Journal | Account | TranCode]:
    """Every entity the ledger needs before the postings: journal, house, codes, customers."""
    return [tutorial.JOURNAL, HOUSE, tutorial.ACH_CREDIT, BOOK_TRANSFER, *accounts]


# The sets of bench.account_sets: every customer, and groups of customers inside it.
EVERYONE = UUID("5e7a11a1-0000-4000-8000-000000000001")
GROUPS = 10


def set_catalog(accounts: list[Account], depth: int) -> list[tuple[CatalogKind, dict[str, Any]]]:
    """Catalog commands that put every customer's entries in ``depth`` nested account sets
    of the tutorial journal: none; one set of every customer (a set as popular as a set can
    be); or that set holding ten group sets, each customer in one group."""
    assert depth in (0, 1, 2), "a depth of 0, 1 or 2"
    if depth == 0:
        return []
    journal = str(tutorial.JOURNAL_ID)
    commands = [(CatalogKind.CREATE_ACCOUNT_SET, {"accountSetId": str(EVERYONE),
                                                  "journalId": journal, "name": "Everyone"})]
    parents = [EVERYONE]
    if depth == 2:
        parents = [uuid5(EVERYONE, f"group-{g}") for g in range(GROUPS)]
        for group in parents:
            commands.append((CatalogKind.CREATE_ACCOUNT_SET, {
                "accountSetId": str(group), "journalId": journal, "name": f"Group {group}"}))
            commands.append((CatalogKind.ADD_TO_ACCOUNT_SET, {
                "accountSetId": str(EVERYONE), "memberId": str(group),
                "memberType": "ACCOUNT_SET"}))
    commands += [(CatalogKind.ADD_TO_ACCOUNT_SET, {
        "accountSetId": str(parents[i % len(parents)]), "memberId": str(account.account_id),
        "memberType": "ACCOUNT"}) for i, account in enumerate(accounts)]
    return commands


@dataclass(frozen=True)
class Posting:
    """One posting to send: where, the bytes, and the key its result will carry."""

    topic_suffix: str
    partition: int
    key: bytes
    value: bytes
    result_key: bytes


def amount(rng: random.Random) -> str:
    """A decimal amount between 0.01 and 500.00."""
    cents = rng.randint(1, 50_000)
    return f"{cents // 100}.{cents % 100:02d}"


class LedgerPostings:
    """Encodes ledger commands: ACH_CREDIT with a share of house postings, else transfers."""

    def __init__(self, accounts: list[Account], partitions: int, house_share: float = 1.0,
                 seed: int = 7) -> None:
        self.accounts = accounts
        self.partitions = partitions
        self.house_share = house_share
        self.rng = random.Random(seed)

    def make(self, count: int) -> list[Posting]:
        """``count`` encoded commands (encoding is done here, outside any timed section)."""
        sent_at = datetime.now(UTC)
        return [self._one(sent_at) for _ in range(count)]

    def _one(self, sent_at: datetime) -> Posting:
        rng = self.rng
        customer = rng.choice(self.accounts)
        if rng.random() < self.house_share:
            command = PostTransaction(
                transaction_id=UUID(int=rng.getrandbits(128), version=4), tran_code="ACH_CREDIT",
                params={"account": str(customer.account_id), "amount": amount(rng),
                        "effective": EFFECTIVE})
        else:
            other = rng.choice(self.accounts)
            while other is customer:
                other = rng.choice(self.accounts)
            command = PostTransaction(
                transaction_id=UUID(int=rng.getrandbits(128), version=4),
                tran_code="BOOK_TRANSFER",
                params={"from": str(customer.account_id), "to": str(other.account_id),
                        "amount": amount(rng), "effective": EFFECTIVE})
        command_id = str(uuid.uuid4())
        record = mapping.command_record(command, command_id, sent_at)
        return Posting("commands", owner_partition(customer.account_id, self.partitions),
                       account_key(customer.account_id), codec().encode("command", record),
                       command_key(command_id))


class JsonPostings:
    """The same ACH_CREDIT postings as plain JSON commands, for the peer apps."""

    def __init__(self, accounts: list[Account], partitions: int, seed: int = 7) -> None:
        self.accounts = [str(a.account_id) for a in accounts]
        self.partitions = partitions
        self.house = str(HOUSE.account_id)
        self.rng = random.Random(seed)

    def make(self, count: int) -> list[Posting]:
        """``count`` encoded JSON commands."""
        out = []
        for _ in range(count):
            customer = self.rng.choice(self.accounts)
            command_id = str(uuid.uuid4())
            value = json.dumps({"command_id": command_id, "account": customer,
                                "house": self.house, "amount": amount(self.rng)}).encode()
            key = customer.encode()
            out.append(Posting("commands", partition_for_key(key, self.partitions), key, value,
                               command_id.encode()))
        return out


def house_is_remote_share(accounts: list[Account], partitions: int) -> float:
    """The share of customers whose postings send the house leg to another partition."""
    house = owner_partition(HOUSE.account_id, partitions)
    remote = sum(owner_partition(a.account_id, partitions) != house for a in accounts)
    return remote / len(accounts)
