"""Every rejection code, provoked by bad input, with a message naming the field and value."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_core import (
    Account,
    Enforcement,
    Journal,
    Layer,
    MemoryLedger,
    Posted,
    PostTransaction,
    Rejected,
    RejectionCode,
    Status,
    TranCode,
    VelocityLimit,
    VoidTransaction,
    apply,
    parse_command,
    tutorial,
)
from ledger_core.commands import _checked_command

ERNIE = str(tutorial.ERNIE.account_id)
MISSING_ACCOUNT = "0d6f1c62-3c39-4d7f-9a4b-58bd0cb4f0aa"
OTHER_JOURNAL = Journal(
    journal_id=UUID("3f8e2a71-5b7c-4b0e-8f6a-1d2c3b4a5e6f"), name="Closed", code="CLOSED"
)

# Tran codes built to break one rule each; kept at module level so the engine conformance
# test sees their expressions too.
TYPED = TranCode.model_validate(
    {
        "tranCodeId": "a1000000-0000-4000-8000-000000000001",
        "code": "TYPED",
        "params": [
            {"name": "account", "type": "UUID"},
            {"name": "amount", "type": "DECIMAL"},
            {"name": "count", "type": "INTEGER", "default": "1"},
            {"name": "currency", "type": "STRING", "default": "'USD'"},
            {"name": "journal", "type": "STRING",
             "default": "'822cb59f-ce51-4837-8391-2af3b7a5fc51'"},
            {"name": "debitAccount", "type": "STRING",
             "default": "'78551b96-9c34-46f9-8d5f-c86e4459fcd7'"},
            {"name": "creditAmount", "type": "DECIMAL", "default": "params.amount"},
        ],
        "transaction": {"journalId": "uuid(params.journal)"},
        "entries": [
            {"accountId": "uuid(params.debitAccount)", "units": "params.amount",
             "currency": "params.currency", "direction": "DEBIT"},
            {"accountId": "params.account", "units": "params.creditAmount",
             "currency": "params.currency", "direction": "CREDIT"},
        ],
    }
)  # fmt: skip

BROKEN_CEL = TranCode.model_validate(
    {
        "tranCodeId": "a1000000-0000-4000-8000-000000000002",
        "code": "BROKEN_CEL",
        "params": [{"name": "amount", "type": "DECIMAL"}],
        "vars": {"fee": "decimal(params.amount) / decimal('0')"},
        "entries": [
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')",
             "units": "vars.fee", "currency": "'USD'", "direction": "DEBIT"},
        ],
    }
)  # fmt: skip

NOTHING_WRITTEN = TranCode.model_validate(
    {
        "tranCodeId": "a1000000-0000-4000-8000-000000000003",
        "code": "NOTHING_WRITTEN",
        "entries": [
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "units": "'1'",
             "currency": "'USD'", "direction": "DEBIT", "condition": "1 > 2"},
        ],
    }
)  # fmt: skip

LOCKED_CODE = TranCode.model_validate(
    {
        "tranCodeId": "a1000000-0000-4000-8000-000000000004",
        "code": "LOCKED_CODE",
        "status": "LOCKED",
        "entries": [
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "units": "'1'",
             "currency": "'USD'", "direction": "DEBIT"},
        ],
    }
)  # fmt: skip


# Copies a free-text param into the transaction's description and picks the entry type.
COPYING = TranCode.model_validate(
    {
        "tranCodeId": "a1000000-0000-4000-8000-000000000005",
        "code": "COPYING",
        "params": [{"name": "memo", "type": "STRING"},
                   {"name": "kind", "type": "STRING", "default": "'COPY'"}],
        "transaction": {"description": "params.memo + ' ' + params.memo"},
        "entries": [
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "units": "'1'",
             "currency": "'USD'", "direction": "DEBIT", "entryType": "params.kind"},
            {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "units": "'1'",
             "currency": "'USD'", "direction": "CREDIT"},
        ],
    }
)  # fmt: skip


@pytest.fixture
def ledger(tutorial_ledger: MemoryLedger) -> MemoryLedger:
    """The tutorial's ledger plus tran codes and accounts built to break rules."""
    for tran_code in (TYPED, BROKEN_CEL, NOTHING_WRITTEN, LOCKED_CODE, COPYING):
        tutorial_ledger.add_tran_code(tran_code)
    tutorial_ledger.add_journal(OTHER_JOURNAL.model_copy(update={"status": Status.LOCKED}))
    return tutorial_ledger


def _typed(transaction_id: int = 1, **params: Any) -> PostTransaction:
    base: dict[str, Any] = {"account": ERNIE, "amount": "1.00"}
    base.update(params)
    return PostTransaction(transaction_id=UUID(int=transaction_id), tran_code="TYPED", params=base)


def _reject(ledger: MemoryLedger, command: Any, now: datetime) -> Rejected:
    decision = apply(ledger, command, now)
    assert isinstance(decision, Rejected), decision
    return decision


def test_command_invalid(now: datetime) -> None:
    """An undecodable posting command is refused as command_invalid naming the field."""
    decision = parse_command({"transactionId": "not-a-uuid", "tranCode": "ACH_CREDIT"})
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.COMMAND_INVALID
    assert decision.field == "transactionId"
    assert "transactionId" in decision.message
    assert decision.value == "'not-a-uuid'"


def _copying(memo: str, **params: str) -> dict[str, Any]:
    return {"transactionId": str(UUID(int=77)), "tranCode": "COPYING",
            "params": {"memo": memo, **params}}


def test_text_not_valid_unicode() -> None:
    """A param holding a lone surrogate is refused before anything copies it into a record."""
    decision = parse_command(_copying("x\ud800y"))
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.TEXT_NOT_VALID_UNICODE
    assert decision.field == "params.memo"
    assert "surrogate" in decision.message
    named = parse_command({**_copying("memo"), "params": {"memo": "m", "\ud800": 1}})
    assert isinstance(named, Rejected)
    assert named.code is RejectionCode.TEXT_NOT_VALID_UNICODE
    decision.message.encode("utf-8")


def test_text_has_control_characters(ledger: MemoryLedger, now: datetime) -> None:
    """Codes may not hold control characters or bidi overrides, whether sent or computed."""
    decision = parse_command({**_copying("memo"), "tranCode": "COPY\u202eING"})
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.TEXT_HAS_CONTROL_CHARACTERS
    assert decision.field == "tranCode"
    assert "U+202E" in decision.message
    command = parse_command(_copying("memo", kind="RED\x1b[31mALERT"))
    assert not isinstance(command, Rejected)
    computed = _reject(ledger, command, now)
    assert computed.code is RejectionCode.TEXT_HAS_CONTROL_CHARACTERS
    assert computed.field == "entries[0].entryType"


def test_text_too_long(ledger: MemoryLedger, now: datetime) -> None:
    """A param past TEXT_LENGTH_MAX is refused, and so is a description CEL makes too long."""
    sent = parse_command(_copying("x" * 5000))
    assert isinstance(sent, Rejected)
    assert sent.code is RejectionCode.TEXT_TOO_LONG
    assert "4096" in sent.message
    command = parse_command(_copying("x" * 600))
    assert not isinstance(command, Rejected)
    computed = _reject(ledger, command, now)
    assert computed.code is RejectionCode.TEXT_TOO_LONG
    assert computed.field == "transaction.description"
    assert "1201 characters" in computed.message


def test_json_too_deep() -> None:
    """Params nested deeper than JSON_DEPTH_MAX are refused without walking them recursively."""
    nested: Any = "leaf"
    for _ in range(40):
        nested = {"n": nested}
    decision = parse_command(_copying("memo", deep=nested))
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.JSON_TOO_DEEP
    assert "32" in decision.message


def test_json_too_large() -> None:
    """Params larger than JSON_SIZE_MAX in all are refused, however their strings split up."""
    many = {f"k{i}": "v" * 4000 for i in range(20)}
    decision = parse_command(_copying("memo", **many))
    assert isinstance(decision, Rejected)
    assert decision.code is RejectionCode.JSON_TOO_LARGE
    assert "65536" in decision.message


def test_parse_command_reads_twisp_shaped_posting() -> None:
    """A well-formed camelCase posting decodes into a PostTransaction."""
    command = parse_command({**tutorial.DEPOSIT.model_dump(by_alias=True, mode="json")})
    assert command == tutorial.DEPOSIT


def test_parse_command_reads_void() -> None:
    """A payload with voidOf decodes into a VoidTransaction."""
    command = parse_command({"voidOf": str(tutorial.DEPOSIT.transaction_id)})
    assert command == VoidTransaction(void_of=tutorial.DEPOSIT.transaction_id)


def test_transaction_id_duplicate(ledger: MemoryLedger, now: datetime) -> None:
    """Re-sending a posted id is a duplicate even when the command itself changed."""
    assert isinstance(ledger.post(tutorial.DEPOSIT, now), Posted)
    changed = tutorial.DEPOSIT.model_copy(update={"tran_code": "NO_SUCH_CODE"})
    decision = _reject(ledger, changed, now)
    assert decision.code is RejectionCode.TRANSACTION_ID_DUPLICATE
    assert str(tutorial.DEPOSIT.transaction_id) in decision.message
    assert decision.field == "transactionId"


def test_tran_code_not_found(ledger: MemoryLedger, now: datetime) -> None:
    """Posting through an unknown tran code names the code."""
    command = PostTransaction(transaction_id=UUID(int=9), tran_code="ACH_TYPO")
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.TRAN_CODE_NOT_FOUND
    assert "ACH_TYPO" in decision.message
    assert decision.value == "ACH_TYPO"


def test_tran_code_version_not_found(ledger: MemoryLedger, now: datetime) -> None:
    """Pinning a version that does not exist names the version."""
    command = tutorial.DEPOSIT.model_copy(update={"tran_code_version": 7})
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.TRAN_CODE_VERSION_NOT_FOUND
    assert "version 7" in decision.message
    assert decision.field == "tranCodeVersion"


def test_tran_code_locked(ledger: MemoryLedger, now: datetime) -> None:
    """A LOCKED tran code version accepts no postings."""
    command = PostTransaction(transaction_id=UUID(int=9), tran_code="LOCKED_CODE")
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.TRAN_CODE_LOCKED
    assert "LOCKED_CODE" in decision.message


def test_param_missing(ledger: MemoryLedger, now: datetime) -> None:
    """A required param (one with no default) that is absent is named."""
    command = tutorial.DEPOSIT.model_copy(update={"params": {"account": ERNIE}})
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.PARAM_MISSING
    assert decision.field == "params.amount"
    assert "params.amount" in decision.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount", 9.53),
        ("amount", "9,53"),
        ("amount", "NaN"),
        ("account", "ernie"),
        ("count", "1.5"),
        ("count", True),
    ],
)
def test_param_type_invalid(ledger: MemoryLedger, now: datetime, name: str, value: Any) -> None:
    """A param that is not of its declared type is refused, never coerced approximately."""
    decision = _reject(ledger, _typed(**{name: value}), now)
    assert decision.code is RejectionCode.PARAM_TYPE_INVALID
    assert decision.field == f"params.{name}"
    assert f"params.{name}" in decision.message
    assert str(value) in decision.message or repr(value) in decision.message


def test_param_type_invalid_for_date(ledger: MemoryLedger, now: datetime) -> None:
    """A DATE param must be YYYY-MM-DD."""
    command = tutorial.DEPOSIT.model_copy(
        update={"params": {**tutorial.DEPOSIT.params, "effective": "21/09/2022"}}
    )
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.PARAM_TYPE_INVALID
    assert "21/09/2022" in decision.message


def test_param_unknown(ledger: MemoryLedger, now: datetime) -> None:
    """A param the tran code does not declare is refused rather than silently ignored."""
    decision = _reject(ledger, _typed(amuont="5.00"), now)
    assert decision.code is RejectionCode.PARAM_UNKNOWN
    assert decision.field == "params.amuont"
    assert "amuont" in decision.message


def test_cel_evaluation_failed(ledger: MemoryLedger, now: datetime) -> None:
    """A var whose CEL fails (here a division by zero) names the var and its expression."""
    command = PostTransaction(
        transaction_id=UUID(int=9), tran_code="BROKEN_CEL", params={"amount": "1.00"}
    )
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.CEL_EVALUATION_FAILED
    assert decision.field == "vars.fee"
    assert "decimal('0')" in decision.message


def test_cel_evaluation_failed_on_bad_uuid(ledger: MemoryLedger, now: datetime) -> None:
    """A template yielding a malformed uuid fails evaluation and names the field."""
    decision = _reject(ledger, _typed(debitAccount="not-a-uuid"), now)
    assert decision.code is RejectionCode.CEL_EVALUATION_FAILED
    assert decision.field == "entries[0].accountId"
    assert "not-a-uuid" in decision.message


def test_journal_not_found(ledger: MemoryLedger, now: datetime) -> None:
    """A transaction template naming an unknown journal is refused with its id."""
    journal = "5a5a5a5a-0000-4000-8000-000000000000"
    decision = _reject(ledger, _typed(journal=journal), now)
    assert decision.code is RejectionCode.JOURNAL_NOT_FOUND
    assert journal in decision.message
    assert decision.field == "transaction.journalId"


def test_journal_locked(ledger: MemoryLedger, now: datetime) -> None:
    """A LOCKED journal accepts no postings."""
    decision = _reject(ledger, _typed(journal=str(OTHER_JOURNAL.journal_id)), now)
    assert decision.code is RejectionCode.JOURNAL_LOCKED
    assert str(OTHER_JOURNAL.journal_id) in decision.message


def test_account_not_found(ledger: MemoryLedger, now: datetime) -> None:
    """An entry on an unknown account names the entry and the account id."""
    decision = _reject(ledger, _typed(account=MISSING_ACCOUNT), now)
    assert decision.code is RejectionCode.ACCOUNT_NOT_FOUND
    assert decision.field == "entries[1].accountId"
    assert MISSING_ACCOUNT in decision.message


def test_account_locked(ledger: MemoryLedger, now: datetime) -> None:
    """A LOCKED account refuses entries."""
    ledger.add_account(tutorial.ERNIE.model_copy(update={"status": Status.LOCKED}))
    decision = _reject(ledger, tutorial.DEPOSIT, now)
    assert decision.code is RejectionCode.ACCOUNT_LOCKED
    assert "ERNIE.CHECKING" in decision.message


def test_inactive_account_still_posts(ledger: MemoryLedger, now: datetime) -> None:
    """INACTIVE means 'to be locked soon' and still accepts postings."""
    ledger.add_account(tutorial.ERNIE.model_copy(update={"status": Status.INACTIVE}))
    assert isinstance(apply(ledger, tutorial.DEPOSIT, now), Posted)


def test_currency_invalid(ledger: MemoryLedger, now: datetime) -> None:
    """A currency missing from the ISO 4217 table is refused and named."""
    decision = _reject(ledger, _typed(currency="XYZ"), now)
    assert decision.code is RejectionCode.CURRENCY_INVALID
    assert "'XYZ'" in decision.message
    assert decision.field == "entries[0].currency"


@pytest.mark.parametrize(("currency", "amount"), [("USD", "1.234"), ("JPY", "10.5"),
                                                  ("BHD", "0.0001")])  # fmt: skip
def test_amount_invalid(ledger: MemoryLedger, now: datetime, currency: str, amount: str) -> None:
    """An amount the currency cannot represent is refused, never rounded."""
    decision = _reject(ledger, _typed(currency=currency, amount=amount), now)
    assert decision.code is RejectionCode.AMOUNT_INVALID
    assert amount in decision.message
    assert currency in decision.message
    assert decision.field == "entries[0].units"


def test_entries_must_balance(ledger: MemoryLedger, now: datetime) -> None:
    """Debits and credits that differ in a currency are refused with both totals."""
    decision = _reject(ledger, _typed(amount="10.00", creditAmount="9.99"), now)
    assert decision.code is RejectionCode.ENTRIES_MUST_BALANCE
    assert "USD" in decision.message
    assert "10.00" in decision.message
    assert "9.99" in decision.message


def test_entries_must_balance_when_nothing_is_written(ledger: MemoryLedger, now: datetime) -> None:
    """A transaction whose every entry condition is false writes nothing and is refused."""
    command = PostTransaction(transaction_id=UUID(int=9), tran_code="NOTHING_WRITTEN")
    decision = _reject(ledger, command, now)
    assert decision.code is RejectionCode.ENTRIES_MUST_BALANCE
    assert "no entries" in decision.message


def test_limited_account_must_be_local(now: datetime) -> None:
    """Debiting a REJECT-limited account owned by another partition is refused."""
    ledger = MemoryLedger(owns=lambda account_id: account_id != tutorial.ERNIE.account_id)
    tutorial.install(ledger)
    ledger.add_limit(VelocityLimit.no_overdraft(tutorial.ERNIE.account_id, layer=Layer.SETTLED))
    decision = _reject(ledger, tutorial.WITHDRAWAL, now)
    assert decision.code is RejectionCode.LIMITED_ACCOUNT_MUST_BE_LOCAL
    assert str(tutorial.ERNIE.account_id) in decision.message
    assert "ERNIE.CHECKING" in decision.message


def test_velocity_limit_exceeded(ledger: MemoryLedger, now: datetime) -> None:
    """Withdrawing more than the balance crosses a no-overdraft limit and is refused."""
    ledger.add_limit(VelocityLimit.no_overdraft(tutorial.ERNIE.account_id, layer=Layer.SETTLED))
    decision = _reject(ledger, tutorial.WITHDRAWAL, now)
    assert decision.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED
    assert "ERNIE.CHECKING" in decision.message
    assert "-4.28" in decision.message
    assert decision.value == "-4.28"


def test_void_target_not_found(ledger: MemoryLedger, now: datetime) -> None:
    """Voiding an id that was never posted names the id."""
    missing = UUID("77777777-0000-4000-8000-000000000000")
    decision = _reject(ledger, VoidTransaction(void_of=missing), now)
    assert decision.code is RejectionCode.VOID_TARGET_NOT_FOUND
    assert str(missing) in decision.message
    assert decision.field == "voidOf"


def test_void_of_void(ledger: MemoryLedger, now: datetime) -> None:
    """A void cannot itself be voided."""
    ledger.post(tutorial.DEPOSIT, now)
    void = ledger.post(VoidTransaction(void_of=tutorial.DEPOSIT.transaction_id), now)
    assert isinstance(void, Posted)
    decision = _reject(ledger, VoidTransaction(void_of=void.transaction.transaction_id), now)
    assert decision.code is RejectionCode.VOID_OF_VOID
    assert str(void.transaction.transaction_id) in decision.message


def test_transaction_already_voided(ledger: MemoryLedger, now: datetime) -> None:
    """A second, different void of a voided transaction is refused and names the first."""
    ledger.post(tutorial.DEPOSIT, now)
    first = ledger.post(VoidTransaction(void_of=tutorial.DEPOSIT.transaction_id), now)
    assert isinstance(first, Posted)
    # A void re-sent under the same id is a duplicate; only a view that lost the void's own
    # record but kept the link (e.g. a restored snapshot) reaches the already-voided rule.
    del ledger.transactions[first.transaction.transaction_id]
    decision = _reject(ledger, VoidTransaction(void_of=tutorial.DEPOSIT.transaction_id), now)
    assert decision.code is RejectionCode.TRANSACTION_ALREADY_VOIDED
    assert str(first.transaction.transaction_id) in decision.message


def test_resent_void_is_a_duplicate(ledger: MemoryLedger, now: datetime) -> None:
    """Sending the same void twice answers transaction_id_duplicate, not a second void."""
    ledger.post(tutorial.DEPOSIT, now)
    void = VoidTransaction(void_of=tutorial.DEPOSIT.transaction_id)
    assert isinstance(ledger.post(void, now), Posted)
    decision = _reject(ledger, void, now)
    assert decision.code is RejectionCode.TRANSACTION_ID_DUPLICATE


def test_override_downgrades_reject_to_warn(ledger: MemoryLedger, now: datetime) -> None:
    """override_enforcement=WARN posts past a REJECT limit and reports the breach."""
    ledger.add_limit(VelocityLimit.no_overdraft(tutorial.ERNIE.account_id, layer=Layer.SETTLED))
    command = tutorial.WITHDRAWAL.model_copy(update={"override_enforcement": Enforcement.WARN})
    decision = apply(ledger, command, now)
    assert isinstance(decision, Posted)
    (warning,) = decision.warnings
    assert warning.code is RejectionCode.VELOCITY_LIMIT_EXCEEDED


def test_precedence_follows_declaration_order(ledger: MemoryLedger, now: datetime) -> None:
    """With several rules broken, the one declared first in RejectionCode wins."""
    # Unknown account, bad currency and unbalanced entries at once: account_not_found wins.
    command = _typed(account=MISSING_ACCOUNT, currency="XYZ", creditAmount="2.00")
    assert _reject(ledger, command, now).code is RejectionCode.ACCOUNT_NOT_FOUND
    # A missing param beats an unknown one.
    command = tutorial.DEPOSIT.model_copy(update={"params": {"account": ERNIE, "x": "1"}})
    assert _reject(ledger, command, now).code is RejectionCode.PARAM_MISSING


def test_every_code_is_provoked_here() -> None:
    """This module has a test for every code a posting or void can be rejected with."""
    # Codes declared after velocity_limit_exceeded are the runtime's and the catalog's.
    codes = list(RejectionCode)
    decision_codes = codes[: codes.index(RejectionCode.VELOCITY_LIMIT_EXCEEDED) + 1]
    names = {name for name in globals() if name.startswith("test_")}
    for code in decision_codes:
        assert f"test_{code.value}" in names, code


def test_account_model_refuses_unknown_fields() -> None:
    """Catalog input with a misspelt field fails validation instead of being ignored."""
    with pytest.raises(ValueError, match="normalBalanceTyp"):
        Account.model_validate(
            {"accountId": ERNIE, "code": "X", "name": "X", "normalBalanceTyp": "DEBIT"}
        )


_ANY_TEXT = st.one_of(st.sampled_from(["ACH_CREDIT", "ACH\u202eCREDIT", "", "x" * 200]),
                      st.text(max_size=12))
_IDS = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
                 st.uuids().map(lambda u: u.hex), st.sampled_from(["not-a-uuid", ""]),
                 st.integers(), st.none())
_PARAM_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), _ANY_TEXT,
                                       st.decimals(allow_nan=False, allow_infinity=False)),
                             lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(_ANY_TEXT, inner,
                                                                     max_size=3)),
                             max_leaves=8)
_PAYLOADS = st.one_of(
    st.fixed_dictionaries(
        {"transaction_id": _IDS, "tran_code": st.one_of(_ANY_TEXT, st.integers())},
        optional={"tran_code_version": st.one_of(st.none(), st.integers(-2, 3),
                                                 st.just("2"), st.booleans()),
                  "params": st.one_of(st.dictionaries(_ANY_TEXT, _PARAM_VALUES, max_size=4),
                                      st.lists(st.integers(), max_size=2)),
                  "override_enforcement": st.sampled_from([None, "WARN", "REJECT", "warn"]),
                  "extra": st.integers()}),
    st.fixed_dictionaries({"void_of": _IDS},
                          optional={"transaction_id": _IDS,
                                    "override_enforcement": st.sampled_from([None, "WARN"])}),
)


@settings(max_examples=500, deadline=None)
@given(_PAYLOADS)
def test_the_quick_check_of_a_command_accepts_only_what_the_models_accept(
        payload: dict[str, Any]) -> None:
    """parse_command's field-by-field path gives exactly the command the pydantic models
    give, and leaves everything else to them."""
    quick = _checked_command(payload)
    if quick is None:
        return
    model = VoidTransaction if "void_of" in payload else PostTransaction
    assert quick == model.model_validate(payload)
