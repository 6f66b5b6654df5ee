"""Velocity controls through the API on a real ledger, in Twisp's documents: limits,
controls, attachments with params, REJECT and WARN, overrides, velocity reads, and a
control on a set whose members live on other partitions."""

import uuid
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from streams.partitioning import owner_partition
from tests.api.chart import Chart, open_chart, open_customer
from tests.api.conftest import LiveApi
from tests.api.test_writes import post, settled

CREATE_LIMIT = """
mutation CreateLimit($id: UUID!, $window: [PartitionKeyInput]!, $amount: Expression!) {
  createVelocityLimit(input: {
    velocityLimitId: $id, name: "Spending limit", description: "What may be spent",
    currency: "USD", window: $window,
    limit: {balance: [{layer: "SETTLED", amount: $amount, normalBalanceType: "DEBIT"}]}
    params: [{name: "amount", type: DECIMAL}]
  }) {
    velocityLimitId name currency
    limit { balance { layer amount NormalBalanceType } }
    params { name type }
  }
}
"""

CREATE_CONTROL = """
mutation CreateControl($id: UUID!, $limits: [UUID!], $action: VelocityEnforcementAction!,
                       $condition: Expression) {
  createVelocityControl(input: {
    velocityControlId: $id, name: "Spending", description: "Caps spending",
    enforcement: {action: $action}, condition: $condition, velocityLimitIds: $limits
  }) {
    velocityControlId enforcement { action } limits { velocityLimitId }
  }
}
"""

ATTACH = """
mutation Attach($control: UUID!, $account: UUID!, $params: JSON) {
  attachVelocityControl(velocityControlId: $control, accountId: $account, params: $params) {
    velocityControlId
  }
}
"""

DETACH = """
mutation Detach($control: UUID!, $account: UUID!) {
  detachVelocityControl(velocityControlId: $control, accountId: $account) { velocityControlId }
}
"""

POST = """
mutation Post($id: UUID!, $code: String!, $params: JSON, $action: VelocityEnforcementAction!) {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params,
                          properties: {overrideVelocityEnforcement: {action: $action}}}) {
    transactionId
    exceptions { type message detail }
  }
}
"""

DRY_POST = POST.replace("mutation Post(", "mutation DryPost(").replace(
    "$action: VelocityEnforcementAction!) {", "$action: VelocityEnforcementAction!) @dryRun {")

VELOCITY = """
query Velocity($account: UUID!) {
  velocity(accountId: $account, window: {}) {
    velocityControlId velocityLimitId spent remaining currency
    velocityLimit { name }
    balance { settled { normalBalance { units } } }
  }
  account(id: $account) {
    velocity(window: {}) { spent remaining }
    controls(first: 10) { nodes { velocityControlId } }
  }
  attachedControls(accountId: $account, first: 10) {
    nodes {
      velocityControlId name enforcement { action }
      limits { velocityLimitId limit { balance { layer amount normalBalanceType } } }
    }
  }
}
"""

CREATE_SET = """
mutation CreateSet($id: UUID!, $code: String!) {
  createAccountSet(input: {accountSetId: $id, name: "Cardholders", code: $code,
                           normalBalanceType: CREDIT}) { accountSetId }
}
"""

ADD = """
mutation Add($id: UUID!, $member: UUID!) {
  addToAccountSet(id: $id, member: {memberId: $member, memberType: ACCOUNT}) { accountSetId }
}
"""


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's house account and tran codes."""
    return open_chart(shared_api)


def _control(api: LiveApi, action: str = "REJECT", amount: str = "params.amount",
             **variables: Any) -> tuple[str, str]:
    limit, control = str(uuid.uuid4()), str(uuid.uuid4())
    created = api.data(CREATE_LIMIT, {"id": limit, "window": [], "amount": amount})
    assert created["createVelocityLimit"]["limit"]["balance"] == [
        {"layer": "SETTLED", "amount": amount, "NormalBalanceType": "DEBIT"}]
    made = api.data(CREATE_CONTROL, {"id": control, "limits": [limit], "action": action,
                                     **variables})["createVelocityControl"]
    assert made["limits"] == [{"velocityLimitId": limit}]
    return limit, control


def _spend(api: LiveApi, chart: Chart, account: UUID, amount: str,
           action: str = "REJECT") -> dict[str, Any]:
    return api.send(POST, {"id": str(uuid.uuid4()), "code": chart.withdraw, "action": action,
                           "params": {"account": str(account), "amount": amount}})


def test_a_control_rejects_spending_past_its_limit_and_warn_lets_it_through(
        shared_api: LiveApi, chart: Chart) -> None:
    """Twisp's card example: 100.00 may be spent. The posting past it is refused with
    BALANCE_VELOCITY_EXCEEDED and writes nothing; overridden to WARN it posts with an
    exception; the velocity reads show what was spent and what is left."""
    api = shared_api
    card = open_customer(api, chart)
    limit, control = _control(api)
    api.data(ATTACH, {"control": control, "account": str(card), "params": {"amount": "100.00"}})
    assert "errors" not in _spend(api, chart, card, "60.00")
    refused = _spend(api, chart, card, "40.01")
    assert refused["data"]["postTransaction"] is None
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "BALANCE_VELOCITY_EXCEEDED", error
    assert error["extensions"]["rule"] == "velocity_limit_exceeded"
    assert control in error["message"] and "at most 100.00" in error["message"]
    exception = error["extensions"]["exception"]
    assert exception["type"] == "VELOCITY_CONTROL"
    assert exception["errorMessage"] == "velocity 100.00 USD exceeded, balance is 100.01 USD"
    assert exception["detail"] == {
        "accountId": str(card), "layer": "SETTLED", "limit": "100.00",
        "velocityControlId": control, "velocityLimitId": limit,
        "violatingBalance": "100.01", "transactionId": exception["transactionId"]}
    assert settled(api, card) == "-60.00"
    dry = api.data(DRY_POST, {"id": str(uuid.uuid4()), "code": chart.withdraw,
                              "action": "WARN",
                              "params": {"account": str(card), "amount": "40.01"}})
    assert [e["type"] for e in dry["postTransaction"]["exceptions"]] == ["VELOCITY_CONTROL"]
    assert settled(api, card) == "-60.00"
    warned = _spend(api, chart, card, "40.01", action="WARN")
    [exception] = warned["data"]["postTransaction"]["exceptions"]
    assert exception["type"] == "VELOCITY_CONTROL"
    assert exception["detail"]["rule"] == "velocity_limit_exceeded"
    assert exception["detail"]["accountId"] == str(card)
    assert (exception["detail"]["previousBalance"],
            exception["detail"]["violatingBalance"]) == ("-60.00", "-100.01")
    read = api.data(VELOCITY, {"account": str(card)})
    [velocity] = read["velocity"]
    assert (velocity["velocityControlId"], velocity["velocityLimitId"]) == (control, limit)
    assert (Decimal(velocity["spent"]), Decimal(velocity["remaining"])) == (
        Decimal("100.01"), Decimal("-0.01"))
    assert velocity["balance"]["settled"]["normalBalance"]["units"] == "-100.01"
    assert read["account"]["velocity"] == [{"spent": velocity["spent"],
                                            "remaining": velocity["remaining"]}]
    assert read["account"]["controls"]["nodes"] == [{"velocityControlId": control}]
    [attached] = read["attachedControls"]["nodes"]
    assert attached["limits"] == [{"velocityLimitId": limit, "limit": {"balance": [
        {"layer": "SETTLED", "amount": "100.00", "normalBalanceType": "DEBIT"}]}}]
    # A deposit moves the balance back within the limit, and spending can resume.
    assert "errors" not in post(api, chart.deposit, card, "50.00")
    assert "errors" not in _spend(api, chart, card, "49.99")
    api.data(DETACH, {"control": control, "account": str(card)})
    assert "errors" not in _spend(api, chart, card, "500.00")
    assert api.data(VELOCITY, {"account": str(card)})["velocity"] == []


def test_a_control_on_a_set_bounds_members_on_other_partitions(
        shared_api: LiveApi, chart: Chart) -> None:
    """Two cardholders, neither on the set's partition, share one 30.00 control on their
    set: each posting is keyed by the set, so the second cardholder's spending is refused
    once the first has used the limit up."""
    api = shared_api
    partitions = api.server.topics.partitions
    while True:
        set_id = uuid.uuid4()
        if partitions == 1 or owner_partition(set_id, partitions) != owner_partition(
                chart.house, partitions):
            break
    api.data(CREATE_SET, {"id": str(set_id), "code": f"CARDHOLDERS.{set_id.hex[:8]}"})
    holders = []
    while len(holders) < 2:
        holder = open_customer(api, chart)
        if partitions == 1 or owner_partition(holder, partitions) != owner_partition(
                set_id, partitions):
            api.data(ADD, {"id": str(set_id), "member": str(holder)})
            holders.append(holder)
    _limit, control = _control(api)
    api.data(ATTACH, {"control": control, "account": str(set_id),
                      "params": {"amount": "30.00"}})
    assert "errors" not in _spend(api, chart, holders[0], "25.00")
    refused = _spend(api, chart, holders[1], "5.01")
    assert refused["errors"][0]["extensions"]["rule"] == "velocity_limit_exceeded", refused
    assert "errors" not in _spend(api, chart, holders[1], "5.00")
    assert settled(api, holders[1]) == "-5.00"
    [velocity] = api.data(VELOCITY, {"account": str(set_id)})["velocity"]
    assert (velocity["spent"], velocity["remaining"]) == ("30.00", "0.00")


def test_a_condition_limits_the_postings_a_control_judges(
        shared_api: LiveApi, chart: Chart) -> None:
    """A control that judges only postings whose params ask for it (Twisp's
    ``context.vars`` names), and an amount written as CEL rather than a param."""
    api = shared_api
    card = open_customer(api, chart)
    _limit, control = _control(api, amount="decimal('10.00')",
                               condition="context.vars.transaction.tranCode == '"
                                         f"{chart.withdraw}' && params.fee > decimal('0')")
    # The limit declares an amount param that its CEL amount does not read.
    api.data(ATTACH, {"control": control, "account": str(card), "params": {"amount": "0"}})
    assert "errors" not in _spend(api, chart, card, "20.00")
    refused = api.send(POST, {"id": str(uuid.uuid4()), "code": chart.withdraw,
                              "action": "REJECT", "params": {"account": str(card),
                                                             "amount": "1.00", "fee": "0.50"}})
    assert refused["errors"][0]["extensions"]["rule"] == "velocity_limit_exceeded", refused


@pytest.mark.parametrize(("window", "rule", "code"), [
    ([{"alias": "day", "value": "context.vars.transaction.effective"}],
     "velocity_limit_shape_unsupported", "NOT_SUPPORTED"),
])
def test_a_windowed_limit_is_refused_as_not_supported(
        shared_api: LiveApi, window: list[dict[str, str]], rule: str, code: str) -> None:
    error = shared_api.error(CREATE_LIMIT, {"id": str(uuid.uuid4()), "window": window,
                                            "amount": "params.amount"})
    assert (error["extensions"]["rule"], error["extensions"]["code"]) == (rule, code)


def test_attaching_with_params_that_do_not_resolve_is_refused(
        shared_api: LiveApi, chart: Chart) -> None:
    api = shared_api
    card = open_customer(api, chart)
    _limit, control = _control(api)
    error = api.error(ATTACH, {"control": control, "account": str(card), "params": {}})
    assert error["extensions"]["rule"] == "velocity_control_params_invalid", error
    assert "params.amount is required" in error["message"]
    error = api.error(ATTACH, {"control": str(uuid.uuid4()), "account": str(card)})
    assert error["extensions"]["code"] == "NOT_FOUND"


LISTS = """
query Lists($control: String!, $limit: String!, $controlId: UUID!, $limitId: UUID!) {
  velocityControls(index: {name: VELOCITY_CONTROL_ID}, where: {velocityControlId: {eq: $control}}) {
    nodes { velocityControlId name limits { velocityLimitId } }
  }
  velocityLimits(index: {name: NAME, sort: DESC}, where: {velocityLimitId: {eq: $limit}},
                 first: 5) {
    nodes { velocityLimitId name }
  }
  velocityControl(id: $controlId) { name }
  velocityLimit(id: $limitId) { name }
}
"""


def test_controls_and_limits_are_listed_and_read_by_id(shared_api: LiveApi) -> None:
    limit, control = _control(shared_api)
    found = shared_api.data(LISTS, {"control": control, "limit": limit,
                                    "controlId": control, "limitId": limit})
    assert found["velocityControls"]["nodes"] == [
        {"velocityControlId": control, "name": "Spending",
         "limits": [{"velocityLimitId": limit}]}]
    assert found["velocityLimits"]["nodes"] == [{"velocityLimitId": limit,
                                                 "name": "Spending limit"}]
    assert (found["velocityControl"], found["velocityLimit"]) == (
        {"name": "Spending"}, {"name": "Spending limit"})
