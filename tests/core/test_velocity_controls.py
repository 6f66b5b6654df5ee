"""Velocity controls in the pure core: the catalog's rules, and their bounds on postings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger_core import (
    ControlAttachment,
    ControlLimit,
    MemoryLedger,
    Posted,
    PostTransaction,
    Rejected,
    RejectionCode,
    VelocityControl,
    tutorial,
)
from ledger_core.catalog import CatalogKind
from tests.core.test_account_sets import put_decision

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
J = tutorial.JOURNAL_ID


def _limit(ledger: MemoryLedger, **fields: Any) -> UUID:
    limit_id = uuid4()
    decided = put_decision(ledger, CatalogKind.CREATE_VELOCITY_LIMIT, {
        "velocityLimitId": str(limit_id), "name": "withdrawals", "currency": "USD",
        "params": [{"name": "amount", "type": "DECIMAL"}],
        "balance": [{"layer": "SETTLED", "amount": "params.amount",
                     "normalBalanceType": "DEBIT"}], **fields})
    assert isinstance(decided, ControlLimit), decided
    return limit_id


def _control(ledger: MemoryLedger, limit_ids: list[UUID], **fields: Any) -> UUID:
    control_id = uuid4()
    decided = put_decision(ledger, CatalogKind.CREATE_VELOCITY_CONTROL, {
        "velocityControlId": str(control_id), "name": "spending", "enforcement": "REJECT",
        "velocityLimitIds": [str(i) for i in limit_ids], **fields})
    assert isinstance(decided, VelocityControl), decided
    return control_id


def _attach(ledger: MemoryLedger, control_id: UUID, owner: UUID, **params: str) -> Any:
    return put_decision(ledger, CatalogKind.ATTACH_VELOCITY_CONTROL, {
        "velocityControlId": str(control_id), "accountId": str(owner), "journalId": str(J),
        "params": params})


def _withdraw(amount: str, account: UUID = tutorial.ERNIE.account_id,
              **properties: Any) -> PostTransaction:
    return PostTransaction.model_validate({
        "transactionId": str(uuid4()), "tranCode": "ACH_DEBIT",
        "params": {"account": str(account), "amount": amount, "effective": "2022-09-21"},
        **properties})


def _deposit(amount: str, account: UUID = tutorial.ERNIE.account_id) -> PostTransaction:
    return PostTransaction.model_validate({
        "transactionId": str(uuid4()), "tranCode": "ACH_CREDIT",
        "params": {"account": str(account), "amount": amount, "effective": "2022-09-21"}})


def test_an_attached_control_bounds_what_an_account_may_have_spent(
        tutorial_ledger: MemoryLedger) -> None:
    """A REJECT control allowing 10.00 of debit on Ernie's credit-normal account: an
    overdraft up to 10.00 passes, the posting past it is refused, and a deposit (a move
    back) always passes."""
    ledger = tutorial_ledger
    control = _control(ledger, [_limit(ledger)])
    assert isinstance(_attach(ledger, control, tutorial.ERNIE.account_id, amount="10.00"),
                      ControlAttachment)
    assert isinstance(ledger.post(_withdraw("6.00"), NOW), Posted)
    assert isinstance(ledger.post(_withdraw("4.00"), NOW), Posted)
    refused = ledger.post(_withdraw("0.01"), NOW)
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    assert str(control) in refused.message and "at most 10.00" in refused.message
    assert refused.detail is not None
    assert {k: refused.detail[k] for k in ("accountId", "layer", "currency",
                                           "previousBalance", "violatingBalance")} == {
        "accountId": str(tutorial.ERNIE.account_id), "layer": "SETTLED", "currency": "USD",
        "previousBalance": "-10.00", "violatingBalance": "-10.01"}
    assert isinstance(ledger.post(_deposit("1.00"), NOW), Posted)
    assert isinstance(ledger.post(_withdraw("1.00"), NOW), Posted)
    [resolved] = ledger.resolved_limits(tutorial.ERNIE.account_id)
    assert (resolved.amount, resolved.velocity_control_id) == (Decimal("10.00"), control)


def test_a_control_on_a_set_bounds_its_members_together(
        tutorial_ledger: MemoryLedger) -> None:
    """A control on the CUSTOMERS set caps what Ernie and Bert may owe together; an
    amount of "inf" on another attachment bounds nothing."""
    ledger = tutorial_ledger
    put_decision(ledger, CatalogKind.CREATE_ACCOUNT_SET, tutorial.CUSTOMERS.model_dump(
        mode="json", by_alias=True))
    for member in (tutorial.ERNIE, tutorial.BERT):
        put_decision(ledger, CatalogKind.ADD_TO_ACCOUNT_SET, {
            "accountSetId": str(tutorial.CUSTOMERS.account_set_id),
            "memberId": str(member.account_id), "memberType": "ACCOUNT"})
    control = _control(ledger, [_limit(ledger)])
    assert isinstance(_attach(ledger, control, tutorial.CUSTOMERS.account_set_id,
                              amount="5.00"), ControlAttachment)
    assert isinstance(ledger.post(_withdraw("3.00"), NOW), Posted)
    refused = ledger.post(_withdraw("2.01", tutorial.BERT.account_id), NOW)
    assert isinstance(refused, Rejected), refused
    assert refused.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    assert isinstance(ledger.post(_withdraw("2.00", tutorial.BERT.account_id), NOW), Posted)
    # A control attached to a set already past its bound refuses moves further past it,
    # and lets a deposit move the set back (judged from the roll-up as it stood).
    assert isinstance(_attach(ledger, control, tutorial.CUSTOMERS.account_set_id,
                              amount="1.00"), ControlAttachment)
    assert isinstance(ledger.post(_withdraw("0.01"), NOW), Rejected)
    moved_back = ledger.post(_deposit("0.50", tutorial.BERT.account_id), NOW)
    assert isinstance(moved_back, Posted), moved_back
    refused = ledger.post(_withdraw("0.01"), NOW)
    assert isinstance(refused, Rejected)
    assert "account set CUSTOMERS" in refused.message
    assert "from -4.50 to -4.51" in refused.message
    # Attaching again replaces the params.
    assert isinstance(_attach(ledger, control, tutorial.CUSTOMERS.account_set_id,
                              amount="inf"), ControlAttachment)
    assert isinstance(ledger.post(_withdraw("500.00", tutorial.BERT.account_id), NOW), Posted)


def test_warn_posts_with_a_warning_and_a_condition_picks_the_postings_it_judges(
        tutorial_ledger: MemoryLedger) -> None:
    ledger = tutorial_ledger
    limit = _limit(ledger)
    warn = _control(ledger, [limit], enforcement="WARN")
    only_ach = _control(ledger, [limit], condition=(
        "context.vars.transaction.tranCode == 'ACH_DEBIT' && "
        "!has(context.vars.transaction.metadata.exempt)"))
    _attach(ledger, warn, tutorial.ERNIE.account_id, amount="1.00")
    _attach(ledger, only_ach, tutorial.ERNIE.account_id, amount="3.00")
    warned = ledger.post(_withdraw("2.00"), NOW)
    assert isinstance(warned, Posted)
    assert [w.code for w in warned.warnings] == [RejectionCode.VELOCITY_LIMIT_EXCEEDED]
    refused = ledger.post(_withdraw("2.00"), NOW)
    assert isinstance(refused, Rejected)
    overridden = ledger.post(_withdraw(
        "2.00", overrideEnforcement="WARN"), NOW)
    assert isinstance(overridden, Posted), overridden
    [detached] = [put_decision(ledger, CatalogKind.DETACH_VELOCITY_CONTROL, {
        "velocityControlId": str(c), "accountId": str(tutorial.ERNIE.account_id),
        "journalId": str(J)}) for c in (only_ach,)]
    assert isinstance(detached, ControlAttachment) and detached.detached
    assert isinstance(ledger.post(_withdraw("20.00"), NOW), Posted)


def test_changing_a_control_changes_what_it_enforces(tutorial_ledger: MemoryLedger) -> None:
    ledger = tutorial_ledger
    first, second = _limit(ledger), _limit(ledger, balance=[
        {"layer": "'SETTLED'", "amount": "decimal('1.00')", "normalBalanceType": "DEBIT"}])
    control = _control(ledger, [first])
    _attach(ledger, control, tutorial.ERNIE.account_id, amount="50.00")
    assert isinstance(ledger.post(_withdraw("2.00"), NOW), Posted)
    added = put_decision(ledger, CatalogKind.UPDATE_VELOCITY_CONTROL, {
        "velocityControlId": str(control), "addVelocityLimitIds": [str(second)]})
    assert isinstance(added, VelocityControl) and added.velocity_limit_ids == (first, second)
    assert isinstance(ledger.post(_withdraw("0.01"), NOW), Rejected)
    put_decision(ledger, CatalogKind.DELETE_VELOCITY_LIMIT, {"velocityLimitId": str(second)})
    assert isinstance(ledger.post(_withdraw("0.01"), NOW), Posted)
    deleted = put_decision(ledger, CatalogKind.DELETE_VELOCITY_CONTROL,
                           {"velocityControlId": str(control)})
    assert isinstance(deleted, VelocityControl)
    assert ledger.resolved_limits(tutorial.ERNIE.account_id) == ()
    refused = _attach(ledger, control, tutorial.BERT.account_id, amount="1")
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.VELOCITY_CONTROL_LOCKED


@pytest.mark.parametrize(("fields", "rule"), [
    ({"window": [{"alias": "day", "value": "context.vars.transaction.effective"}]},
     RejectionCode.VELOCITY_LIMIT_SHAPE_UNSUPPORTED),
    ({"condition": "true"}, RejectionCode.VELOCITY_LIMIT_SHAPE_UNSUPPORTED),
    ({"balance": [{"layer": "SETTLED", "amount": "1", "normalBalanceType": "DEBIT",
                   "start": "timestamp('2026-01-01T00:00:00Z')"}]},
     RejectionCode.VELOCITY_LIMIT_SHAPE_UNSUPPORTED),
    ({"balance": [{"layer": "SETTLED", "amount": "params.amount +", "normalBalanceType":
                   "DEBIT"}]}, RejectionCode.CEL_EVALUATION_FAILED),
    ({"currency": "XYZ"}, RejectionCode.CURRENCY_INVALID),
])
def test_limits_the_ledger_cannot_enforce_are_refused(
        tutorial_ledger: MemoryLedger, fields: dict[str, Any], rule: RejectionCode) -> None:
    decided = put_decision(tutorial_ledger, CatalogKind.CREATE_VELOCITY_LIMIT, {
        "velocityLimitId": str(uuid4()), "name": "bad",
        "balance": [{"layer": "SETTLED", "amount": "1", "normalBalanceType": "DEBIT"}],
        **fields})
    assert isinstance(decided, Rejected)
    assert decided.code is rule, decided


@pytest.mark.parametrize(("params", "needle"), [
    ({}, "params.amount is required"),
    ({"amount": "lots"}, "params.amount"),
])
def test_an_attachment_whose_params_do_not_resolve_is_refused(
        tutorial_ledger: MemoryLedger, params: dict[str, str], needle: str) -> None:
    ledger = tutorial_ledger
    control = _control(ledger, [_limit(ledger)])
    refused = _attach(ledger, control, tutorial.ERNIE.account_id, **params)
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.VELOCITY_CONTROL_PARAMS_INVALID
    assert needle in refused.message


def test_a_control_on_a_set_owned_elsewhere_refuses_postings_that_move_it_towards_its_bound(
) -> None:
    """Decided on a partition that owns Ernie but not the set, a withdrawal that would move
    the set towards its bound must go to the set's partition; a deposit need not."""
    ledger = MemoryLedger(owns=lambda account_id: account_id !=
                          tutorial.CUSTOMERS.account_set_id)
    tutorial.install(ledger)
    put_decision(ledger, CatalogKind.CREATE_ACCOUNT_SET, tutorial.CUSTOMERS.model_dump(
        mode="json", by_alias=True))
    put_decision(ledger, CatalogKind.ADD_TO_ACCOUNT_SET, {
        "accountSetId": str(tutorial.CUSTOMERS.account_set_id),
        "memberId": str(tutorial.ERNIE.account_id), "memberType": "ACCOUNT"})
    control = _control(ledger, [_limit(ledger)])
    _attach(ledger, control, tutorial.CUSTOMERS.account_set_id, amount="100.00")
    refused = ledger.post(_withdraw("1.00"), NOW)
    assert isinstance(refused, Rejected)
    assert refused.code is RejectionCode.LIMITED_ACCOUNT_MUST_BE_LOCAL
    assert isinstance(ledger.post(_deposit("1.00"), NOW), Posted)
