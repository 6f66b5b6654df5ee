"""Proving a ledger from its log: replay entries, rebuild balances, and check the invariants.

The shell reads the topics and feeds records here in log order; everything in this module is
pure. Entries arrive as plain values rather than models because an audit replays millions of
them. Each violation is named after the invariant it breaks and says where in the log the
evidence is.

Only processors write the internal topics, but a client that reaches the broker can write
them too, so the audit trusts none of them on its own: limits are checked against the
history of APPLIED catalog results (the results topic is kept forever; the catalog topic is
compacted, so a forged record there replaces the genuine one), every catalog record must be
the entity of its command's APPLIED result, every leg must be a copy of an entry of a
transaction record, and a record that does not decode is reported rather than trusted.

Account sets: an entry names the sets it rolls up into (its parents), and a set's balance is
exactly the fold of the entries that name it, read with the set's normal balance type. The
audit folds each entry onto its parents too and checks that each parent is a set of the
entry's journal that the entry's account was, at some time, a member of (directly or
through other sets; membership is forward-looking, so the log does not say more precisely
when an entry had to roll up). One entry has a leg on each other partition that owns its
account or one of its parents.

Records the processors quarantined (dead letters for legs and catalog records) are listed
apart: a poisoned record that was not applied is no inconsistency of the ledger.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from ledger_core.enums import LAYER_RANK, Direction, Enforcement, Layer
from ledger_core.limits import VelocityLimit

__all__ = ["AccountSets", "AuditEntry", "AuditSet", "FoldedBalance", "LedgerAudit",
           "LimitHistory", "Position", "Quarantined", "Violation", "leg_digest"]

_ZERO = Decimal(0)
_LAYERS = (Layer.SETTLED, Layer.PENDING, Layer.ENCUMBRANCE)
# Before every timestamp a record carries: limits given without a history are always in force.
_BEGINNING = -(1 << 63)


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


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record a processor did not apply and put on the dead-letters topic instead.

    ``source`` is where the record sat (a leg, a catalog record), ``code`` the rule it broke
    (``record_not_decodable`` unless the dead letter says otherwise), ``error`` the
    processor's words and ``dead_letter`` the position of the dead letter itself.
    """

    source: Position
    code: str
    error: str
    dead_letter: Position


class AuditEntry(NamedTuple):
    """The fields of an entry that the audit folds and checks (a tuple: replays are long).

    ``created`` is the entry's timestamp in microseconds since the epoch (the wall time of
    the processor that decided it); the limits in force then are the ones it is checked
    against. ``parents`` are the ids of the account sets it names as rolling up into.
    """

    entry_id: str
    transaction_id: str
    account_id: str
    journal_id: str
    currency: str
    layer: Layer
    direction: Direction
    units: Decimal
    position: Position
    created: int = 0
    parents: tuple[str, ...] = ()


def leg_digest(entry_id: str, transaction_id: str, account_id: str, journal_id: str,
               units: str, currency: str, direction: str, layer: str, partition: int,
               parents: Sequence[str] = ()) -> bytes:
    """What a leg and the entry it copies must share, in 16 bytes: its id, transaction,
    account, journal, units (as written), currency, direction, layer, the sets it rolls up
    into, and the partition it is folded on (one that owns its account or one of those
    sets)."""
    text = "\x1f".join((entry_id, transaction_id, account_id, journal_id, units, currency,
                        direction, layer, ",".join(parents), str(partition)))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class AuditSet(NamedTuple):
    """What the audit needs of an account set: its journal and its normal balance type."""

    journal_id: str
    normal_balance_type: Direction


@dataclass(slots=True)
class AccountSets:
    """The account sets of the catalog (by id, as text) and every membership ever added.

    A membership counts from its APPLIED addition and is never forgotten, because an entry
    posted before a removal (or a void of one, which repeats the entries it reverses)
    rightly names the set.
    """

    sets: dict[str, AuditSet] = field(default_factory=dict)
    added: dict[str, set[str]] = field(default_factory=dict)
    _reached: dict[str, frozenset[str]] = field(default_factory=dict)

    def account_set(self, set_id: str, journal_id: str, normal: Direction) -> None:
        """A set, as the catalog holds it."""
        self.sets[set_id] = AuditSet(journal_id, normal)

    def member_added(self, set_id: str, member_id: str) -> None:
        """An APPLIED addition of ``member_id`` (an account or a set) to set ``set_id``."""
        self.added.setdefault(member_id, set()).add(set_id)
        self._reached = {}

    def ever_reached(self, member_id: str) -> frozenset[str]:
        """Every set that reached ``member_id`` at some time, directly or through sets."""
        found = self._reached.get(member_id)
        if found is None:
            reached: set[str] = set()
            frontier = [member_id]
            while frontier:
                for parent in self.added.get(frontier.pop(), ()):
                    if parent not in reached:
                        reached.add(parent)
                        frontier.append(parent)
            found = self._reached[member_id] = frozenset(reached)
        return found


@dataclass(slots=True)
class FoldedBalance:
    """Debit and credit totals per layer of one (account or set, journal, currency), a
    version, and the normal balance type it is read with (None: not known, or, for a
    balance record, normal balances that do not follow from its totals and its type)."""

    dr: list[Decimal] = field(default_factory=lambda: [_ZERO, _ZERO, _ZERO])
    cr: list[Decimal] = field(default_factory=lambda: [_ZERO, _ZERO, _ZERO])
    version: int = 0
    normal: Direction | None = None

    def available(self, layer: Layer, normal: Direction) -> Decimal:
        """Cumulative normal balance up to ``layer``."""
        rank = LAYER_RANK[layer] + 1
        dr, cr = sum(self.dr[:rank], _ZERO), sum(self.cr[:rank], _ZERO)
        return cr - dr if normal is Direction.CREDIT else dr - cr


def _checked(limit: VelocityLimit) -> bool:
    """The audit re-checks REJECT limits without a condition (it does not evaluate CEL)."""
    return limit.enforcement is Enforcement.REJECT and limit.condition is None


class LimitHistory:
    """Every version of every limit, in decision order, and which ones were in force when.

    A version counts from the instant its APPLIED result was decided (``processed_at``):
    a posting decided at a later instant (its entries' ``created``) must respect it; one
    decided at the same instant, in the catalog desk's own batch, could not see it. Both
    times come from the processors' wall clocks, so the check assumes they agree to within
    the time between a catalog change and the postings it governs. Only limits the audit
    re-checks are kept (REJECT, no condition): a version that becomes WARN or gains a
    condition stops being checked.
    """

    def __init__(self, limits: Mapping[str, Sequence[VelocityLimit]] | None = None) -> None:
        """``limits`` (by account id as text) are in force from the beginning of the log."""
        self._initial = {account: list(versions) for account, versions in (limits or {}).items()}
        self._decisions: list[tuple[int, int, VelocityLimit]] = []
        self._built: dict[str, tuple[list[int], list[tuple[VelocityLimit, ...]]]] | None = None

    def decided(self, limit: VelocityLimit, decided_at: int, order: int) -> None:
        """One APPLIED version of a limit: decided at ``decided_at`` (µs since the epoch),
        at place ``order`` in decision order (its catalog command's offset)."""
        self._decisions.append((order, decided_at, limit))
        self._built = None

    def in_force(self, account_id: str, at: int) -> tuple[VelocityLimit, ...]:
        """The re-checked limits of the account that a posting decided at ``at`` must hold."""
        versions = self._versions().get(account_id)
        if versions is None:
            return ()
        times, snapshots = versions
        index = bisect_left(times, at) - 1
        return snapshots[index] if index >= 0 else ()

    @property
    def accounts(self) -> frozenset[str]:
        """The accounts with a re-checked limit at some instant."""
        return frozenset(account for account, (_times, snapshots) in self._versions().items()
                         if any(snapshots))

    def _versions(self) -> dict[str, tuple[list[int], list[tuple[VelocityLimit, ...]]]]:
        if self._built is None:
            self._built = self._build()
        return self._built

    def _build(self) -> dict[str, tuple[list[int], list[tuple[VelocityLimit, ...]]]]:
        current: dict[str, dict[UUID, VelocityLimit]] = {}
        built: dict[str, tuple[list[int], list[tuple[VelocityLimit, ...]]]] = {}

        def snapshot(account: str, at: int) -> None:
            limits = tuple(limit for limit in current[account].values() if _checked(limit))
            times, snapshots = built.setdefault(account, ([], []))
            if times and times[-1] == at:
                snapshots[-1] = limits
            else:
                times.append(at)
                snapshots.append(limits)

        for account, limits in self._initial.items():
            current[account] = {limit.limit_id: limit for limit in limits}
            snapshot(account, _BEGINNING)
        # Decision order is the catalog desk's; a desk that took over with a clock behind
        # its predecessor's must not make a version start before the one it replaced.
        latest = _BEGINNING
        for _order, decided_at, limit in sorted(self._decisions, key=lambda d: d[0]):
            latest = max(latest, decided_at)
            account = str(limit.account_id)
            current.setdefault(account, {})[limit.limit_id] = limit
            snapshot(account, latest)
        return built


@dataclass(slots=True)
class _Open:
    transaction_id: str
    limits: tuple[VelocityLimit, ...]
    before: dict[tuple[str, str, Layer], Decimal]
    position: Position


BalanceKey = tuple[str, str, str]
# What an entry's parents were checked to be, per (account, journal, parents).
_ParentsKey = tuple[str, str, tuple[str, ...]]


class LedgerAudit:
    """Folds entries in log order and collects violations of the ledger's invariants.

    Feed the dead letters (``quarantine``) before the records they may name: a record at a
    quarantined position is listed in ``quarantined`` and not checked.
    """

    def __init__(self, normal_types: Mapping[str, Direction],
                 limits: Mapping[str, Sequence[VelocityLimit]] | LimitHistory,
                 account_sets: AccountSets | None = None) -> None:
        """``normal_types`` are keyed by account id (as text); ``limits`` are either the
        limits in force for the whole log, by account id, or their history;
        ``account_sets`` are the catalog's sets and memberships (none when not given)."""
        self.normal_types = normal_types
        self.account_sets = account_sets if account_sets is not None else AccountSets()
        self._parents_checked: dict[_ParentsKey, str | None] = {}
        self.history = limits if isinstance(limits, LimitHistory) else LimitHistory(limits)
        self._limited = self.history.accounts
        self.balances: dict[BalanceKey, FoldedBalance] = {}
        self._limited_keys: dict[str, list[BalanceKey]] = defaultdict(list)
        self.violations: list[Violation] = []
        self.quarantined: list[Quarantined] = []
        self._quarantined_at: set[Position] = set()
        self.entries_seen = 0
        self._entry_ids: dict[str, Position] = {}
        self._sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
        self._entry_counts: dict[str, int] = defaultdict(int)
        self._first_entry: dict[str, Position] = {}
        self._open: dict[str, _Open] = {}
        self._warned: set[str] = set()
        self._decided: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
        self._catalog_records: list[tuple[str, str, str, Position]] = []
        self._legs: dict[bytes, tuple[str, Position]] = {}

    def spawn(self) -> LedgerAudit:
        """An empty audit with this one's catalog, warnings and quarantines, to replay other
        partitions in and ``absorb`` back."""
        part = LedgerAudit(self.normal_types, self.history, self.account_sets)
        part._warned = set(self._warned)
        part._quarantined_at = set(self._quarantined_at)
        return part

    # Records that are not what they claim ----------------------------------------------

    def quarantine(self, record: Quarantined) -> None:
        """A dead letter for a record that is no command (a leg, a catalog record): it was
        not applied. Listed once per source position."""
        if record.source in self._quarantined_at:
            return
        self._quarantined_at.add(record.source)
        self.quarantined.append(record)

    def is_quarantined(self, position: Position) -> bool:
        """True when a dead letter names the record at ``position``."""
        return position in self._quarantined_at

    def undecodable(self, position: Position | None, error: str, **ids: str) -> None:
        """A record that does not decode (or decodes to nonsense): reported, never trusted,
        unless a processor quarantined it."""
        if position is not None and position in self._quarantined_at:
            return
        where = "" if position is None else f" at {position}"
        self._violate("record_must_decode", f"the record{where} does not decode: {error}",
                      position, **ids)

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
        limited = entry.account_id in self._limited
        if limited:
            self._track_limits(entry)
        key = (entry.account_id, entry.journal_id, entry.currency)
        balance = self.balances.get(key)
        if balance is None:
            balance = self.balances[key] = FoldedBalance(
                normal=self.normal_types.get(entry.account_id))
            if limited:
                self._limited_keys[entry.account_id].append(key)
        index = LAYER_RANK[entry.layer]
        if entry.direction is Direction.DEBIT:
            balance.dr[index] += entry.units
        else:
            balance.cr[index] += entry.units
        balance.version += 1
        if entry.parents:
            self._roll_up(entry, index)

    def _roll_up(self, entry: AuditEntry, index: int) -> None:
        """Fold the entry onto each set it names (once each, whatever the processor did)."""
        check = (entry.account_id, entry.journal_id, entry.parents)
        if check not in self._parents_checked:
            self._parents_checked[check] = self._parents_problem(*check)
        problem = self._parents_checked[check]
        if problem is not None:
            self._violate("entry_must_roll_up_into_its_account_sets",
                          f"entry {entry.entry_id} on account {entry.account_id} {problem}",
                          entry.position, entry_id=entry.entry_id,
                          transaction_id=entry.transaction_id, account_id=entry.account_id)
        sets = self.account_sets.sets
        for set_id in dict.fromkeys(entry.parents):
            key = (set_id, entry.journal_id, entry.currency)
            balance = self.balances.get(key)
            if balance is None:
                known = sets.get(set_id)
                balance = self.balances[key] = FoldedBalance(
                    normal=None if known is None else known.normal_balance_type)
            if entry.direction is Direction.DEBIT:
                balance.dr[index] += entry.units
            else:
                balance.cr[index] += entry.units
            balance.version += 1

    def _parents_problem(self, account_id: str, journal_id: str,
                         parents: tuple[str, ...]) -> str | None:
        """What is wrong with the sets an entry names, or None."""
        if len(set(parents)) != len(parents):
            return f"names a set more than once ({', '.join(parents)})"
        reached = self.account_sets.ever_reached(account_id)
        for set_id in parents:
            known = self.account_sets.sets.get(set_id)
            if known is None:
                return f"rolls up into {set_id}, which is no account set"
            if known.journal_id != journal_id:
                return (f"of journal {journal_id} rolls up into set {set_id}, which belongs "
                        f"to journal {known.journal_id}")
            if set_id not in reached:
                return (f"rolls up into set {set_id}, which the account never was a member "
                        "of, directly or through other sets")
        return None

    def _track_limits(self, entry: AuditEntry) -> None:
        account_id = entry.account_id
        opened = self._open.get(account_id)
        if opened is not None and opened.transaction_id == entry.transaction_id:
            return
        if opened is not None:
            self._close(account_id, opened)
            del self._open[account_id]
        if entry.transaction_id in self._warned:
            return
        limits = self.history.in_force(account_id, entry.created)
        if limits:
            self._open[account_id] = _Open(entry.transaction_id, limits,
                                           self._availability(account_id, limits),
                                           entry.position)

    def _normal(self, account_id: str) -> Direction:
        return self.normal_types.get(account_id, Direction.CREDIT)

    def _availability(self, account_id: str, limits: tuple[VelocityLimit, ...]
                      ) -> dict[tuple[str, str, Layer], Decimal]:
        normal = self._normal(account_id)
        return {(journal, currency, limit.layer):
                self.balances[(account_id, journal, currency)].available(limit.layer, normal)
                for (_account, journal, currency) in self._limited_keys[account_id]
                for limit in limits}

    def _close(self, account_id: str, opened: _Open) -> None:
        normal = self._normal(account_id)
        for key in self._limited_keys[account_id]:
            _account, journal, currency = key
            balance = self.balances[key]
            for limit in opened.limits:
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
                        f"{breach} of limit {limit.limit_id} as it was when the "
                        "transaction was decided",
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
        self._parents_checked = {}

    def absorb(self, part: LedgerAudit) -> None:
        """Merge the replay of other partitions: each account lives on one partition, and a
        set's balance is the sum of the folds of its entries on every partition."""
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

    # The catalog ------------------------------------------------------------------------

    def catalog_decided(self, command_id: str, key: str, written: str, order: int) -> None:
        """An APPLIED result of a catalog command: the catalog record it wrote, as ``key``
        and ``written`` (canonical text of the record's key and entity), at place ``order``
        in decision order (the catalog command's offset)."""
        self._decided[command_id].append((key, written, order))

    def add_catalog_record(self, command_id: str, key: str, written: str,
                           position: Position) -> None:
        """A record of the catalog topic, in log order (``key`` and ``written`` in the same
        canonical text as ``catalog_decided``'s)."""
        if position not in self._quarantined_at:
            self._catalog_records.append((command_id, key, written, position))

    def _check_catalog(self) -> None:
        latest: dict[str, tuple[int, str]] = {}
        for command_id, key, written, position in self._catalog_records:
            decisions = self._decided.get(command_id, [])
            orders = [order for k, w, order in decisions if (k, w) == (key, written)]
            if not orders:
                why = ("is not the entity its APPLIED result carries" if decisions
                       else "has no APPLIED result")
                self._violate("catalog_record_must_match_its_result",
                              f"the catalog record {key} of command {command_id} {why}",
                              position, command_id=command_id, key=key)
                continue
            order = max(orders)
            seen = latest.get(key)
            if seen is not None and seen[0] > order:
                self._violate("catalog_record_must_not_be_replayed",
                              f"the catalog record {key} of command {command_id} comes after "
                              f"the one of command {seen[1]}, which was decided later: an "
                              "older version was written again", position,
                              command_id=command_id, key=key)
                continue
            latest[key] = (order, command_id)

    # Legs -------------------------------------------------------------------------------

    def add_leg(self, entry_id: str, digest: bytes, position: Position,
                placed: bool = True) -> None:
        """A record of the legs topic (``digest`` from ``leg_digest``). Call it for every
        leg before ``leg_expected``. ``placed`` is False for a leg on a partition that owns
        neither its account nor any set it names: nothing there may fold it."""
        if position in self._quarantined_at:
            return
        if not placed:
            self._violate("leg_must_be_on_a_partition_that_folds_it",
                          f"leg {entry_id} is on partition {position.partition}, which owns "
                          "neither its account nor any set it rolls up into, and it was not "
                          "quarantined", position, entry_id=entry_id)
            return
        first = self._legs.get(digest)
        if first is not None:
            self._violate("leg_must_be_unique",
                          f"leg {entry_id} appears again (first at {first[1]}): its owner "
                          "folds it twice", position, entry_id=entry_id)
            return
        self._legs[digest] = (entry_id, position)

    def leg_expected(self, digest: bytes) -> None:
        """An entry of a transaction record whose account or one of whose sets another
        partition owns: the leg that partition folds (``leg_digest`` with its number). An
        entry has one per such partition; a missing one shows as that partition's
        balances differing from the replay."""
        self._legs.pop(digest, None)

    def _check_legs(self) -> None:
        for entry_id, position in self._legs.values():
            self._violate("leg_must_match_a_posted_entry",
                          f"leg {entry_id} is not an entry of any transaction record (same "
                          "id, account, journal, units, currency, direction, layer and "
                          "sets, on a partition that owns its account or one of its sets): "
                          "its owner folded money nobody posted",
                          position, entry_id=entry_id)
        self._legs = {}

    # Transactions and results -------------------------------------------------------------

    def finish(self, transactions: Iterable[tuple[str, int, Position]],
               results: Iterable[tuple[str, str | None, str, Position]],
               inputs: Iterable[Position],
               answered: Mapping[Position, int],
               answers: Mapping[Position, Position] | None = None) -> list[Violation]:
        """Close the replay and check what needs the whole log; return every violation.

        ``transactions``: (transaction id, entry_count, position) of each transaction record.
        ``results``: (command id, transaction id, status, position) of each result.
        ``inputs``: the position of every command record; ``answered`` counts the results
        and dead letters that name each input position as their source, and ``answers``
        gives the position of the first of them (for an answer that names no command).
        """
        self.end_of_entries()
        self._check_catalog()
        self._check_legs()
        for transaction_id, sums in self._sums.items():
            for currency, total in sums.items():
                if total != 0:
                    self._violate("transaction_must_balance",
                                  f"transaction {transaction_id} is off by {total} {currency}",
                                  self._first_entry[transaction_id],
                                  transaction_id=transaction_id, currency=currency)
        expected = self._check_transactions(transactions)
        self._check_results(results, expected)
        commands = set()
        for position in inputs:
            commands.add(position)
            count = answered.get(position, 0)
            if count != 1:
                self._violate("command_must_have_one_answer",
                              f"the command at {position} has {count} results or dead letters",
                              position)
        for source in sorted(answered.keys() - commands):
            self._violate("answer_must_name_a_command",
                          f"a result or dead letter answers {source}, which holds no command",
                          (answers or {}).get(source), source=str(source))
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
        sets = self.account_sets.sets
        for key in self.balances.keys() | balances.keys():
            mine, theirs = self.balances.get(key), balances.get(key)
            if mine is None or theirs is None or (mine.dr, mine.cr, mine.version) != (
                    theirs.dr, theirs.cr, theirs.version) or (
                    mine.normal is not None and mine.normal is not theirs.normal):
                account, journal, currency = key
                what = "set" if account in sets else "account"
                self._violate(rule, f"{source} balance of {what} {account} ({currency}, "
                              f"journal {journal}) is {_describe(theirs, mine)}; the replay "
                              f"gives {_describe(mine, None)}", (positions or {}).get(key),
                              account_id=account, journal_id=journal, currency=currency)

    def _violate(self, rule: str, message: str, position: Position | None,
                 **ids: str) -> None:
        self.violations.append(Violation(rule, message, position, ids))


def _describe(balance: FoldedBalance | None, replayed: FoldedBalance | None) -> str:
    """``balance`` in words; ``replayed`` is the replay's, against which a balance record
    whose normal balances follow from no normal balance type is named as such."""
    if balance is None:
        return "missing"
    layers = ", ".join(f"{layer.value.lower()} dr {dr} cr {cr}"
                       for layer, dr, cr in zip(_LAYERS, balance.dr, balance.cr, strict=True)
                       if dr or cr)
    if balance.normal is not None:
        normal = f", {balance.normal.value.lower()}-normal"
    elif replayed is not None and replayed.normal is not None:
        normal = ", with normal balances that do not follow from its totals and its type"
    else:
        normal = ""
    return f"[{layers or 'empty'}] at version {balance.version}{normal}"
