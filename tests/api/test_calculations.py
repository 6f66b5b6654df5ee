"""Calculations through the API on a real ledger: balances grouped by dimensions computed
from each entry, GLOBAL or attached (LOCAL), also by effective date."""

import uuid
from typing import Any

import pytest

from tests.api.chart import Chart, open_chart, open_customer
from tests.api.conftest import LiveApi
from tests.api.test_writes import post

CREATE = """
mutation Create($input: CreateCalculationInput!) {
  createCalculation(input: $input) { calculationId code scope status dimensions { alias } }
}
"""

BY = """
query By($account: UUID!, $calculation: UUID!, $dimension: JSON, $effective: Effective) {
  account(id: $account) {
    balance(calculationId: $calculation, dimension: $dimension, effective: $effective) {
      settled { normalBalance { units } }
    }
  }
}
"""

ATTACH = """
mutation Attach($input: AttachCalculationInput!) {
  attachCalculation(input: $input) { accountId calculationId calculation { code } }
}
"""

ATTACHED = """
query Attached($account: UUID!) {
  account(id: $account) {
    calculations { calculationId }
    inBooks: calculations(journalId: "00000000-0000-4000-8000-00000000b00c") { calculationId }
  }
}
"""

DETACH = """
mutation Detach($input: AttachCalculationInput!) { detachCalculation(input: $input) { accountId } }
"""


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's house account and tran codes."""
    return open_chart(shared_api)


def _calculation(api: LiveApi, **fields: Any) -> str:
    calculation_id = str(uuid.uuid4())
    body = {"calculationId": calculation_id, "code": f"CALC_{calculation_id[:8].upper()}",
            "description": "by tran code",
            "dimensions": [{"alias": "code", "value": "context.vars.transaction.tranCode"}],
            **fields}
    api.data(CREATE, {"input": body})
    return calculation_id


def _by(api: LiveApi, account: uuid.UUID, calculation: str, **variables: Any) -> str | None:
    found = api.data(BY, {"account": str(account), "calculation": calculation, **variables})
    balance = found["account"]["balance"]
    return None if balance is None else str(balance["settled"]["normalBalance"]["units"])


def test_a_global_calculation_groups_every_entry_by_its_dimensions(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Deposits and withdrawals by tran code, a condition on the entry, and the entries
    posted before the calculation existed."""
    api = shared_api
    customer = open_customer(api, chart)
    post(api, chart.deposit, customer, "10.00")
    post(api, chart.withdraw, customer, "3.00")
    post(api, chart.deposit, customer, "1.50")
    by_code = _calculation(api)
    assert _by(api, customer, by_code, dimension={"code": chart.deposit}) == "11.50"
    assert _by(api, customer, by_code, dimension={"code": chart.withdraw}) == "-3.00"
    assert _by(api, customer, by_code) == "8.50"
    assert _by(api, customer, by_code, dimension={"code": "NONE"}) is None
    large = _calculation(api, condition="context.vars.entry.units > decimal('5')")
    assert _by(api, customer, large) == "10.00"
    error = api.error(BY, {"account": str(customer), "calculation": by_code,
                           "dimension": {"month": "1"}})
    assert error["extensions"]["rule"] == "bad_request"
    error = api.error(BY, {"account": str(customer), "calculation": str(uuid.uuid4())})
    assert error["extensions"]["rule"] == "calculation_not_found"
    found = api.data("query C($id: UUID!) { calculation(calculationId: $id) { code scope } }",
                     {"id": by_code})["calculation"]
    assert found == {"code": f"CALC_{by_code[:8].upper()}", "scope": "GLOBAL"}
    listed = api.data("query L($code: String!) { calculations(index: {name: CODE}, "
                      "where: {code: {eq: $code}}, first: 5) { nodes { calculationId } } }",
                      {"code": found["code"]})["calculations"]["nodes"]
    assert listed == [{"calculationId": by_code}]


def test_a_local_calculation_answers_only_where_attached(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """Not attached: refused; attached: answered; a delete waits for every detach."""
    api = shared_api
    customer = open_customer(api, chart)
    post(api, chart.deposit, customer, "4.00")
    local = _calculation(api, scope="LOCAL")
    error = api.error(BY, {"account": str(customer), "calculation": local})
    assert error["extensions"]["rule"] == "bad_request"
    attachment = {"accountId": str(customer), "calculationId": local}
    attached = api.data(ATTACH, {"input": attachment})["attachCalculation"]
    assert attached["calculation"]["code"] == f"CALC_{local[:8].upper()}"
    assert _by(api, customer, local, dimension={"code": chart.deposit}) == "4.00"
    listed = api.data(ATTACHED, {"account": str(customer)})["account"]
    assert listed == {"calculations": [{"calculationId": local}], "inBooks": []}
    error = api.error("mutation D($id: UUID!) { deleteCalculation(id: $id) { status } }",
                      {"id": local})
    assert error["extensions"]["rule"] == "calculation_attached"
    api.data(DETACH, {"input": attachment})
    assert api.data(ATTACHED, {"account": str(customer)})["account"]["calculations"] == []
    error = api.error(DETACH, {"input": attachment})
    assert error["extensions"]["rule"] == "calculation_attachment_not_found"
    deleted = api.data("mutation D($id: UUID!) { deleteCalculation(id: $id) { status } }",
                       {"id": local})["deleteCalculation"]
    assert deleted == {"status": "LOCKED"}
    error = api.error(ATTACH, {"input": attachment})
    assert error["extensions"]["rule"] == "calculation_locked"


def test_an_effective_calculation_reads_by_period_in_any_journal(
    shared_api: LiveApi, chart: Chart,
) -> None:
    """config.enableEffectiveBalances on the calculation lets the DEFAULT journal (which
    has no such switch) answer by effective period; without it the read is refused."""
    api = shared_api
    customer = open_customer(api, chart)
    post(api, chart.deposit, customer, "2.25")
    effective = _calculation(api, config={"enableEffectiveBalances": True})
    plain = _calculation(api)
    assert _by(api, customer, effective, effective={"period": "2020"}) is None
    assert _by(api, customer, effective, effective={"cumulative": "2999-12-31"}) == "2.25"
    error = api.error(BY, {"account": str(customer), "calculation": plain,
                           "effective": {"cumulative": "2999-12-31"}})
    assert error["extensions"]["rule"] == "bad_request"
    for dimension, rule in (({"alias": "year", "value": "1"}, "catalog_command_invalid"),
                            ({"alias": "x", "value": "1 +"}, "cel_evaluation_failed")):
        error = api.error(CREATE, {"input": {"calculationId": str(uuid.uuid4()),
                                             "code": f"BAD_{uuid.uuid4().hex[:6]}",
                                             "description": "", "dimensions": [dimension]}})
        assert error["extensions"]["rule"] == rule, error
