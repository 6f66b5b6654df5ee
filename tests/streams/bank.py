"""A small bank for Kafka tests: a house account, customers with no-overdraft limits, and
deposit / withdraw tran codes. Customers own their postings; the house receives legs."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from ledger_core import Account, Direction, Layer, TranCode, VelocityLimit
from streams.client import LedgerClient

HOUSE = Account(account_id=UUID("5e7a0c1e-0000-4000-8000-00000000a55e"), code="HOUSE",
                name="House cash", normal_balance_type=Direction.DEBIT)


def _tran_code(code: str, debit: str, credit: str) -> TranCode:
    return TranCode.model_validate({
        "tranCodeId": str(uuid.uuid5(HOUSE.account_id, code)), "code": code,
        "params": [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"}],
        "entries": [
            {"accountId": debit, "units": "params.amount", "currency": "'USD'",
             "direction": "DEBIT"},
            {"accountId": credit, "units": "params.amount", "currency": "'USD'",
             "direction": "CREDIT"},
        ],
    })


HOUSE_EXPR = f"uuid('{HOUSE.account_id}')"
DEPOSIT = _tran_code("DEPOSIT", HOUSE_EXPR, "params.account")
WITHDRAW = _tran_code("WITHDRAW", "params.account", HOUSE_EXPR)


@dataclass(frozen=True)
class Bank:
    """The customers of one test."""

    customers: tuple[Account, ...]

    @property
    def normal_types(self) -> dict[UUID, Direction]:
        """Normal balance type of every account, for folding entries."""
        return {a.account_id: a.normal_balance_type for a in (HOUSE, *self.customers)}


def open_bank(client: LedgerClient, customers: int, limited: bool = True) -> Bank:
    """Create the house, ``customers`` customer accounts (no overdraft on SETTLED), and codes."""
    accounts = tuple(Account(account_id=uuid.uuid4(), code=f"CUST.{i}.{uuid.uuid4().hex[:6]}",
                             name=f"Customer {i}") for i in range(customers))
    entities: list[object] = [HOUSE, DEPOSIT, WITHDRAW, *accounts]
    if limited:
        entities += [VelocityLimit.no_overdraft(a.account_id, layer=Layer.SETTLED)
                     for a in accounts]
    for entity in entities:
        result = client.create(entity)  # type: ignore[arg-type]
        assert result.status == "APPLIED", result
    return Bank(accounts)


def money(value: Decimal) -> str:
    """A decimal amount as a wire string."""
    return format(value, "f")
