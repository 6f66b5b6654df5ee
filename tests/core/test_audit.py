"""The pure audit: folding entries and naming each broken invariant."""

from decimal import Decimal
from uuid import uuid4

from ledger_core import Direction, Layer, VelocityLimit
from ledger_core.audit import AuditEntry, FoldedBalance, LedgerAudit, Position

CUSTOMER, HOUSE, JOURNAL = str(uuid4()), str(uuid4()), str(uuid4())
NORMALS = {CUSTOMER: Direction.CREDIT, HOUSE: Direction.DEBIT}


def _pos(offset: int) -> Position:
    return Position("entries", 0, offset)


def _pair(transaction: str, amount: str, offset: int, credit: str = CUSTOMER,
          debit: str = HOUSE) -> list[AuditEntry]:
    units = Decimal(amount)
    return [AuditEntry(f"{transaction}-1", transaction, debit, JOURNAL, "USD", Layer.SETTLED,
                       Direction.DEBIT, units, _pos(offset)),
            AuditEntry(f"{transaction}-2", transaction, credit, JOURNAL, "USD", Layer.SETTLED,
                       Direction.CREDIT, units, _pos(offset + 1))]


def _finish(audit: LedgerAudit, transactions: dict[str, int]) -> list[str]:
    records = [(t, n, Position("transactions", 0, i))
               for i, (t, n) in enumerate(transactions.items())]
    results = [(f"c{i}", t, "POSTED", Position("results", 0, i))
               for i, t in enumerate(transactions)]
    return [v.rule for v in audit.finish(records, results, [], {})]


def test_a_clean_log_has_no_violations_and_folds_balances() -> None:
    """Balanced, unique, complete transactions fold to the expected balances."""
    audit = LedgerAudit(NORMALS, {})
    for entry in [*_pair("t1", "10.00", 0), *_pair("t2", "2.50", 2)]:
        audit.add_entry(entry)
    assert _finish(audit, {"t1": 2, "t2": 2}) == []
    customer = audit.balances[(CUSTOMER, JOURNAL, "USD")]
    assert customer.available(Layer.SETTLED, Direction.CREDIT) == Decimal("12.50")
    assert customer.version == 2


def test_an_unbalanced_transaction_is_named() -> None:
    """Entries whose debits and credits differ give transaction_must_balance."""
    audit = LedgerAudit(NORMALS, {})
    debit, credit = _pair("t1", "10.00", 0)
    audit.add_entry(debit)
    audit.add_entry(AuditEntry("t1-2", "t1", CUSTOMER, JOURNAL, "USD", Layer.SETTLED,
                               Direction.CREDIT, Decimal("9.99"), _pos(1)))
    assert _finish(audit, {"t1": 2}) == ["transaction_must_balance"]
    assert credit.units == Decimal("10.00")


def test_a_duplicated_entry_is_named_and_not_folded_twice() -> None:
    """The same entry id twice gives entry_must_be_unique; the balance counts it once."""
    audit = LedgerAudit(NORMALS, {})
    entries = _pair("t1", "10.00", 0)
    for entry in [*entries, entries[1]]:
        audit.add_entry(entry)
    assert _finish(audit, {"t1": 2}) == ["entry_must_be_unique"]
    assert audit.balances[(CUSTOMER, JOURNAL, "USD")].version == 1


def test_missing_entries_and_missing_results_are_named() -> None:
    """A transaction short of entries, and entries without a POSTED result, are violations."""
    audit = LedgerAudit(NORMALS, {})
    audit.add_entry(_pair("t1", "1.00", 0)[0])
    for entry in [*_pair("rogue", "1.00", 1), *_pair("unanswered", "1.00", 3)]:
        audit.add_entry(entry)
    records = [("t1", 2, Position("transactions", 0, 0)),
               ("unanswered", 2, Position("transactions", 0, 1))]
    results = [("c1", "t1", "POSTED", Position("results", 0, 0))]
    rules = {v.rule for v in audit.finish(records, results, [], {})}
    assert rules == {"transaction_must_balance", "transaction_must_have_all_its_entries",
                     "entries_must_belong_to_a_transaction", "entries_must_have_a_posted_result"}


def test_a_crossed_limit_is_named_unless_the_result_warned() -> None:
    """Moving below a REJECT no-overdraft limit is a violation; a warned posting is not."""
    limit = VelocityLimit.no_overdraft(uuid4(), layer=Layer.SETTLED)
    limits = {CUSTOMER: [limit]}
    audit = LedgerAudit(NORMALS, limits)
    for entry in [*_pair("fund", "5.00", 0),
                  *_pair("over", "6.00", 2, credit=HOUSE, debit=CUSTOMER)]:
        audit.add_entry(entry)
    assert _finish(audit, {"fund": 2, "over": 2}) == ["limit_must_hold"]

    warned = LedgerAudit(NORMALS, limits)
    warned.warned("over")
    for entry in [*_pair("fund", "5.00", 0),
                  *_pair("over", "6.00", 2, credit=HOUSE, debit=CUSTOMER)]:
        warned.add_entry(entry)
    assert _finish(warned, {"fund": 2, "over": 2}) == []


def test_every_command_needs_exactly_one_answer() -> None:
    """An input with no result, or with two, is named with its position."""
    audit = LedgerAudit(NORMALS, {})
    inputs = [Position("commands", 0, 0), Position("commands", 0, 1)]
    answered = {inputs[1]: 2}
    violations = audit.finish([], [], inputs, answered)
    assert [(v.rule, v.position) for v in violations] == [
        ("command_must_have_one_answer", inputs[0]), ("command_must_have_one_answer", inputs[1])]


def test_another_computation_of_the_balances_is_compared() -> None:
    """A CDC balance that differs from the replay is named with the account."""
    audit = LedgerAudit(NORMALS, {})
    for entry in _pair("t1", "10.00", 0):
        audit.add_entry(entry)
    wrong = FoldedBalance(version=1)
    wrong.cr[0] = Decimal("10.01")
    right = audit.balances[(HOUSE, JOURNAL, "USD")]
    audit.compare("cdc", {(CUSTOMER, JOURNAL, "USD"): wrong, (HOUSE, JOURNAL, "USD"): right})
    assert [(v.rule, v.ids["account_id"]) for v in audit.violations] == [
        ("cdc_must_equal_the_replay", CUSTOMER)]
