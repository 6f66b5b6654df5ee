"""The pure audit against forged and poisoned records: limits as they were decided, catalog
records and legs that must match a decision, records that do not decode, quarantines."""

from decimal import Decimal
from uuid import UUID, uuid4

from ledger_core import Direction, Enforcement, Layer, VelocityLimit
from ledger_core.audit import (
    AuditEntry,
    LedgerAudit,
    LimitHistory,
    Position,
    Quarantined,
    leg_digest,
)

CUSTOMER, HOUSE, JOURNAL = str(uuid4()), str(uuid4()), str(uuid4())
NORMALS = {CUSTOMER: Direction.CREDIT, HOUSE: Direction.DEBIT}
LIMIT = VelocityLimit.no_overdraft(UUID(CUSTOMER), layer=Layer.SETTLED)


def _limit(minimum: str, **changes: object) -> VelocityLimit:
    """The customer's limit (one id throughout) with another floor."""
    return LIMIT.model_copy(update={"min_available": Decimal(minimum), **changes})


def _pair(transaction: str, amount: str, offset: int, created: int,
          credit: str = CUSTOMER, debit: str = HOUSE) -> list[AuditEntry]:
    units = Decimal(amount)
    return [AuditEntry(f"{transaction}-1", transaction, debit, JOURNAL, "USD", Layer.SETTLED,
                       Direction.DEBIT, units, Position("entries", 0, offset), created),
            AuditEntry(f"{transaction}-2", transaction, credit, JOURNAL, "USD", Layer.SETTLED,
                       Direction.CREDIT, units, Position("entries", 0, offset + 1), created)]


def _withdraw(transaction: str, amount: str, offset: int, created: int) -> list[AuditEntry]:
    return _pair(transaction, amount, offset, created, credit=HOUSE, debit=CUSTOMER)


def _replay(audit: LedgerAudit, *batches: list[AuditEntry]) -> list[tuple[str, str]]:
    """Replay, finish with every transaction posted once; (rule, transaction) pairs."""
    transactions = []
    for entries in batches:
        for entry in entries:
            audit.add_entry(entry)
        transactions.append(entries[0].transaction_id)
    records = [(t, 2, Position("transactions", 0, i)) for i, t in enumerate(transactions)]
    results = [(f"c{i}", t, "POSTED", Position("results", 0, i))
               for i, t in enumerate(transactions)]
    return [(v.rule, v.ids.get("transaction_id", "")) for v in
            audit.finish(records, results, [], {})]


def test_an_overdraft_under_a_forged_looser_limit_breaks_the_genuine_one() -> None:
    """The genuine limit (min available 0) was decided; a looser version exists only on the
    catalog topic (forged, no APPLIED result); the overdraft after it is still a violation,
    checked against the genuine version, and the forged catalog record is named."""
    history = LimitHistory()
    history.decided(_limit("0"), decided_at=100, order=3)
    audit = LedgerAudit(NORMALS, history)
    audit.catalog_decided("create-limit", "key-limit", "min 0", order=3)
    audit.add_catalog_record("create-limit", "key-limit", "min 0", Position("catalog", 0, 3))
    audit.add_catalog_record("create-limit", "key-limit", "min -5000",
                             Position("catalog", 0, 9))
    rules = _replay(audit, _pair("fund", "10.00", 0, created=200),
                    _withdraw("over", "5010.00", 2, created=300))
    assert rules == [("limit_must_hold", "over"), ("catalog_record_must_match_its_result", "")]
    [forged] = [v for v in audit.violations if v.rule.startswith("catalog")]
    assert forged.position == Position("catalog", 0, 9)
    [crossed] = [v for v in audit.violations if v.rule == "limit_must_hold"]
    assert "to -5000.00" in crossed.message


def test_a_genuine_loosening_allows_what_the_earlier_version_refused() -> None:
    """Limits are checked as they were when each posting was decided: an overdraft before
    an APPLIED loosening is a violation, the same overdraft after it is not."""
    history = LimitHistory()
    history.decided(_limit("0"), decided_at=100, order=1)
    history.decided(_limit("-100"), decided_at=500, order=2)
    audit = LedgerAudit(NORMALS, history)
    rules = _replay(audit, _pair("fund", "10.00", 0, created=200),
                    _withdraw("early", "50.00", 2, created=300),
                    _pair("refund", "50.00", 4, created=400),
                    _withdraw("late", "60.00", 6, created=600))
    assert rules == [("limit_must_hold", "early")]


def test_a_limit_binds_the_postings_decided_after_it_not_before() -> None:
    """A posting decided before the limit's APPLIED result, or in the desk's own batch
    (the same instant), could not see the limit; one decided a microsecond later must."""
    history = LimitHistory()
    history.decided(_limit("0"), decided_at=1_000, order=1)
    audit = LedgerAudit(NORMALS, history)
    rules = _replay(audit, _withdraw("before", "5.00", 0, created=999),
                    _withdraw("same-batch", "5.00", 2, created=1_000),
                    _withdraw("after", "5.00", 4, created=1_001))
    assert rules == [("limit_must_hold", "after")]


def test_the_latest_catalog_value_does_not_decide_the_check() -> None:
    """The old audit checked the latest limit only; a limit created after an overdraft was
    spent does not make that overdraft a violation, but the history still catches the next."""
    history = LimitHistory()
    history.decided(_limit("0"), decided_at=1_000, order=1)
    audit = LedgerAudit(NORMALS, history)
    assert audit.history.in_force(CUSTOMER, 999) == ()
    assert audit.history.in_force(CUSTOMER, 1_001) == (_limit("0"),)
    rules = _replay(audit, _withdraw("spent", "5.00", 0, created=10),
                    _withdraw("again", "1.00", 2, created=2_000))
    assert rules == [("limit_must_hold", "again")]


def test_versions_that_the_audit_cannot_recheck_stop_the_check() -> None:
    """A version that becomes WARN, or gains a condition, is not re-checked from then on."""
    history = LimitHistory()
    history.decided(_limit("0"), decided_at=100, order=1)
    history.decided(_limit("0", enforcement=Enforcement.WARN), decided_at=300, order=2)
    history.decided(_limit("0"), decided_at=500, order=3)
    history.decided(_limit("0", condition="true"), decided_at=700, order=4)
    audit = LedgerAudit(NORMALS, history)
    rules = _replay(audit, _withdraw("rejected-then", "1.00", 0, created=200),
                    _withdraw("warn-only", "1.00", 2, created=400),
                    _withdraw("rejected-again", "1.00", 4, created=600),
                    _withdraw("conditional", "1.00", 6, created=800))
    assert rules == [("limit_must_hold", "rejected-then"), ("limit_must_hold", "rejected-again")]


def test_decision_order_wins_over_a_desk_clock_that_went_back() -> None:
    """A desk that took over with a slower clock decided later, whatever its clock says: the
    later version starts no earlier than the one it replaced."""
    history = LimitHistory()
    history.decided(_limit("-100"), decided_at=900, order=7)   # the second desk, clock behind
    history.decided(_limit("0"), decided_at=1_000, order=2)    # the first desk
    assert history.in_force(CUSTOMER, 1_001) == (_limit("-100"),)
    assert history.in_force(CUSTOMER, 950) == ()


def test_a_parallel_replay_checks_the_same_history() -> None:
    """Worker replays are spawned from the audit: they carry its history, warnings and
    quarantines, and their findings merge back."""
    history = LimitHistory()
    history.decided(_limit("0"), decided_at=100, order=1)
    audit = LedgerAudit(NORMALS, history)
    audit.warned("allowed")
    part = audit.spawn()
    for entry in [*_pair("fund", "1.00", 0, 200), *_withdraw("allowed", "5.00", 2, 300),
                  *_withdraw("over", "5.00", 4, 400)]:
        part.add_entry(entry)
    part.end_of_entries()
    audit.absorb(part)
    assert [(v.rule, v.ids["transaction_id"]) for v in audit.violations] == [
        ("limit_must_hold", "over")]


def test_catalog_records_must_be_their_commands_entities_in_decision_order() -> None:
    """A record equal to its command's APPLIED entity passes; one no APPLIED result carries
    is named; an older genuine version written again after a newer one is a replay."""
    audit = LedgerAudit(NORMALS, {})
    audit.catalog_decided("tighten", "limit-1", "min 0", order=5)
    audit.catalog_decided("loosen", "limit-1", "min -10", order=2)
    audit.add_catalog_record("loosen", "limit-1", "min -10", Position("catalog", 0, 2))
    audit.add_catalog_record("tighten", "limit-1", "min 0", Position("catalog", 0, 5))
    audit.add_catalog_record("loosen", "limit-1", "min -10", Position("catalog", 0, 8))
    audit.add_catalog_record("nobody", "limit-1", "min -99", Position("catalog", 0, 9))
    audit.add_catalog_record("tighten", "limit-1", "min -99", Position("catalog", 0, 10))
    violations = audit.finish([], [], [], {})
    assert [(v.rule, v.position) for v in violations] == [
        ("catalog_record_must_not_be_replayed", Position("catalog", 0, 8)),
        ("catalog_record_must_match_its_result", Position("catalog", 0, 9)),
        ("catalog_record_must_match_its_result", Position("catalog", 0, 10)),
    ]
    assert "has no APPLIED result" in violations[1].message
    assert "is not the entity its APPLIED result carries" in violations[2].message


def _digest(entry_id: str, units: str, partition: int) -> bytes:
    return leg_digest(entry_id, "t1", CUSTOMER, JOURNAL, units, "USD", "CREDIT", "SETTLED",
                      partition)


def test_every_leg_must_be_one_posted_entry() -> None:
    """A leg that copies an entry of a transaction record passes; a forged one, a copy
    with other units or on another partition, and a second copy of a genuine leg, do not."""
    audit = LedgerAudit(NORMALS, {})
    audit.add_leg("e1", _digest("e1", "5.00", 1), Position("legs", 1, 0))
    audit.add_leg("e1", _digest("e1", "5.00", 1), Position("legs", 1, 1))
    audit.add_leg("e1", _digest("e1", "1000.00", 1), Position("legs", 1, 2))
    audit.add_leg("e1", _digest("e1", "5.00", 2), Position("legs", 2, 0))
    audit.add_leg("forged", _digest("forged", "1000.00", 1), Position("legs", 1, 3))
    audit.leg_expected(_digest("e1", "5.00", 1))
    violations = audit.finish([], [], [], {})
    assert [(v.rule, v.position) for v in violations] == [
        ("leg_must_be_unique", Position("legs", 1, 1)),
        ("leg_must_match_a_posted_entry", Position("legs", 1, 2)),
        ("leg_must_match_a_posted_entry", Position("legs", 2, 0)),
        ("leg_must_match_a_posted_entry", Position("legs", 1, 3)),
    ]


def _digest_of(fields: list[str], partition: int) -> bytes:
    entry_id, transaction_id, account_id, journal_id, units, currency, direction, layer = fields
    return leg_digest(entry_id, transaction_id, account_id, journal_id, units, currency,
                      direction, layer, partition)


def test_the_leg_digest_covers_every_field_a_fold_reads() -> None:
    """Changing any field the owner folds, or the partition it folds on, changes it."""
    fields = ["e1", "t1", CUSTOMER, JOURNAL, "5.00", "USD", "CREDIT", "SETTLED"]
    digest = _digest_of(fields, 1)
    for index in range(len(fields)):
        changed = [*fields]
        changed[index] += "0"
        assert _digest_of(changed, 1) != digest, fields[index]
    assert _digest_of(fields, 2) != digest
    assert _digest_of(fields, 1) == digest


def test_undecodable_records_are_violations_unless_quarantined() -> None:
    """A record that does not decode is named with its position; one a processor
    quarantined is listed apart, once, and is no violation, and neither are the checks a
    decodable quarantined leg or catalog record would fail."""
    audit = LedgerAudit(NORMALS, {})
    garbled, folded_not = Position("legs", 0, 4), Position("legs", 0, 5)
    catalog = Position("catalog", 0, 7)
    letters = [Quarantined(garbled, "record_not_decodable", "not a framed entry",
                           Position("dead-letters", 0, 0)),
               Quarantined(catalog, "record_not_valid", "min above max",
                           Position("dead-letters", 0, 1)),
               Quarantined(catalog, "record_not_valid", "min above max",
                           Position("dead-letters", 0, 2)),
               Quarantined(folded_not, "leg_account_not_found", "no such account",
                           Position("dead-letters", 0, 3))]
    for letter in letters:
        audit.quarantine(letter)
    audit.undecodable(garbled, "not a framed entry")
    audit.undecodable(Position("results", 2, 9), "first byte is 0x0")
    audit.add_leg("unknown-account", b"0" * 16, folded_not)
    audit.add_leg("forged", b"1" * 16, Position("legs", 0, 6))
    audit.add_catalog_record("nobody", "k", "v", catalog)
    violations = audit.finish([], [], [], {})
    assert [(v.rule, v.position) for v in violations] == [
        ("record_must_decode", Position("results", 2, 9)),
        ("leg_must_match_a_posted_entry", Position("legs", 0, 6)),
    ]
    assert [q.source for q in audit.quarantined] == [garbled, catalog, folded_not]
    assert audit.is_quarantined(garbled) and not audit.is_quarantined(Position("legs", 0, 6))


def test_an_answer_must_name_a_command() -> None:
    """A result whose source holds no command (a forged APPLIED result, say) is named with
    its own position; answers to real commands are not."""
    audit = LedgerAudit(NORMALS, {})
    command = Position("commands", 0, 0)
    ghost = Position("catalog-commands", 0, 99)
    violations = audit.finish([], [], [command], {command: 1, ghost: 1},
                              {command: Position("results", 0, 0),
                               ghost: Position("results", 1, 5)})
    assert [(v.rule, v.position) for v in violations] == [
        ("answer_must_name_a_command", Position("results", 1, 5))]
