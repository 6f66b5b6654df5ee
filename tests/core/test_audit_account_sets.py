"""The pure audit with account sets: entries fold onto the sets they name, set balances are
compared like any other, and the sets an entry names must be ones it can roll up into."""

from decimal import Decimal
from uuid import uuid4

from ledger_core import Direction, Layer
from ledger_core.audit import (
    AccountSets,
    AuditEntry,
    FoldedBalance,
    LedgerAudit,
    Position,
    leg_digest,
)

ALICE, BOB, HOUSE = str(uuid4()), str(uuid4()), str(uuid4())
JOURNAL, OTHER_JOURNAL = str(uuid4()), str(uuid4())
# TOTAL holds ALICE, BOB and TEAM; TEAM holds ALICE: ALICE reaches TOTAL twice.
TOTAL, TEAM, ELSEWHERE = str(uuid4()), str(uuid4()), str(uuid4())
NORMALS = {ALICE: Direction.CREDIT, BOB: Direction.CREDIT, HOUSE: Direction.DEBIT}


def _sets() -> AccountSets:
    sets = AccountSets()
    sets.account_set(TOTAL, JOURNAL, Direction.DEBIT)
    sets.account_set(TEAM, JOURNAL, Direction.CREDIT)
    sets.account_set(ELSEWHERE, OTHER_JOURNAL, Direction.CREDIT)
    for set_id, member in ((TOTAL, ALICE), (TOTAL, BOB), (TOTAL, TEAM), (TEAM, ALICE),
                           (ELSEWHERE, ALICE)):
        sets.member_added(set_id, member)
    return sets


def _deposit(transaction: str, customer: str, amount: str, offset: int,
             parents: tuple[str, ...], partition: int = 0) -> list[AuditEntry]:
    units = Decimal(amount)
    return [AuditEntry(f"{transaction}-1", transaction, HOUSE, JOURNAL, "USD", Layer.SETTLED,
                       Direction.DEBIT, units, Position("entries", partition, offset)),
            AuditEntry(f"{transaction}-2", transaction, customer, JOURNAL, "USD",
                       Layer.SETTLED, Direction.CREDIT, units,
                       Position("entries", partition, offset + 1), parents=parents)]


def _finish(audit: LedgerAudit, transactions: list[str]) -> list[str]:
    records = [(t, 2, Position("transactions", 0, i)) for i, t in enumerate(transactions)]
    results = [(f"c{i}", t, "POSTED", Position("results", 0, i))
               for i, t in enumerate(transactions)]
    return [v.rule for v in audit.finish(records, results, [], {})]


def _balance(dr: str, cr: str, version: int, normal: Direction | None) -> FoldedBalance:
    balance = FoldedBalance(version=version, normal=normal)
    balance.dr[0], balance.cr[0] = Decimal(dr), Decimal(cr)
    return balance


def test_entries_fold_onto_every_set_they_name_once_with_the_sets_normal_type() -> None:
    """ALICE's deposits roll up into TEAM and TOTAL (once, though she reaches it twice),
    BOB's into TOTAL alone; TOTAL is read debit-normal, TEAM credit-normal."""
    audit = LedgerAudit(NORMALS, {}, _sets())
    for entry in [*_deposit("t1", ALICE, "10.00", 0, (TEAM, TOTAL)),
                  *_deposit("t2", BOB, "2.50", 2, (TOTAL,)),
                  *_deposit("t3", ALICE, "1.00", 4, (TEAM, TOTAL))]:
        audit.add_entry(entry)
    assert _finish(audit, ["t1", "t2", "t3"]) == []
    total = audit.balances[(TOTAL, JOURNAL, "USD")]
    team = audit.balances[(TEAM, JOURNAL, "USD")]
    assert (total.cr[0], total.version, total.normal) == (Decimal("13.50"), 3, Direction.DEBIT)
    assert total.available(Layer.SETTLED, Direction.DEBIT) == Decimal("-13.50")
    assert (team.cr[0], team.version, team.normal) == (Decimal("11.00"), 2, Direction.CREDIT)
    assert (ELSEWHERE, JOURNAL, "USD") not in audit.balances

    cdc = {key: _balance(str(b.dr[0]), str(b.cr[0]), b.version, b.normal)
           for key, b in audit.balances.items()}
    audit.compare("cdc", cdc)
    assert audit.violations == []


def test_a_set_balance_that_is_not_the_fold_of_its_entries_is_named() -> None:
    """A set balance off by a cent, one read with the members' normal type instead of the
    set's, one for a set nothing rolled up into, and a missing one, are each named."""
    audit = LedgerAudit(NORMALS, {}, _sets())
    for entry in [*_deposit("t1", ALICE, "10.00", 0, (TEAM, TOTAL)),
                  *_deposit("t2", BOB, "5.00", 2, (TOTAL,))]:
        audit.add_entry(entry)
    assert _finish(audit, ["t1", "t2"]) == []
    stranger = str(uuid4())
    cdc = {key: _balance(str(b.dr[0]), str(b.cr[0]), b.version, b.normal)
           for key, b in audit.balances.items() if key[0] != TEAM}
    cdc[(TOTAL, JOURNAL, "USD")] = _balance("0", "15.00", 2, Direction.CREDIT)
    cdc[(ELSEWHERE, OTHER_JOURNAL, "USD")] = _balance("0", "1.00", 1, Direction.CREDIT)
    cdc[(stranger, JOURNAL, "USD")] = _balance("0", "1.00", 1, Direction.CREDIT)
    audit.compare("cdc", cdc)
    named = sorted(v.ids["account_id"] for v in audit.violations)
    assert named == sorted([TOTAL, TEAM, ELSEWHERE, stranger])
    assert {v.rule for v in audit.violations} == {"cdc_must_equal_the_replay"}
    [total] = [v for v in audit.violations if v.ids["account_id"] == TOTAL]
    assert f"balance of set {TOTAL}" in total.message
    assert "credit-normal" in total.message and "debit-normal" in total.message

    off = LedgerAudit(NORMALS, {}, _sets())
    for entry in _deposit("t1", ALICE, "10.00", 0, (TEAM, TOTAL)):
        off.add_entry(entry)
    right = {key: _balance(str(b.dr[0]), str(b.cr[0]), b.version, b.normal)
             for key, b in off.balances.items()}
    right[(TEAM, JOURNAL, "USD")] = _balance("0", "10.01", 1, Direction.CREDIT)
    right[(TOTAL, JOURNAL, "USD")] = _balance("0", "10.00", 1, None)
    off.compare("cdc", right)
    assert sorted(v.ids["account_id"] for v in off.violations) == sorted([TEAM, TOTAL])
    [inconsistent] = [v for v in off.violations if v.ids["account_id"] == TOTAL]
    assert "do not follow from its totals and its type" in inconsistent.message


def test_sets_an_entry_cannot_roll_up_into_are_named() -> None:
    """An entry naming no set, a set of another journal, a set its account never was in,
    or a set twice, breaks entry_must_roll_up_into_its_account_sets (once per entry)."""
    sets = _sets()
    audit = LedgerAudit(NORMALS, {}, sets)
    stranger = str(uuid4())
    bad = {"t1": (stranger,), "t2": (ELSEWHERE,), "t3": (TEAM,), "t4": (TOTAL, TOTAL)}
    customers = {"t1": ALICE, "t2": ALICE, "t3": BOB, "t4": BOB}
    for offset, (transaction, parents) in enumerate(bad.items()):
        for entry in _deposit(transaction, customers[transaction], "1.00", 2 * offset,
                              parents):
            audit.add_entry(entry)
    for entry in _deposit("fine", BOB, "1.00", 8, (TOTAL,)):
        audit.add_entry(entry)
    violations = audit.finish(
        [(t, 2, Position("transactions", 0, i)) for i, t in enumerate([*bad, "fine"])],
        [(f"c{i}", t, "POSTED", Position("results", 0, i))
         for i, t in enumerate([*bad, "fine"])], [], {})
    assert [(v.rule, v.ids["transaction_id"]) for v in violations] == [
        ("entry_must_roll_up_into_its_account_sets", t) for t in bad]
    messages = [v.message for v in violations]
    assert "which is no account set" in messages[0]
    assert f"belongs to journal {OTHER_JOURNAL}" in messages[1]
    assert "never was a member" in messages[2]
    assert "more than once" in messages[3]
    # Folded once each all the same, as the processor was told to.
    assert audit.balances[(TOTAL, JOURNAL, "USD")].version == 2


def test_a_member_removed_later_still_reaches_the_set_for_earlier_entries() -> None:
    """Membership is never forgotten: a removal does not make the entries posted before it
    (nor voids of them) wrong; reaching a set through a nested set counts."""
    sets = AccountSets()
    sets.account_set(TOTAL, JOURNAL, Direction.CREDIT)
    sets.account_set(TEAM, JOURNAL, Direction.CREDIT)
    sets.member_added(TEAM, BOB)
    sets.member_added(TOTAL, TEAM)
    assert sets.ever_reached(BOB) == frozenset({TEAM, TOTAL})
    audit = LedgerAudit(NORMALS, {}, sets)
    for entry in _deposit("t1", BOB, "1.00", 0, (TEAM, TOTAL)):
        audit.add_entry(entry)
    assert _finish(audit, ["t1"]) == []


def test_partial_replays_add_up_a_sets_balance() -> None:
    """Two partitions' entries of one set, replayed apart and absorbed, sum up."""
    audit = LedgerAudit(NORMALS, {}, _sets())
    first, second = audit.spawn(), audit.spawn()
    for entry in _deposit("t1", ALICE, "4.00", 0, (TEAM, TOTAL), partition=1):
        first.add_entry(entry)
    for entry in _deposit("t2", BOB, "6.00", 0, (TOTAL,), partition=2):
        second.add_entry(entry)
    for part in (first, second):
        part.end_of_entries()
        part.forget_entry_ids()
        audit.absorb(part)
    total = audit.balances[(TOTAL, JOURNAL, "USD")]
    assert (total.cr[0], total.version, total.normal) == (Decimal("10.00"), 2, Direction.DEBIT)


def _digest(partition: int, parents: tuple[str, ...] = (TEAM, TOTAL),
            units: str = "5.00") -> bytes:
    return leg_digest("e1", "t1", ALICE, JOURNAL, units, "USD", "CREDIT", "SETTLED",
                      partition, parents)


def test_an_entry_may_have_one_leg_on_each_partition_that_folds_it() -> None:
    """Copies of one entry on the partitions of its account and of its sets pass; a copy
    on a partition that folds none of them, a second copy on one partition, and a copy
    whose sets were changed, do not."""
    audit = LedgerAudit(NORMALS, {}, _sets())
    for partition in (1, 2, 3):
        audit.add_leg("e1", _digest(partition), Position("legs", partition, 0))
    audit.add_leg("e1", _digest(2), Position("legs", 2, 1))
    audit.add_leg("e1", _digest(1, (TOTAL,)), Position("legs", 1, 1))
    audit.add_leg("e1", _digest(0), Position("legs", 0, 0), placed=False)
    for partition in (1, 2, 3):
        audit.leg_expected(_digest(partition))
    violations = audit.finish([], [], [], {})
    assert [(v.rule, v.position) for v in violations] == [
        ("leg_must_be_unique", Position("legs", 2, 1)),
        ("leg_must_be_on_a_partition_that_folds_it", Position("legs", 0, 0)),
        ("leg_must_match_a_posted_entry", Position("legs", 1, 1)),
    ]


def test_the_leg_digest_covers_the_sets_and_their_order() -> None:
    """A leg whose sets differ from its entry's would fold onto other balances."""
    digest = _digest(1)
    assert _digest(1, (TEAM,)) != digest
    assert _digest(1, ()) != digest
    assert _digest(1, (TOTAL, TEAM)) != digest
    assert _digest(1, (TEAM, TOTAL)) == digest
