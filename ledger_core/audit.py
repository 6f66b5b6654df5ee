"""Proving a ledger from its log: replay entries, rebuild balances, and check the invariants.

The shell reads the topics and feeds records here in log order; everything in this module is
pure. Entries arrive as plain values rather than models because an audit replays millions of
them. Each violation is named after the invariant it breaks and says where in the log the
evidence is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from ledger_core.enums import LAYER_RANK, Direction, Enforcement, Layer
from ledger_core.limits import VelocityLimit

__all__ = ["AuditEntry", "FoldedBalance", "LedgerAudit", "Position", "Violation"]

_ZERO = Decimal(0)
_LAYERS = (Layer.SETTLED, Layer.PENDING, Layer.ENCUMBRANCE)


class Position(NamedTuple):
    """Where a record sits in the log."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant, with the evidence's place in the log and the ids involved."""

    rule: str
    message: str
    position: Position | None
    ids: Mapping[str, str] = field(default_factory=dict)


class AuditEntry(NamedTuple):
    """The fields of an entry that the audit folds and checks (a tuple: replays are long)."""

    entry_id: str
    transaction_id: str
    account_id: str
    journal_id: str
    currency: str
    layer: Layer
    direction: Direction
    units: Decimal
    position: Position


@dataclass(slots=True)
class FoldedBalance:
    """Debit and credit totals per layer of one (account, journal, currency), and a version."""

    dr: list[Decimal] = field(default_factory=lambda: [_ZERO, _ZERO, _ZERO])
    cr: list[Decimal] = field(default_factory=lambda: [_ZERO, _ZERO, _ZERO])
    version: int = 0

    def available(self, layer: Layer, normal: Direction) -> Decimal:
        """Cumulative normal balance up to ``layer``."""
        rank = LAYER_RANK[layer] + 1
        dr, cr = sum(self.dr[:rank], _ZERO), sum(self.cr[:rank], _ZERO)
        return cr - dr if normal is Direction.CREDIT else dr - cr


@dataclass(slots=True)
class _Open:
    transaction_id: str
    before: dict[tuple[str, str, Layer], Decimal]
    position: Position


BalanceKey = tuple[str, str, str]


class LedgerAudit:
    """Folds entries in log order and collects violations of the ledger's invariants."""

    def __init__(self, normal_types: Mapping[str, Direction],
                 limits: Mapping[str, Sequence[VelocityLimit]]) -> None:
        """``normal_types`` and ``limits`` are keyed by account id (as text)."""
        self.normal_types = normal_types
        self.limits = {account: [limit for limit in account_limits
                                 if limit.enforcement is Enforcement.REJECT
                                 and limit.condition is None]
                       for account, account_limits in limits.items()}
        self.balances: dict[BalanceKey, FoldedBalance] = {}
        self._limited_keys: dict[str, list[BalanceKey]] = defaultdict(list)
        self.violations: list[Violation] = []
        self.entries_seen = 0
        self._entry_ids: dict[str, Position] = {}
        self._sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
        self._entry_counts: dict[str, int] = defaultdict(int)
        self._first_entry: dict[str, Position] = {}
        self._open: dict[str, _Open] = {}
        self._warned: set[str] = set()

    # Entries ----------------------------------------------------------------------------

    def add_entry(self, entry: AuditEntry) -> None:
        """Fold one entry, in the log order of its account's partition."""
        self.entries_seen += 1
        seen = self._entry_ids.get(entry.entry_id)
        if seen is not None:
            self._violate("entry_must_be_unique",
                          f"entry {entry.entry_id} appears again (first at {seen})",
                          entry.position, entry_id=entry.entry_id,
                          transaction_id=entry.transaction_id)
            return
        self._entry_ids[entry.entry_id] = entry.position
        self._first_entry.setdefault(entry.transaction_id, entry.position)
        self._entry_counts[entry.transaction_id] += 1
        signed = entry.units if entry.direction is Direction.DEBIT else -entry.units
        sums = self._sums[entry.transaction_id]
        sums[entry.currency] = sums.get(entry.currency, _ZERO) + signed
        if entry.account_id in self.limits:
            self._track_limits(entry)
        key = (entry.account_id, entry.journal_id, entry.currency)
        balance = self.balances.get(key)
        if balance is None:
            balance = self.balances[key] = FoldedBalance()
            if entry.account_id in self.limits:
                self._limited_keys[entry.account_id].append(key)
        index = LAYER_RANK[entry.layer]
        if entry.direction is Direction.DEBIT:
            balance.dr[index] += entry.units
        else:
            balance.cr[index] += entry.units
        balance.version += 1

    def _track_limits(self, entry: AuditEntry) -> None:
        opened = self._open.get(entry.account_id)
        if opened is None or opened.transaction_id != entry.transaction_id:
            if opened is not None:
                self._close(entry.account_id, opened)
            self._open[entry.account_id] = _Open(
                entry.transaction_id, self._availability(entry.account_id), entry.position)

    def _availability(self, account_id: str) -> dict[tuple[str, str, Layer], Decimal]:
        normal = self.normal_types[account_id]
        return {(journal, currency, limit.layer):
                self.balances[(account_id, journal, currency)].available(limit.layer, normal)
                for (_account, journal, currency) in self._limited_keys[account_id]
                for limit in self.limits[account_id]}

    def _close(self, account_id: str, opened: _Open) -> None:
        if opened.transaction_id in self._warned:
            return
        normal = self.normal_types[account_id]
        for key in self._limited_keys[account_id]:
            _account, journal, currency = key
            balance = self.balances[key]
            for limit in self.limits[account_id]:
                if not limit.applies_to_text(journal, currency):
                    continue
                before = opened.before.get((journal, currency, limit.layer), _ZERO)
                after = balance.available(limit.layer, normal)
                breach = limit.breach(before, after)
                if breach is not None:
                    self._violate(
                        "limit_must_hold",
                        f"transaction {opened.transaction_id} moved available({limit.layer}) "
                        f"of account {account_id} from {before} to {after} {currency}, "
                        f"{breach} of limit {limit.limit_id}",
                        opened.position, account_id=account_id,
                        transaction_id=opened.transaction_id, limit_id=str(limit.limit_id))

    def end_of_entries(self) -> None:
        """Close the limit checks still open: every entry has been replayed."""
        for account_id, opened in list(self._open.items()):
            self._close(account_id, opened)
        self._open.clear()

    def forget_entry_ids(self) -> None:
        """Drop the entry ids seen: a partial replay is merged without them (an entry lives
        on its account's partition, so a copy elsewhere shows as a count mismatch)."""
        self._entry_ids = {}

    def absorb(self, part: LedgerAudit) -> None:
        """Merge the replay of other partitions (each account lives on one partition)."""
        self.entries_seen += part.entries_seen
        self.violations.extend(part.violations)
        for key, balance in part.balances.items():
            mine = self.balances.get(key)
            if mine is None:
                self.balances[key] = balance
                continue
            mine.dr = [a + b for a, b in zip(mine.dr, balance.dr, strict=True)]
            mine.cr = [a + b for a, b in zip(mine.cr, balance.cr, strict=True)]
            mine.version += balance.version
        for transaction_id, sums in part._sums.items():
            merged = self._sums[transaction_id]
            for currency, total in sums.items():
                merged[currency] = merged.get(currency, _ZERO) + total
        for transaction_id, count in part._entry_counts.items():
            self._entry_counts[transaction_id] += count
        for transaction_id, position in part._first_entry.items():
            self._first_entry.setdefault(transaction_id, position)

    # Transactions and results -------------------------------------------------------------

    def finish(self, transactions: Iterable[tuple[str, int, Position]],
               results: Iterable[tuple[str, str | None, str, Position]],
               inputs: Iterable[Position],
               answered: Mapping[Position, int]) -> list[Violation]:
        """Close the replay and check what needs the whole log; return every violation.

        ``transactions``: (transaction id, entry_count, position) of each transaction record.
        ``results``: (command id, transaction id, status, position) of each result.
        ``inputs``: the position of every command record; ``answered`` counts the results
        and dead letters that name each input position as their source.
        """
        self.end_of_entries()
        for transaction_id, sums in self._sums.items():
            for currency, total in sums.items():
                if total != 0:
                    self._violate("transaction_must_balance",
                                  f"transaction {transaction_id} is off by {total} {currency}",
                                  self._first_entry[transaction_id],
                                  transaction_id=transaction_id, currency=currency)
        expected = self._check_transactions(transactions)
        self._check_results(results, expected)
        for position in inputs:
            count = answered.get(position, 0)
            if count != 1:
                self._violate("command_must_have_one_answer",
                              f"the command at {position} has {count} results or dead letters",
                              position)
        return self.violations

    def warned(self, transaction_id: str) -> None:
        """The posting's result carried limit warnings (WARN or an override): its moves past
        a limit were allowed. Call it before the entries are replayed."""
        self._warned.add(transaction_id)

    @property
    def warned_transactions(self) -> set[str]:
        """The transactions whose moves past a limit were allowed."""
        return set(self._warned)

    def _check_transactions(self, transactions: Iterable[tuple[str, int, Position]]
                            ) -> dict[str, int]:
        expected: dict[str, int] = {}
        for transaction_id, entry_count, position in transactions:
            known = expected.get(transaction_id)
            if known is not None and known != entry_count:
                self._violate("transaction_must_be_unique",
                              f"transaction {transaction_id} was written again with "
                              f"{entry_count} entries instead of {known}", position,
                              transaction_id=transaction_id)
            expected[transaction_id] = entry_count
            seen = self._entry_counts.get(transaction_id, 0)
            if seen != entry_count and known is None:
                self._violate("transaction_must_have_all_its_entries",
                              f"transaction {transaction_id} has {seen} of its "
                              f"{entry_count} entries on the entries topic", position,
                              transaction_id=transaction_id)
        for transaction_id, position in self._first_entry.items():
            if transaction_id not in expected:
                self._violate("entries_must_belong_to_a_transaction",
                              f"entries of {transaction_id} have no transaction record",
                              position, transaction_id=transaction_id)
        return expected

    def _check_results(self, results: Iterable[tuple[str, str | None, str, Position]],
                       expected: Mapping[str, int]) -> None:
        posted: dict[str, Position] = {}
        for command_id, transaction_id, status, position in results:
            if status != "POSTED" or transaction_id is None:
                continue
            if transaction_id in posted:
                self._violate("transaction_must_post_once",
                              f"transaction {transaction_id} has a second POSTED result "
                              f"(first at {posted[transaction_id]})", position,
                              transaction_id=transaction_id, command_id=command_id)
            posted[transaction_id] = position
            if transaction_id not in expected:
                self._violate("posted_result_must_have_entries",
                              f"POSTED result for {transaction_id} has no transaction record",
                              position, transaction_id=transaction_id, command_id=command_id)
        for transaction_id in expected:
            if transaction_id not in posted:
                self._violate("entries_must_have_a_posted_result",
                              f"transaction {transaction_id} has entries but no POSTED result",
                              self._first_entry.get(transaction_id),
                              transaction_id=transaction_id)

    # Comparisons -----------------------------------------------------------------------

    def compare(self, source: str, balances: Mapping[BalanceKey, FoldedBalance],
                positions: Mapping[BalanceKey, Position] | None = None) -> None:
        """Check that another computation of the balances (CDC, processor state) agrees."""
        rule = f"{source}_must_equal_the_replay"
        for key in self.balances.keys() | balances.keys():
            mine, theirs = self.balances.get(key), balances.get(key)
            if mine is None or theirs is None or (mine.dr, mine.cr, mine.version) != (
                    theirs.dr, theirs.cr, theirs.version):
                account, journal, currency = key
                self._violate(rule, f"{source} balance of account {account} ({currency}, "
                              f"journal {journal}) is {_describe(theirs)}; the replay gives "
                              f"{_describe(mine)}", (positions or {}).get(key),
                              account_id=account, journal_id=journal, currency=currency)

    def _violate(self, rule: str, message: str, position: Position | None,
                 **ids: str) -> None:
        self.violations.append(Violation(rule, message, position, ids))


def _describe(balance: FoldedBalance | None) -> str:
    if balance is None:
        return "missing"
    layers = ", ".join(f"{layer.value.lower()} dr {dr} cr {cr}"
                       for layer, dr, cr in zip(_LAYERS, balance.dr, balance.cr, strict=True)
                       if dr or cr)
    return f"[{layers or 'empty'}] at version {balance.version}"
