"""A small chart of accounts created through the API: a house account, DEPOSIT and WITHDRAW
tran codes (with an optional fee entry), and customers created per test; and books of
their own (a journal and a tran code that posts into it on a given effective date)."""

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from streams.partitioning import owner_partition
from tests.api.conftest import LiveApi

CREATE_ACCOUNT = """
mutation Open($input: AccountInput!) { createAccount(input: $input) { accountId code } }
"""

CREATE_TRAN_CODE = """
mutation Define($input: TranCodeInput!) { createTranCode(input: $input) { tranCodeId version } }
"""

CREATE_BOOKS = """
mutation J($id: UUID!, $enabled: Boolean) {
  createJournal(input: {journalId: $id, name: "books",
                        config: {enableEffectiveBalances: $enabled}}) {
    journalId config { enableEffectiveBalances }
  }
}
"""

POST = """
mutation Post($id: UUID!, $code: String!, $params: JSON) {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
    transactionId
    entries(first: 10) { nodes { accountId units direction entryType } }
  }
}
"""

BALANCE = """
query Balance($id: UUID!, $currency: CurrencyCode = "USD") {
  account(id: $id) {
    balance(currency: $currency) {
      settled { drBalance { units } crBalance { units } normalBalance { units currency } }
    }
  }
}
"""


@dataclass(frozen=True)
class Chart:
    """The ids of one chart: the house account and the tran codes' codes."""

    house: UUID
    deposit: str
    withdraw: str
    fee_account: UUID


def _entry(account: str, direction: str, units: str = "params.amount",
           condition: str | None = None) -> dict[str, str]:
    entry = {"accountId": account, "units": units, "currency": "'USD'",
             "direction": direction}
    if condition is not None:
        entry["condition"] = condition
    return entry


def open_chart(api: LiveApi) -> Chart:
    """The house and fee accounts, and DEPOSIT / WITHDRAW tran codes of unique codes."""
    suffix = uuid.uuid4().hex[:6].upper()
    house, fees = uuid.uuid4(), uuid.uuid4()
    api.data(CREATE_ACCOUNT, {"input": {"accountId": str(house), "code": f"HOUSE.{suffix}",
                                        "name": "House cash", "normalBalanceType": "DEBIT"}})
    api.data(CREATE_ACCOUNT, {"input": {"accountId": str(fees), "code": f"FEES.{suffix}",
                                        "name": "Fee income"}})
    house_cel, fees_cel = f"uuid('{house}')", f"uuid('{fees}')"
    params = [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"},
              {"name": "fee", "type": "DECIMAL", "default": "decimal('0')"}]
    deposit, withdraw = f"DEPOSIT_{suffix}", f"WITHDRAW_{suffix}"
    api.data(CREATE_TRAN_CODE, {"input": {
        "tranCodeId": str(uuid.uuid4()), "code": deposit, "params": params,
        "transaction": {"description": "'deposit'"},
        "entries": [_entry(house_cel, "DEBIT"), _entry("params.account", "CREDIT")]}})
    api.data(CREATE_TRAN_CODE, {"input": {
        "tranCodeId": str(uuid.uuid4()), "code": withdraw, "params": params,
        "vars": {"total": "params.amount + params.fee"}, "transaction": {},
        "entries": [_entry("params.account", "DEBIT", "vars.total"),
                    _entry(house_cel, "CREDIT"),
                    _entry(fees_cel, "CREDIT", "params.fee", "params.fee > decimal('0')")]}})
    return Chart(house, deposit, withdraw, fees)


def open_customer(api: LiveApi, chart: Chart, remote_house: bool = True) -> UUID:
    """A customer account; by default one whose partition is not the house account's."""
    partitions = api.server.topics.partitions
    while True:
        customer = uuid.uuid4()
        remote = owner_partition(customer, partitions) != owner_partition(chart.house,
                                                                          partitions)
        if remote == remote_house:
            break
    api.data(CREATE_ACCOUNT, {"input": {"accountId": str(customer),
                                        "code": f"CUST.{customer.hex[:8]}",
                                        "name": f"Customer {customer.hex[:8]}"}})
    return customer


def open_books(api: LiveApi, enabled: bool) -> tuple[str, str]:
    """A journal (effective balances on or off) and a tran code posting into it on a date."""
    journal = str(uuid.uuid4())
    created = api.data(CREATE_BOOKS, {"id": journal, "enabled": enabled})["createJournal"]
    assert created["config"] == {"enableEffectiveBalances": enabled}
    house = str(uuid.uuid4())
    api.data(CREATE_ACCOUNT, {"input": {"accountId": house, "name": "House",
                                        "code": f"H.{house[:8]}", "normalBalanceType": "DEBIT"}})
    code = f"DATED_{uuid.uuid4().hex[:8].upper()}"
    entry: dict[str, Any] = {"units": "params.amount", "currency": "'USD'"}
    api.data(CREATE_TRAN_CODE, {"input": {
        "tranCodeId": str(uuid.uuid4()), "code": code,
        "params": [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"},
                   {"name": "effective", "type": "DATE"}],
        "transaction": {"journalId": f"uuid('{journal}')", "effective": "params.effective"},
        "entries": [{**entry, "accountId": f"uuid('{house}')", "direction": "DEBIT"},
                    {**entry, "accountId": "params.account", "direction": "CREDIT"}]}})
    return journal, code
