"""Calculations in the pure core: the catalog's rules, and each entry's dimension values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger_core import (
    Calculation,
    CalculationAttachment,
    MemoryLedger,
    Posted,
    Rejected,
    RejectionCode,
    tutorial,
)
from ledger_core.calculations import dimensions_of
from ledger_core.catalog import CatalogKind, decide_catalog
from tests.core.test_account_sets import put_decision

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _calculation(ledger: MemoryLedger, code: str, **fields: Any) -> UUID:
    calculation_id = uuid4()
    decided = put_decision(ledger, CatalogKind.CREATE_CALCULATION, {
        "calculationId": str(calculation_id), "code": code,
        "dimensions": [{"alias": "code", "value": "context.vars.transaction.tranCode"},
                       {"alias": "side", "value": "context.vars.entry.direction"}], **fields})
    assert isinstance(decided, Calculation), decided
    return calculation_id


def test_dimensions_are_read_from_the_entry_its_transaction_and_its_account(
    tutorial_ledger: MemoryLedger,
) -> None:
    ledger = tutorial_ledger
    """The tutorial's deposit, under a calculation by tran code and side, and under one
    whose condition keeps only the customer's entries."""
    by_code = ledger.calculations[_calculation(ledger, "BY_CODE")]
    customers = ledger.calculations[_calculation(
        ledger, "CUSTOMERS", condition="context.vars.account.code.endsWith('.CHECKING')")]
    deposit = ledger.post(tutorial.DEPOSIT, NOW)
    assert isinstance(deposit, Posted)
    seen = {entry.account_id: (dimensions_of(by_code, entry, deposit.transaction,
                                             ledger.account(entry.account_id)),
                               dimensions_of(customers, entry, deposit.transaction,
                                             ledger.account(entry.account_id)))
            for entry in deposit.entries}
    assert seen[tutorial.ERNIE.account_id] == ({"code": "ACH_CREDIT", "side": "CREDIT"},) * 2
    assert seen[tutorial.ASSETS.account_id] == ({"code": "ACH_CREDIT", "side": "DEBIT"}, None)


@pytest.mark.parametrize(("case", "rule"), [
    ("id", RejectionCode.CALCULATION_ID_DUPLICATE),
    ("code", RejectionCode.CALCULATION_CODE_DUPLICATE),
    ("global", RejectionCode.CATALOG_COMMAND_INVALID),
    ("unknown_account", RejectionCode.ACCOUNT_NOT_FOUND),
    ("unknown_calculation", RejectionCode.CALCULATION_NOT_FOUND),
    ("not_attached", RejectionCode.CALCULATION_ATTACHMENT_NOT_FOUND),
    ("attached", RejectionCode.CALCULATION_ATTACHED),
    ("bad_cel", RejectionCode.CEL_EVALUATION_FAILED),
])
def test_each_calculation_rule_answers_with_its_code(tutorial_ledger: MemoryLedger, case: str,
                                                     rule: RejectionCode) -> None:
    """Every refusal of the calculation rules, each with the code naming it."""
    ledger = tutorial_ledger
    glob = _calculation(ledger, "GLOBAL_ONE")
    local = _calculation(ledger, "LOCAL_ONE", scope="LOCAL")
    ernie = str(tutorial.ERNIE.account_id)
    decided: Any
    if case == "id":
        decided = decide_catalog(ledger, CatalogKind.CREATE_CALCULATION, {
            "calculationId": str(glob), "code": "OTHER", "dimensions": []})
    elif case == "code":
        decided = decide_catalog(ledger, CatalogKind.CREATE_CALCULATION, {
            "calculationId": str(uuid4()), "code": "GLOBAL_ONE", "dimensions": []})
    elif case == "global":
        decided = decide_catalog(ledger, CatalogKind.ATTACH_CALCULATION, {
            "calculationId": str(glob), "accountId": ernie})
    elif case == "unknown_account":
        decided = decide_catalog(ledger, CatalogKind.ATTACH_CALCULATION, {
            "calculationId": str(local), "accountId": str(uuid4())})
    elif case == "unknown_calculation":
        decided = decide_catalog(ledger, CatalogKind.DELETE_CALCULATION, {
            "calculationId": str(uuid4())})
    elif case == "not_attached":
        decided = decide_catalog(ledger, CatalogKind.DETACH_CALCULATION, {
            "calculationId": str(local), "accountId": ernie})
    elif case == "attached":
        attached = put_decision(ledger, CatalogKind.ATTACH_CALCULATION, {
            "calculationId": str(local), "accountId": ernie})
        assert isinstance(attached, CalculationAttachment)
        decided = decide_catalog(ledger, CatalogKind.DELETE_CALCULATION, {
            "calculationId": str(local)})
    else:
        decided = decide_catalog(ledger, CatalogKind.CREATE_CALCULATION, {
            "calculationId": str(uuid4()), "code": "BROKEN",
            "dimensions": [{"alias": "x", "value": "context.vars.entry.units +"}]})
    assert isinstance(decided, Rejected), decided
    assert decided.code is rule, decided
