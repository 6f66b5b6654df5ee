"""Queries: accounts, balances and available(layer), entries by account and by transaction,
tran codes and journals; GraphQL variables with defaults, and aliases."""

import uuid

import pytest

from tests.api.chart import POST, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's chart of accounts."""
    return open_chart(shared_api)


def deposit(api: LiveApi, chart: Chart, customer: uuid.UUID, amount: str) -> str:
    """Post a deposit; its transaction id."""
    transaction_id = str(uuid.uuid4())
    api.data(POST, {"id": transaction_id, "code": chart.deposit,
                    "params": {"account": str(customer), "amount": amount}})
    return transaction_id


def test_variables_with_defaults_and_aliases(shared_api: LiveApi, chart: Chart) -> None:
    """A defaulted variable applies when omitted and yields when given; aliases name fields."""
    customer = open_customer(shared_api, chart)
    deposit(shared_api, chart, customer, "12.34")
    query = """
      query Layers($id: UUID!, $currency: CurrencyCode = "USD", $layer: Layer = PENDING) {
        usd: account(id: $id) {
          who: name
          now: balance(currency: $currency) {
            settled { normalBalance { units currency } }
            upToPending: available(layer: $layer) { normalBalance { units } }
            all: available(layer: ENCUMBRANCE) { crBalance { units } }
          }
        }
      }"""
    data = shared_api.data(query, {"id": str(customer)})
    assert data == {"usd": {"who": f"Customer {customer.hex[:8]}", "now": {
        "settled": {"normalBalance": {"units": "12.34", "currency": "USD"}},
        "upToPending": {"normalBalance": {"units": "12.34"}},
        "all": {"crBalance": {"units": "12.34"}}}}}
    euro = shared_api.data(query, {"id": str(customer), "currency": "EUR"})
    assert euro["usd"]["now"] is None


def test_entries_by_account_and_by_transaction(shared_api: LiveApi, chart: Chart) -> None:
    """Account.entries pages through an account's entries; entries(TRANSACTION_ID) lists one
    transaction's."""
    customer = open_customer(shared_api, chart)
    ids = [deposit(shared_api, chart, customer, f"{n}.00") for n in (1, 2, 3)]
    page = """
      query Page($id: UUID!, $after: String) {
        account(id: $id) {
          entries(first: 2, after: $after) {
            nodes { units transactionId sequence direction }
            pageInfo { hasNextPage endCursor }
          }
        }
      }"""
    first = shared_api.data(page, {"id": str(customer)})["account"]["entries"]
    assert [n["units"] for n in first["nodes"]] == ["1.00", "2.00"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = shared_api.data(page, {"id": str(customer), "after": first["pageInfo"]["endCursor"]})
    assert [n["transactionId"] for n in rest["account"]["entries"]["nodes"]] == [ids[2]]
    assert rest["account"]["entries"]["pageInfo"]["hasNextPage"] is False

    by_transaction = shared_api.data("""
      query Of($id: String!) {
        entries(index: {name: TRANSACTION_ID}, where: {transactionId: {eq: $id}}, first: 10) {
          nodes { accountId units direction entryType layer amount { units currency } }
        }
      }""", {"id": ids[1]})["entries"]["nodes"]
    assert [(n["accountId"], n["direction"]) for n in by_transaction] == [
        (str(chart.house), "DEBIT"), (str(customer), "CREDIT")]
    assert {n["entryType"] for n in by_transaction} == {f"{chart.deposit}_DR",
                                                       f"{chart.deposit}_CR"}
    assert by_transaction[0]["amount"] == {"units": "2.00", "currency": "USD"}


def test_a_transaction_with_its_tran_code_and_journal(shared_api: LiveApi, chart: Chart) -> None:
    """transaction(id) gives the transaction, its entries, tran code version and journal."""
    customer = open_customer(shared_api, chart)
    transaction_id = deposit(shared_api, chart, customer, "5.00")
    data = shared_api.data("""
      query Tx($id: UUID!) {
        transaction(id: $id) {
          transactionId correlationId description voidedBy
          tranCode { code version params { name type default } vars }
          journal { code }
          entries(first: 1) { nodes { units account { code } } }
        }
      }""", {"id": transaction_id})["transaction"]
    assert data["transactionId"] == data["correlationId"] == transaction_id
    assert data["description"] == "deposit"
    assert data["voidedBy"] is None
    assert data["tranCode"]["code"] == chart.deposit
    assert data["tranCode"]["version"] == 1
    assert data["tranCode"]["params"][2] == {"name": "fee", "type": "DECIMAL",
                                             "default": "decimal('0')"}
    assert data["journal"] == {"code": "DEFAULT"}
    assert data["entries"]["nodes"][0]["account"]["code"].startswith("HOUSE.")


def test_tran_code_and_journal_by_id(shared_api: LiveApi, chart: Chart) -> None:
    """tranCode(id) gives the latest version with its CEL unchanged; journal() the default."""
    tran_code_id = str(uuid.uuid4())
    code = f"FEE_{uuid.uuid4().hex[:6].upper()}"
    shared_api.data("""
      mutation Fee($input: TranCodeInput!) { createTranCode(input: $input) { tranCodeId } }""",
        {"input": {"tranCodeId": tran_code_id, "code": code, "transaction": {},
                   "params": [{"name": "account", "type": "UUID"}],
                   "vars": {"fee": "decimal('1.50')"},
                   "entries": [
                       {"accountId": "params.account", "units": "vars.fee",
                        "currency": "'USD'", "direction": "DEBIT", "layer": "PENDING",
                        "condition": "vars.fee > decimal('0')"},
                       {"accountId": f"uuid('{chart.fee_account}')", "units": "vars.fee",
                        "currency": "'USD'", "direction": "CREDIT", "layer": "PENDING"}]}})
    data = shared_api.data("""
      query Defs($id: UUID!) {
        tranCode(id: $id) { code vars entries { layer condition units } }
        journal { code name status }
        missing: tranCode(id: "00000000-0000-4000-8000-00000000dead") { code }
      }""", {"id": tran_code_id})
    assert data["tranCode"] == {"code": code, "vars": {"fee": "decimal('1.50')"}, "entries": [
        {"layer": "PENDING", "condition": "vars.fee > decimal('0')", "units": "vars.fee"},
        {"layer": "PENDING", "condition": None, "units": "vars.fee"}]}
    assert data["journal"]["code"] == "DEFAULT"
    assert data["missing"] is None


def test_an_unknown_account_is_null(shared_api: LiveApi) -> None:
    """account(id) of an id no account has is null, not an error."""
    assert shared_api.data("query { account(id: \"00000000-0000-4000-8000-0000000000aa\") "
                           "{ name } }") == {"account": None}


def test_fragments_and_a_named_operation_among_several(shared_api: LiveApi, chart: Chart) -> None:
    """A document with two operations runs the one operationName names; fragments expand."""
    customer = open_customer(shared_api, chart)
    document = """
      fragment Amounts on BalanceAmount { drBalance { units } crBalance { units } }
      query Settled($id: UUID!) { account(id: $id) { balance { settled { ...Amounts } } } }
      query Name($id: UUID!) { account(id: $id) { name } }"""
    deposit(shared_api, chart, customer, "3.00")
    body = shared_api.http.post(shared_api.server.url, json={
        "query": document, "variables": {"id": str(customer)},
        "operationName": "Settled"}).json()
    assert body == {"data": {"account": {"balance": {"settled": {
        "drBalance": {"units": "0"}, "crBalance": {"units": "3.00"}}}}}}
