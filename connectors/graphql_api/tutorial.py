"""The Twisp 101 ledger driven through the API over HTTP: for the demo and for smoke checks.

Each step is one GraphQL request whose inputs are the tutorial's records from
``ledger_core.tutorial``, passed as variables: the journal; a CUSTOMERS account set, then
Ernie's and Bert's accounts in it and the assets account; the ACH_CREDIT and ACH_DEBIT tran
codes; a deposit of 9.53; then a withdrawal of 4.28 whose ``queries`` field reads every
account's settled balance and the set's in the same request, with read-your-writes.
Depositing 9.53 and withdrawing 4.28 leaves Ernie, the customers and the assets at 5.25;
Bert has no balance. ``dry_run_withdrawal`` then simulates one more withdrawal with
``@dryRun`` and reads that nothing changed, and ``cap_customers`` attaches a velocity control
to the CUSTOMERS set that stops its members from owing anything: a withdrawal past what the
set holds is refused.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger_core import PostTransaction, tutorial
from streams.errors import LedgerError

__all__ = ["TutorialBalance", "cap_customers", "dry_run_withdrawal", "graphql_request",
           "run_tutorial"]

REQUEST_TIMEOUT_S = 60.0

_JOURNAL = """
mutation TutorialJournal($journal: JournalInput!) {
  createJournal(input: $journal) { journalId code }
}"""

_ACCOUNTS = """
mutation TutorialAccounts($customers: AccountSetInput!, $ernie: AccountInput!,
                          $bert: AccountInput!, $assets: AccountInput!) {
  customers: createAccountSet(input: $customers) { accountSetId code }
  ernie: createAccount(input: $ernie) { accountId code }
  bert: createAccount(input: $bert) { accountId code }
  assets: createAccount(input: $assets) { accountId code }
}"""

_TRAN_CODES = """
mutation TutorialTranCodes($credit: TranCodeInput!, $debit: TranCodeInput!) {
  credit: createTranCode(input: $credit) { tranCodeId code version }
  debit: createTranCode(input: $debit) { tranCodeId code version }
}"""

_POST = """
mutation TutorialPost($posting: TransactionInput!) {
  postTransaction(input: $posting) { transactionId }
}"""

_BALANCE = "balance(journalId: $journalId) { settled { drBalance { units } crBalance { units }" \
           " normalBalance { units currency } } }"

# A set's balance is in the set's own journal.
_SET_BALANCE = _BALANCE.replace("(journalId: $journalId)", "")

_WITHDRAWAL_AND_BALANCES = f"""
mutation TutorialWithdrawal($posting: TransactionInput!, $journalId: UUID!, $ernie: UUID!,
                            $bert: UUID!, $assets: UUID!, $customers: UUID!) {{
  postTransaction(input: $posting) {{ transactionId }}
  queries {{
    ernie: account(id: $ernie) {{ code {_BALANCE} }}
    bert: account(id: $bert) {{ code {_BALANCE} }}
    assets: account(id: $assets) {{ code {_BALANCE} }}
    customers: accountSet(id: $customers) {{ code {_SET_BALANCE} }}
  }}
}}"""

_DRY_RUN_WITHDRAWAL = f"""
mutation TutorialDryRun($posting: TransactionInput!, $journalId: UUID!, $ernie: UUID!) @dryRun {{
  postTransaction(input: $posting) {{ transactionId }}
  queries {{ ernie: account(id: $ernie) {{ code {_BALANCE} }} }}
}}"""

_ERNIE = f"""
query TutorialErnie($journalId: UUID!, $ernie: UUID!) {{
  ernie: account(id: $ernie) {{ code {_BALANCE} }}
}}"""


_CAP = """
mutation TutorialCap($limit: UUID!, $control: UUID!, $customers: UUID!) {
  createVelocityLimit(input: {
    velocityLimitId: $limit, name: "No overdraft", description: "Owe at most params.owed",
    currency: "USD", window: [], params: [{name: "owed", type: DECIMAL}],
    limit: {balance: [{layer: "SETTLED", amount: "params.owed", normalBalanceType: "DEBIT"}]}
  }) { velocityLimitId }
  createVelocityControl(input: {
    velocityControlId: $control, name: "Customers' overdraft", description: "",
    enforcement: {action: REJECT}, velocityLimitIds: [$limit]
  }) { velocityControlId }
  attachVelocityControl(velocityControlId: $control, accountId: $customers,
                        params: {owed: "0.00"}) { velocityControlId }
}"""

_VELOCITY = """
query TutorialVelocity($customers: UUID!) {
  velocity(accountId: $customers, window: {}) { spent remaining }
}"""


@dataclass(frozen=True)
class TutorialBalance:
    """An account's settled balance in the tutorial's journal (None: no balance yet)."""

    code: str
    dr: str | None
    cr: str | None
    normal: str | None
    currency: str | None


def graphql_request(url: str, query: str, variables: dict[str, Any] | None = None,
                    credential: str | None = None) -> Any:
    """POST one GraphQL request (with ``credential`` as its bearer token or API key); its
    ``data``, or LedgerError naming the first error."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    headers = {"content-type": "application/json"}
    if credential is not None:
        headers["authorization"] = f"Bearer {credential}"
    http = urllib.request.Request(url, body, headers)
    try:
        with urllib.request.urlopen(http, timeout=REQUEST_TIMEOUT_S) as response:
            answer = json.loads(response.read(), parse_float=Decimal)
    except urllib.error.HTTPError as exc:
        raise LedgerError(f"{url} answered {exc.code}: {exc.read()[:500]!r}") from exc
    except OSError as exc:
        raise LedgerError(f"cannot reach the API at {url}: {exc}") from exc
    if answer.get("errors"):
        first = answer["errors"][0]
        code = (first.get("extensions") or {}).get("rule")
        raise LedgerError(f"the API refused the request: {code}: {first['message']}")
    return answer["data"]


def _posting(posting: PostTransaction) -> dict[str, Any]:
    return {"transactionId": str(posting.transaction_id), "tranCode": posting.tran_code,
            "params": posting.params}


def run_tutorial(url: str, credential: str | None = None) -> list[TutorialBalance]:
    """Run the tutorial through the API at ``url`` (as ``credential``, when the API
    authenticates); return each account's settled balance, then the customers set's."""
    def send(query: str, variables: dict[str, Any]) -> Any:
        return graphql_request(url, query, variables, credential)

    send(_JOURNAL, {"journal": tutorial.JOURNAL.model_dump(mode="json", by_alias=True)})
    accounts = {"ernie": tutorial.ERNIE, "bert": tutorial.BERT, "assets": tutorial.ASSETS}
    customers = str(tutorial.CUSTOMERS.account_set_id)
    inputs: dict[str, Any] = {name: account.model_dump(mode="json", by_alias=True)
                              for name, account in accounts.items()}
    for name in ("ernie", "bert"):
        inputs[name]["accountSetIds"] = [customers]
    send(_ACCOUNTS, {"customers": tutorial.CUSTOMERS.model_dump(
        mode="json", by_alias=True, exclude={"status"}), **inputs})
    send(_TRAN_CODES, {"credit": tutorial.ACH_CREDIT_INPUT, "debit": tutorial.ACH_DEBIT_INPUT})
    send(_POST, {"posting": _posting(tutorial.DEPOSIT)})
    data = send(_WITHDRAWAL_AND_BALANCES, {
        "posting": _posting(tutorial.WITHDRAWAL), "journalId": str(tutorial.JOURNAL_ID),
        "customers": customers,
        **{name: str(account.account_id) for name, account in accounts.items()}})
    return [_balance(data["queries"][name]) for name in (*accounts, "customers")]


def _balance(account: dict[str, Any]) -> TutorialBalance:
    balance = account["balance"]
    if balance is None:
        return TutorialBalance(account["code"], None, None, None, None)
    settled = balance["settled"]
    return TutorialBalance(account["code"], settled["drBalance"]["units"],
                           settled["crBalance"]["units"], settled["normalBalance"]["units"],
                           settled["normalBalance"]["currency"])


def dry_run_withdrawal(url: str, amount: str, credential: str | None = None
                       ) -> tuple[TutorialBalance, TutorialBalance]:
    """After the tutorial: a ``@dryRun`` withdrawal of ``amount`` from Ernie. Ernie's
    balance as the dry run leaves it, and as a plain query reads it afterwards."""
    variables = {"journalId": str(tutorial.JOURNAL_ID), "ernie": str(tutorial.ERNIE.account_id)}
    posting = {**_posting(tutorial.WITHDRAWAL), "transactionId": str(uuid.uuid4()),
               "params": {**tutorial.WITHDRAWAL.params, "amount": amount}}
    inside = graphql_request(url, _DRY_RUN_WITHDRAWAL, {"posting": posting, **variables},
                             credential)
    after = graphql_request(url, _ERNIE, variables, credential)
    return _balance(inside["queries"]["ernie"]), _balance(after["ernie"])


def cap_customers(url: str, amount: str, credential: str | None = None) -> tuple[str, str]:
    """After the tutorial: a REJECT velocity control on the CUSTOMERS set that lets its
    members owe nothing, then a withdrawal of ``amount`` from Ernie. What the set may still
    spend, and the rule the withdrawal was refused by (or "posted")."""
    customers = str(tutorial.CUSTOMERS.account_set_id)
    graphql_request(url, _CAP, {"limit": str(uuid.uuid4()), "control": str(uuid.uuid4()),
                                "customers": customers}, credential)
    [velocity] = graphql_request(url, _VELOCITY, {"customers": customers},
                                 credential)["velocity"]
    posting = {**_posting(tutorial.WITHDRAWAL), "transactionId": str(uuid.uuid4()),
               "params": {**tutorial.WITHDRAWAL.params, "amount": amount}}
    try:
        graphql_request(url, _POST, {"posting": posting}, credential)
    except LedgerError as refused:
        return str(velocity["remaining"]), str(refused)
    return str(velocity["remaining"]), "posted"
