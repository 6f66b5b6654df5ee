"""Catalog rules: unique ids and codes, idempotent creates, versioned updates, bounded CEL."""

from typing import Any
from uuid import uuid4

import pytest

from ledger_core import Account, Layer, Rejected, Status, TranCode, VelocityLimit, tutorial
from ledger_core.catalog import Catalog, CatalogKind, decide_catalog
from ledger_core.enums import ParamType
from ledger_core.params import JSON_VALUES_MAX, coerce_param


@pytest.fixture
def catalog() -> Catalog:
    """The tutorial's journal, accounts and tran codes."""
    catalog = Catalog()
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
        catalog.put(entity)
    return catalog


def _rejected(catalog: Catalog, kind: CatalogKind, body: dict[str, Any]) -> Rejected:
    decision = decide_catalog(catalog, kind, body)
    assert isinstance(decision, Rejected), decision
    return decision


def test_repeating_a_create_exactly_is_accepted_without_change(catalog: Catalog) -> None:
    """Re-sending the same account or tran code returns the existing entity."""
    account = decide_catalog(catalog, CatalogKind.CREATE_ACCOUNT,
                             tutorial.ERNIE.model_dump(mode="json", by_alias=True))
    tran_code = decide_catalog(catalog, CatalogKind.CREATE_TRAN_CODE, tutorial.ACH_CREDIT_INPUT)
    assert account == tutorial.ERNIE
    assert tran_code == tutorial.ACH_CREDIT


@pytest.mark.parametrize("kind, body, code, named", [
    (CatalogKind.CREATE_ACCOUNT, {"accountId": str(uuid4())}, "catalog_command_invalid",
     "code"),
    (CatalogKind.CREATE_JOURNAL, {"journalId": str(tutorial.JOURNAL.journal_id), "name": "X"},
     "journal_id_duplicate", str(tutorial.JOURNAL.journal_id)),
    (CatalogKind.CREATE_ACCOUNT, {"accountId": str(tutorial.ERNIE.account_id), "code": "X",
                                  "name": "X"}, "account_id_duplicate",
     str(tutorial.ERNIE.account_id)),
    (CatalogKind.CREATE_ACCOUNT, {"accountId": str(uuid4()), "code": "ASSET", "name": "X"},
     "account_code_duplicate", "ASSET"),
    (CatalogKind.CREATE_TRAN_CODE, {**tutorial.ACH_CREDIT_INPUT, "description": "other"},
     "tran_code_duplicate", "ACH_CREDIT"),
    (CatalogKind.UPDATE_TRAN_CODE, {"code": "NOPE"}, "tran_code_not_found", "NOPE"),
    (CatalogKind.UPDATE_ACCOUNT, {"accountId": str(uuid4()), "status": "LOCKED"},
     "account_not_found", "does not exist"),
    (CatalogKind.UPDATE_ACCOUNT, {"accountId": str(tutorial.ERNIE.account_id),
                                  "normalBalanceType": "DEBIT"}, "catalog_command_invalid",
     "normal_balance_type"),
    (CatalogKind.CREATE_LIMIT, {"limitId": str(uuid4()), "accountId": str(uuid4()),
                                "layer": "SETTLED", "minAvailable": "0"},
     "account_not_found", "does not exist"),
])
def test_each_catalog_rule_rejects_with_its_code(
    catalog: Catalog, kind: CatalogKind, body: dict[str, Any], code: str, named: str
) -> None:
    """A change breaking a catalog rule is refused with the rule's code and the value."""
    rejected = _rejected(catalog, kind, body)
    assert rejected.code == code
    assert named in rejected.message


def test_a_limit_id_cannot_be_reused_for_another_limit(catalog: Catalog) -> None:
    """The same limit id with other bounds is limit_id_duplicate."""
    limit = VelocityLimit.no_overdraft(tutorial.ERNIE.account_id, layer=Layer.SETTLED)
    catalog.put(limit)
    body = {**limit.model_dump(mode="json", by_alias=True), "minAvailable": "5"}
    assert _rejected(catalog, CatalogKind.CREATE_LIMIT, body).code == "limit_id_duplicate"


def test_updating_a_tran_code_makes_a_new_version(catalog: Catalog) -> None:
    """An update replaces the given fields under version + 1 and keeps the code."""
    updated = decide_catalog(catalog, CatalogKind.UPDATE_TRAN_CODE,
                             {"code": "ACH_CREDIT", "status": "LOCKED"})
    assert isinstance(updated, TranCode)
    assert (updated.version, updated.status, updated.entries) == (
        2, Status.LOCKED, tutorial.ACH_CREDIT.entries)


def test_updating_an_account_keeps_codes_unique(catalog: Catalog) -> None:
    """Changing an account's code to one in use is refused; a status change is accepted."""
    ernie = str(tutorial.ERNIE.account_id)
    locked = decide_catalog(catalog, CatalogKind.UPDATE_ACCOUNT,
                            {"accountId": ernie, "status": "LOCKED"})
    assert isinstance(locked, Account) and locked.status is Status.LOCKED
    clash = _rejected(catalog, CatalogKind.UPDATE_ACCOUNT, {"accountId": ernie, "code": "ASSET"})
    assert clash.code == "account_code_duplicate"


def test_nested_comprehensions_are_refused_at_creation(catalog: Catalog) -> None:
    """A tran code whose CEL nests map inside map is cel_expression_too_costly."""
    body = {**tutorial.ACH_CREDIT_INPUT, "code": "RUNAWAY", "tranCodeId": str(uuid4()),
            "params": [*tutorial.ACH_CREDIT_INPUT["params"], {"name": "items", "type": "JSON"}],
            "vars": {"n": "params.items.map(x, params.items.map(y, x + y)).size()"}}
    rejected = _rejected(catalog, CatalogKind.CREATE_TRAN_CODE, body)
    assert rejected.code == "cel_expression_too_costly"
    assert "vars.n" in rejected.message


def test_json_params_are_bounded_in_size() -> None:
    """A JSON param larger than the bound is refused with the size in the reason."""
    _value, reason = coerce_param(ParamType.JSON, list(range(JSON_VALUES_MAX + 1)))
    assert reason is not None and str(JSON_VALUES_MAX) in reason
    assert coerce_param(ParamType.JSON, list(range(10))) == (list(range(10)), None)


def _account(**fields: Any) -> dict[str, Any]:
    return {"accountId": str(uuid4()), "code": "NEW.ACCOUNT", "name": "New", **fields}


@pytest.mark.parametrize("body, code, field", [
    (_account(name="x\ud800y"), "text_not_valid_unicode", "name"),
    (_account(code="EVIL\u202egnp"), "text_has_control_characters", "code"),
    (_account(name="Ernie\x00"), "text_has_control_characters", "name"),
    (_account(name="Ernie\x1b[2J"), "text_has_control_characters", "name"),
    (_account(name="n" * 257), "text_too_long", "name"),
    (_account(description="d" * 1025), "text_too_long", "description"),
    (_account(metadata={"note": "m" * 4097}), "text_too_long", "metadata"),
])
def test_account_text_is_bounded(catalog: Catalog, body: dict[str, Any], code: str,
                                 field: str) -> None:
    """Account codes and names hold no control characters, and every text has a bound."""
    decision = _rejected(catalog, CatalogKind.CREATE_ACCOUNT, body)
    assert decision.code == code
    assert decision.field == field
    decision.message.encode("utf-8")
    assert decision.value is None or len(decision.value) <= 200
    (decision.value or "").encode("utf-8")


def test_metadata_depth_is_bounded(catalog: Catalog) -> None:
    """Metadata nested past JSON_DEPTH_MAX is refused as json_too_deep."""
    nested: Any = 1
    for _ in range(40):
        nested = [nested]
    decision = _rejected(catalog, CatalogKind.CREATE_ACCOUNT, _account(metadata={"n": nested}))
    assert decision.code == "json_too_deep"


@pytest.mark.parametrize("units", [
    "(" * 200 + "1" + ")" * 200,
    "(" * 100 + "1" + ")" * 100,
    "+".join(["1"] * 20_000),
    "+".join(["1"] * 500),
    "1 + " * 1100 + "1",
])
def test_cel_size_and_nesting_are_bounded_before_parsing(catalog: Catalog, units: str) -> None:
    """A CEL source too long, too deep or with too many terms is refused before any recursive
    parser sees it, so creating the tran code cannot overflow the stack."""
    body = {**tutorial.ACH_CREDIT_INPUT, "code": "DEEP", "tranCodeId": str(uuid4())}
    body["entries"] = [{**body["entries"][0], "units": units}, *body["entries"][1:]]
    decision = _rejected(catalog, CatalogKind.CREATE_TRAN_CODE, body)
    assert decision.code == "cel_expression_too_complex"
    assert decision.field == "entries.0.units"
    assert decision.value is not None and len(decision.value) <= 200


@pytest.mark.parametrize("source, code", [
    ("'" + "\\\\" * 20 + "4", "cel_evaluation_failed"),
    ('"unterminated', "cel_evaluation_failed"),
    (" || ".join(["params.nope"] * 14), "cel_expression_too_complex"),
])
def test_cel_the_parsers_would_choke_on_is_refused(catalog: Catalog, source: str,
                                                   code: str) -> None:
    """An unterminated string literal (the CEL grammar backtracks exponentially over one of
    backslashes) and a long chain of && / || (cel-python's error messages double with each
    failing operand) are refused by scanning, before any engine sees them."""
    body = {**tutorial.ACH_CREDIT_INPUT, "code": "CHOKE", "tranCodeId": str(uuid4())}
    body["entries"] = [{**body["entries"][0], "condition": source}, *body["entries"][1:]]
    decision = _rejected(catalog, CatalogKind.CREATE_TRAN_CODE, body)
    assert decision.code == code
    assert decision.field == "entries.0.condition"


def test_cel_within_bounds_still_compiles(catalog: Catalog) -> None:
    """The bounds admit expressions far larger than any tran code the project ships."""
    body = {**tutorial.ACH_CREDIT_INPUT, "code": "WIDE", "tranCodeId": str(uuid4())}
    units = "(" * 15 + "+".join(["params.amount"] * 60) + ")" * 15
    body["entries"] = [{**entry, "units": units} for entry in body["entries"]]
    decision = decide_catalog(catalog, CatalogKind.CREATE_TRAN_CODE, body)
    assert isinstance(decision, TranCode), decision
