"""Mutations through the API: postings, voids, rejections with the ledger's codes, and reads."""

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.chart import BALANCE, POST, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi

VOID = """
mutation Void($id: UUID!) {
  voidTransaction(id: $id) {
    transactionId voidOf
    entries(first: 10) { nodes { accountId units direction } }
  }
}
"""

POST_AND_READ = """
mutation PostAndRead($id: UUID!, $code: String!, $params: JSON, $customer: UUID!,
                     $house: UUID!) {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
    transactionId
  }
  queries {
    customer: account(id: $customer) {
      balance { settled { normalBalance { units } } }
    }
    house: account(id: $house) {
      balance { settled { normalBalance { units } } }
    }
    posted: transaction(id: $id) { transactionId entries(first: 5) { nodes { units } } }
  }
}
"""


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's chart of accounts."""
    return open_chart(shared_api)


def post(api: LiveApi, code: str, account: uuid.UUID, amount: str,
         transaction_id: uuid.UUID | None = None, **params: Any) -> dict[str, Any]:
    """The whole response of a posting."""
    return api.send(POST, {"id": str(transaction_id or uuid.uuid4()), "code": code,
                           "params": {"account": str(account), "amount": amount, **params}})


def settled(api: LiveApi, account: uuid.UUID) -> str | None:
    """The settled normal balance units of an account (None: no balance)."""
    balance = api.data(BALANCE, {"id": str(account)})["account"]["balance"]
    return None if balance is None else str(balance["settled"]["normalBalance"]["units"])


def test_mutation_queries_read_their_own_posting_on_every_account(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Each post's queries see its own effect on the customer and on the remote house."""
    customer = open_customer(shared_api, chart, remote_house=True)
    shared_api.ledger.client().wait_converged()
    house_before = Decimal(settled(shared_api, chart.house) or "0")
    total = Decimal(0)
    for step in range(1, 11):
        amount = Decimal(step) / 100
        total += amount
        transaction_id = str(uuid.uuid4())
        data = shared_api.data(POST_AND_READ, {
            "id": transaction_id, "code": chart.deposit,
            "params": {"account": str(customer), "amount": str(amount)},
            "customer": str(customer), "house": str(chart.house)})
        read = data["queries"]
        assert Decimal(read["customer"]["balance"]["settled"]["normalBalance"]["units"]) == total
        assert Decimal(read["house"]["balance"]["settled"]["normalBalance"]["units"]) \
            == house_before + total
        assert read["posted"]["transactionId"] == transaction_id
        assert [n["units"] for n in read["posted"]["entries"]["nodes"]] == [f"{amount:.2f}"] * 2


def test_a_query_after_a_post_sees_the_owners_balance_without_waiting(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Read-your-writes across requests: every acknowledged posting is in the next query."""
    customer = open_customer(shared_api, chart)
    for step in range(1, 21):
        assert "errors" not in post(shared_api, chart.deposit, customer, "1.00")
        assert settled(shared_api, customer) == f"{step}.00"


def test_a_void_restores_the_balances(shared_api: LiveApi, chart: Chart) -> None:
    """Deposit, withdraw with a fee, void the withdrawal: the deposit's balances are back."""
    customer = open_customer(shared_api, chart)
    assert "errors" not in post(shared_api, chart.deposit, customer, "50.00")
    withdrawal = uuid.uuid4()
    answer = post(shared_api, chart.withdraw, customer, "20.00", withdrawal, fee="0.50")
    entries = answer["data"]["postTransaction"]["entries"]["nodes"]
    assert [(e["units"], e["direction"]) for e in entries] == [
        ("20.50", "DEBIT"), ("20.00", "CREDIT"), ("0.50", "CREDIT")]
    assert settled(shared_api, customer) == "29.50"
    void = shared_api.data(VOID, {"id": str(withdrawal)})["voidTransaction"]
    assert void["voidOf"] == str(withdrawal)
    assert [e["units"] for e in void["entries"]["nodes"]] == ["-20.50", "-20.00", "-0.50"]
    assert settled(shared_api, customer) == "50.00"
    shared_api.ledger.client().wait_converged()
    assert settled(shared_api, chart.fee_account) in (None, "0.00")
    again = shared_api.error(VOID, {"id": str(withdrawal)})
    assert again["extensions"]["rule"] == "transaction_id_duplicate"


def test_a_duplicate_post_returns_the_duplicate_code(shared_api: LiveApi, chart: Chart) -> None:
    """Re-sending a transactionId is refused with transaction_id_duplicate; nothing changes."""
    customer = open_customer(shared_api, chart)
    transaction_id = uuid.uuid4()
    assert "errors" not in post(shared_api, chart.deposit, customer, "7.00", transaction_id)
    again = post(shared_api, chart.deposit, customer, "7.00", transaction_id)
    assert again["data"] == {"postTransaction": None}
    [error] = again["errors"]
    assert error["extensions"]["rule"] == "transaction_id_duplicate"
    assert error["extensions"]["code"] == "UNIQUE_CONSTRAINT_VIOLATION"
    assert error["extensions"]["retriableError"] is False
    assert error["path"] == ["postTransaction"]
    assert str(transaction_id) in error["message"] or error["message"]
    assert settled(shared_api, customer) == "7.00"


def test_a_rejection_carries_the_ledgers_code_field_and_message(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """A param of the wrong type is refused by the processor, with its code and field."""
    customer = open_customer(shared_api, chart)
    error = post(shared_api, chart.deposit, customer, "ten dollars")["errors"][0]
    assert error["extensions"]["rule"] == "param_type_invalid"
    assert error["extensions"]["field"] == "params.amount"
    assert "DECIMAL" in error["message"]


def test_unbalanced_entries_are_refused_with_entries_must_balance(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """A tran code whose entries do not balance is refused at posting time."""
    customer = open_customer(shared_api, chart)
    code = f"LOPSIDED_{uuid.uuid4().hex[:6].upper()}"
    shared_api.data("""
        mutation Lopsided($input: TranCodeInput!) { createTranCode(input: $input) { code } }""",
        {"input": {"tranCodeId": str(uuid.uuid4()), "code": code,
                   "params": [{"name": "account", "type": "UUID"},
                              {"name": "amount", "type": "DECIMAL"}],
                   "transaction": {},
                   "entries": [
                       {"accountId": f"uuid('{chart.house}')", "units": "params.amount",
                        "currency": "'USD'", "direction": "DEBIT"},
                       {"accountId": "params.account", "units": "params.amount + 1",
                        "currency": "'USD'", "direction": "CREDIT"}]}})
    error = post(shared_api, code, customer, "1.00")["errors"][0]
    assert error["extensions"]["rule"] == "entries_must_balance"


def test_an_unknown_tran_code_is_refused_with_tran_code_not_found(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """The API reads the catalog to its end before answering tran_code_not_found."""
    error = post(shared_api, "NO_SUCH_CODE", uuid.uuid4(), "1.00")["errors"][0]
    assert error["extensions"]["rule"] == "tran_code_not_found"
    assert error["extensions"]["field"] == "tranCode"


def test_a_float_literal_is_read_as_the_exact_decimal(shared_api: LiveApi, chart: Chart) -> None:
    """An amount written as a GraphQL float literal arrives exact, never through a float."""
    customer = open_customer(shared_api, chart)
    shared_api.data(f"""
        mutation {{ postTransaction(input: {{transactionId: "{uuid.uuid4()}",
          tranCode: "{chart.deposit}", params: {{account: "{customer}", amount: 0.10}}}})
          {{ transactionId }} }}""")
    shared_api.data(POST, {"id": str(uuid.uuid4()), "code": chart.deposit,
                           "params": {"account": str(customer), "amount": 0.2}})
    assert settled(shared_api, customer) == "0.30"


def test_update_account_locks_it_and_changes_its_metadata(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """updateAccount sets status and metadata; a LOCKED account refuses postings."""
    customer = open_customer(shared_api, chart)
    updated = shared_api.data("""
        mutation Lock($id: UUID!) {
          updateAccount(id: $id, input: {status: LOCKED, metadata: {tier: "gold", limit: 2.5}}) {
            status metadata
          }
        }""", {"id": str(customer)})["updateAccount"]
    assert updated == {"status": "LOCKED", "metadata": {"tier": "gold", "limit": "2.5"}}
    read = shared_api.data("query($id: UUID!) { account(id: $id) { status } }",
                           {"id": str(customer)})
    assert read == {"account": {"status": "LOCKED"}}
    error = post(shared_api, chart.deposit, customer, "1.00")["errors"][0]
    assert error["extensions"]["rule"] == "account_locked"


def test_vars_are_evaluated_in_declaration_order(shared_api: LiveApi, chart: Chart) -> None:
    """A var may use the vars declared before it, whatever their names' alphabetical order."""
    customer = open_customer(shared_api, chart)
    code = f"ORDERED_{uuid.uuid4().hex[:6].upper()}"
    created = shared_api.data("""
        mutation Ordered($input: TranCodeInput!) { createTranCode(input: $input) { vars } }""",
        {"input": {"tranCodeId": str(uuid.uuid4()), "code": code, "transaction": {},
                   "params": [{"name": "account", "type": "UUID"},
                              {"name": "amount", "type": "DECIMAL"}],
                   "vars": {"zeta": "params.amount", "alpha": "vars.zeta * decimal('2')"},
                   "entries": [
                       {"accountId": f"uuid('{chart.house}')", "units": "vars.alpha",
                        "currency": "'USD'", "direction": "DEBIT"},
                       {"accountId": "params.account", "units": "vars.alpha",
                        "currency": "'USD'", "direction": "CREDIT"}]}})
    assert list(created["createTranCode"]["vars"]) == ["zeta", "alpha"]
    assert "errors" not in post(shared_api, code, customer, "1.25")
    assert settled(shared_api, customer) == "2.50"


def test_concurrent_clients_each_read_their_own_postings(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Eight clients post and read at once; each read includes that client's postings."""
    customers = [open_customer(shared_api, chart) for _ in range(8)]

    async def client(http: httpx.AsyncClient, customer: uuid.UUID) -> list[str]:
        seen = []
        for _ in range(5):
            posted = await http.post(shared_api.server.url, json={"query": POST, "variables": {
                "id": str(uuid.uuid4()), "code": chart.deposit,
                "params": {"account": str(customer), "amount": "1.00"}}})
            assert "errors" not in posted.json(), posted.json()
            read = await http.post(shared_api.server.url, json={"query": BALANCE,
                                                                "variables": {"id": str(customer)}})
            balance = read.json()["data"]["account"]["balance"]
            seen.append(balance["settled"]["normalBalance"]["units"])
        return seen

    async def everyone() -> list[list[str]]:
        async with httpx.AsyncClient(timeout=60) as http:
            return await asyncio.gather(*(client(http, c) for c in customers))

    for seen in asyncio.run(everyone()):
        assert seen == ["1.00", "2.00", "3.00", "4.00", "5.00"]


def test_literal_param_defaults_as_twisp_writes_them(shared_api: LiveApi, chart: Chart) -> None:
    """Defaults written as literals in the document (0, "USD", a UUID, true) are values of
    the param's type, not CEL; the posting gets them."""
    customer = open_customer(shared_api, chart)
    code = f"LITERALS_{uuid.uuid4().hex[:6].upper()}"
    created = shared_api.data(f"""
    mutation {{
      createTranCode(input: {{
        tranCodeId: "{uuid.uuid4()}", code: "{code}",
        params: [
          {{name: "account", type: UUID}},
          {{name: "amount", type: DECIMAL, default: 0.75}},
          {{name: "fee", type: DECIMAL, default: 0}},
          {{name: "house", type: UUID, default: "{chart.house}"}},
          {{name: "currency", type: STRING, default: "USD"}},
          {{name: "flag", type: BOOLEAN, default: true}}
        ],
        transaction: {{metadata: "{{'flag': params.flag, 'fee': string(params.fee)}}"}},
        entries: [
          {{accountId: "params.house", units: "params.amount", currency: "params.currency",
            direction: "DEBIT"}},
          {{accountId: "params.account", units: "params.amount", currency: "params.currency",
            direction: "CREDIT"}}
        ]
      }}) {{ params {{ name default }} }}
    }}""")
    defaults = {p["name"]: p["default"] for p in created["createTranCode"]["params"]}
    assert defaults == {"account": None, "amount": "decimal('0.75')", "fee": "decimal('0')",
                        "house": f"uuid('{chart.house}')", "currency": '"USD"',
                        "flag": "true"}
    answer = shared_api.data("""
    mutation Post($id: UUID!, $code: String!, $params: JSON) {
      postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) {
        metadata entries(first: 2) { nodes { accountId units currency } }
      }
    }""", {"id": str(uuid.uuid4()), "code": code, "params": {"account": str(customer)}})
    posted = answer["postTransaction"]
    assert [(n["accountId"], n["units"], n["currency"]) for n in posted["entries"]["nodes"]] == [
        (str(chart.house), "0.75", "USD"), (str(customer), "0.75", "USD")]
    assert posted["metadata"] == {"flag": True, "fee": "0"}


CREATE_ACCOUNTS = """
mutation Open($input: [AccountInput!]!) { createAccounts(input: $input) { accountId code } }
"""


def test_create_accounts_opens_many_in_order_and_refuses_each_on_its_own(
    shared_api: LiveApi,
) -> None:
    """createAccounts: every account in the order given; a duplicate code is null with its
    error at its index, and the accounts around it are created; over the bound, nothing."""
    suffix = uuid.uuid4().hex[:6].upper()
    inputs = [{"accountId": str(uuid.uuid4()), "code": f"BULK.{suffix}.{n}", "name": f"Bulk {n}"}
              for n in range(200)]
    inputs[150] = {**inputs[150], "code": inputs[10]["code"]}  # decided after #10: refused
    body = shared_api.send(CREATE_ACCOUNTS, {"input": inputs})
    created = body["data"]["createAccounts"]
    assert [a and a["accountId"] for a in created] == [
        None if n == 150 else inputs[n]["accountId"] for n in range(200)]
    [error] = body["errors"]
    assert error["path"] == ["createAccounts", 150]
    assert error["extensions"]["rule"] == "account_code_duplicate", error
    read = shared_api.data(f'{{ account(id: "{inputs[199]["accountId"]}") {{ code }} }}')
    assert read["account"]["code"] == f"BULK.{suffix}.199"
    too_many = shared_api.error(CREATE_ACCOUNTS, {"input": [
        {"accountId": str(uuid.uuid4()), "code": f"OVER.{suffix}.{n}", "name": "x"}
        for n in range(1001)]})
    assert too_many["extensions"]["rule"] == "bad_request"
    assert too_many["extensions"]["limit"] == 1000


TWO_POSTINGS = """
mutation Two($first: UUID!, $second: UUID!, $code: String!, $account: UUID!) {
  first: postTransaction(input: {transactionId: $first, tranCode: $code,
                                 params: {account: $account, amount: "1.00", bogus: "x"}}) {
    transactionId
  }
  second: postTransaction(input: {transactionId: $second, tranCode: $code,
                                  params: {account: $account, amount: "2.00"}}) {
    transactionId
  }
}
"""


def test_a_refused_mutation_leaves_the_others_answered(shared_api: LiveApi,
                                                       chart: Chart) -> None:
    """Mutation fields are nullable: the refused posting is null with its error (Twisp's
    code, the ledger's rule beside it), and the posting after it is posted and answered."""
    customer = open_customer(shared_api, chart)
    first, second = uuid.uuid4(), uuid.uuid4()
    body = shared_api.send(TWO_POSTINGS, {"first": str(first), "second": str(second),
                                          "code": chart.deposit, "account": str(customer)})
    assert body["data"] == {"first": None, "second": {"transactionId": str(second)}}
    [error] = body["errors"]
    assert error["path"] == ["first"]
    assert (error["extensions"]["code"], error["extensions"]["rule"]) == (
        "TRAN_CODE_ERROR", "param_unknown")
    assert settled(shared_api, customer) == "2.00"


UPSERT = """
mutation Upsert($input: AccountInput!) { createAccount(input: $input) { accountId code name } }
"""


def test_an_upsert_answers_with_the_account_created_already(shared_api: LiveApi) -> None:
    """Twisp's config.upsert: a create whose id is taken answers with the existing account,
    unchanged, where a plain create is refused."""
    account_id = str(uuid.uuid4())
    first = {"accountId": account_id, "code": f"UP.{account_id[:8]}", "name": "first"}
    created = shared_api.data(UPSERT, {"input": first})["createAccount"]
    second = {**first, "name": "second", "config": {"upsert": True}}
    assert shared_api.data(UPSERT, {"input": second})["createAccount"] == created
    error = shared_api.error(UPSERT, {"input": {**first, "name": "second"}})
    assert error["extensions"]["rule"] == "account_id_duplicate"
    fresh = str(uuid.uuid4())
    made = shared_api.data(UPSERT, {"input": {
        "accountId": fresh, "code": f"UP.{fresh[:8]}", "name": "new",
        "config": {"upsert": True}}})["createAccount"]
    assert made["name"] == "new"
