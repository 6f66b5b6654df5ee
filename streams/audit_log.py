"""``ledger audit``: read the ledger's topics from the beginning and prove its invariants.

Reading is the shell's part: every topic is read with ``read_committed`` up to its end as it
was when the audit started, and the records are fed, in log order, to the pure
``ledger_core.audit.LedgerAudit``. Entries are decoded straight from Avro into the few fields
the replay needs, because the replay is the part that must be fast.

Nothing read here is trusted to be what it claims: a record that does not decode is reported
(``record_must_decode``) and skipped, never allowed to stop the audit. The catalog the audit
checks against is the history of APPLIED catalog results, not the compacted catalog topic,
whose records must each match one of those results.

Account sets come from there too: their journals and normal balance types (the catalog
topic's records name those of sets no result names, a forged record's), and every
membership an APPLIED result added, against which the sets each entry rolls up into are
checked.
"""

import io
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import fastavro
from confluent_kafka import Consumer

from ledger_core import (
    Account,
    AccountSet,
    AccountSetMember,
    Calculation,
    CalculationAttachment,
    Card,
    ControlAttachment,
    ControlLimit,
    Direction,
    Enforcement,
    Iso8583Config,
    Journal,
    Layer,
    TranCode,
    VelocityControl,
    VelocityLimit,
)
from ledger_core.audit import (
    AccountSets,
    AuditEntry,
    FoldedBalance,
    LedgerAudit,
    LimitHistory,
    Position,
    Quarantined,
    Violation,
    leg_digest,
)
from ledger_core.catalog import Catalog, CatalogEntity
from ledger_core.money import MONEY_CONTEXT
from schemas.codec import MAGIC, DecodeError, codec
from streams.catalog import catalog_key, catalog_value, entity_from
from streams.kafka_config import kafka_config
from streams.offsets import end_offset
from streams.partitioning import owner_partition
from streams.reading import read_committed
from streams.state import read_stopped
from streams.topics import Topics

BalanceKey = tuple[str, str, str]
_LAYERS = {layer.value: layer for layer in Layer}
_DIRECTIONS = {direction.value: direction for direction in Direction}
_LAYER_FIELDS = ("settled", "pending", "encumbrance")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class AuditReport:
    """What an audit found, and how fast it replayed.

    ``quarantined`` lists the records the processors did not apply (dead letters for legs,
    catalog records and other records no client writes): not violations, but each needs an
    operator's decision.
    """

    violations: list[Violation]
    entries: int
    transactions: int
    results: int
    balances: int
    replay_seconds: float
    quarantined: list[Quarantined] = field(default_factory=list)
    legs: int = 0
    catalog_records: int = 0

    @property
    def entries_per_second(self) -> float:
        """Replay speed of the entries topic."""
        return self.entries / self.replay_seconds if self.replay_seconds else 0.0


class Progress:
    """A progress line on stderr, redrawn at most twice a second."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self._started = self._drawn = time.monotonic()

    def advance(self, count: int) -> None:
        """Count ``count`` more records."""
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._drawn > 0.5:
            self._drawn = now
            self._draw(now)

    def close(self) -> None:
        """Draw the final line."""
        if self.enabled:
            self._draw(time.monotonic())
            print(file=sys.stderr)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self._started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        print(f"\r{self.label:<13} [{bar:<30}] {self.done:>10,}/{self.total:,} "
              f"{rate:>10,.0f}/s", end="", file=sys.stderr, flush=True)


def topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    """How many offsets the topic's partitions hold (records plus transaction markers)."""
    consumer = Consumer(kafka_config(bootstrap, {"group.id": f"size-{uuid.uuid4()}"}))
    try:
        return sum(end_offset(consumer, topic, p) for p in range(partitions))
    finally:
        consumer.close()


def run_audit(bootstrap: str, topics: Topics, partitions: int,
              state_dirs: tuple[Path, ...] = (), show_progress: bool = False,
              workers: int | None = None) -> AuditReport:
    """Audit the ledger named by ``topics``; return every violation found.

    The entries topic is replayed by ``workers`` processes (default: one per CPU, or one for
    a small log), each folding whole partitions; an account lives on one partition and a
    set's balance is a sum over the partitions of its entries, so the partial replays merge
    by addition.
    """
    log = _LogReader(bootstrap, topics, partitions)
    log.read_dead_letters()
    log.read_catalog()
    log.read_results()
    audit = log.audit()
    inputs = [_position(m) for m in read_committed(bootstrap, topics.commands, range(partitions))]
    inputs += [_position(m) for m in read_committed(bootstrap, topics.catalog_commands, [0])]
    legs = check_legs(bootstrap, topics, partitions, audit)

    started = time.monotonic()
    replay_entries(bootstrap, topics, partitions, audit, workers, show_progress)
    replay_seconds = time.monotonic() - started

    transactions = read_transactions(bootstrap, topics, partitions, audit)
    violations = audit.finish(transactions, log.results, inputs, log.answered, log.answers)
    cdc, cdc_positions = _cdc_balances(bootstrap, topics, partitions, audit)
    audit.compare("cdc", cdc, cdc_positions)
    for state_dir in state_dirs:
        for path in sorted(state_dir.glob("partition-*")):
            _compare_state(audit, path, topics.balances, cdc_positions)
    return AuditReport(list(violations), audit.entries_seen, len(transactions),
                       len(log.results), len(audit.balances), replay_seconds,
                       list(audit.quarantined), legs, log.catalog_records)


class _LogReader:
    """Reads what the audit must know before the replay: dead letters, the catalog topic and
    the results, and turns them into a ``LedgerAudit`` (the catalog history comes from the
    APPLIED results, which the results topic keeps forever)."""

    def __init__(self, bootstrap: str, topics: Topics, partitions: int) -> None:
        self.bootstrap, self.topics, self.partitions = bootstrap, topics, partitions
        self.results: list[tuple[str, str | None, str, Position]] = []
        self.answered: Counter[Position] = Counter()
        self.answers: dict[Position, Position] = {}
        self.catalog_records = 0
        self._quarantined: list[Quarantined] = []
        self._undecodable: list[tuple[Position, str]] = []
        self._records: list[tuple[str, str, str, Position]] = []
        self._decided: list[tuple[str, str, str, int]] = []
        self._warned: list[str] = []
        self._history = LimitHistory()
        self._normal_types: dict[str, Direction] = {}
        self._sets = AccountSets()
        # The owners and velocity controls as decided so far: each change of a control, a
        # limit or an attachment becomes new versions of the bounds it resolves into.
        self._controls = Catalog()

    def audit(self) -> LedgerAudit:
        """The audit, fed with everything read so far (quarantines first)."""
        audit = LedgerAudit(self._normal_types, self._history, self._sets)
        for record in self._quarantined:
            audit.quarantine(record)
        for position, error in self._undecodable:
            audit.undecodable(position, error)
        for command_id, key, written, position in self._records:
            audit.add_catalog_record(command_id, key, written, position)
        for command_id, key, written, order in self._decided:
            audit.catalog_decided(command_id, key, written, order)
        for transaction_id in self._warned:
            audit.warned(transaction_id)
        return audit

    def _answer(self, source: Position, position: Position) -> None:
        self.answered[source] += 1
        self.answers.setdefault(source, position)

    def read_dead_letters(self) -> None:
        """Answers to commands, and quarantined records (any other source)."""
        commands = (self.topics.commands, self.topics.catalog_commands)
        for message in read_committed(self.bootstrap, self.topics.dead_letters, [0]):
            position = _position(message)
            try:
                letter = codec().decode("dead_letter", message.value())
            except DecodeError as exc:
                self._undecodable.append((position, str(exc)))
                continue
            source = Position(letter["topic"], letter["partition"], letter["offset"])
            if letter["topic"] in commands:
                self._answer(source, position)
            else:
                self._quarantined.append(Quarantined(source, letter["code"], letter["error"],
                                                     position))

    def read_catalog(self) -> None:
        """Every record of the catalog topic, in canonical form; the normal balance types
        of accounts, and the journals and types of sets, that the results do not name (a
        forged record's) are taken from here."""
        for message in read_committed(self.bootstrap, self.topics.catalog, [0]):
            position = _position(message)
            self.catalog_records += 1
            try:
                key = codec().decode("catalog_key", message.key())
                record = codec().decode("catalog_record", message.value())
            except DecodeError as exc:
                self._undecodable.append((position, str(exc)))
                continue
            self._records.append((record["command_id"], _canonical(key),
                                  _canonical(record["entity"]), position))
            type_name, body = record["entity"]
            if type_name == "ledger.Account":  # the results, read next, have the last word
                self._normal_types[body["account_id"]] = _DIRECTIONS.get(
                    body["normal_balance_type"], Direction.CREDIT)
            elif type_name == "ledger.AccountSet":
                self._sets.account_set(body["account_set_id"], body["journal_id"],
                                       _DIRECTIONS.get(body["normal_balance_type"],
                                                       Direction.CREDIT))

    def read_results(self) -> None:
        """Every result: answers, warnings, and the APPLIED catalog history."""
        for message in read_committed(self.bootstrap, self.topics.results,
                                      range(self.partitions)):
            position = _position(message)
            try:
                record = codec().decode("result", message.value())
            except DecodeError as exc:
                self._undecodable.append((position, str(exc)))
                continue
            self.results.append((record["command_id"], record["transaction_id"],
                                 record["status"], position))
            if record["warnings"] and record["transaction_id"]:
                self._warned.append(record["transaction_id"])
            source = Position(record["source_topic"], record["source_partition"],
                              record["source_offset"])
            self._answer(source, position)
            if record["status"] == "APPLIED" and source.topic == self.topics.catalog_commands:
                self._decision(record, source, position)

    def _decision(self, record: dict[str, Any], source: Position, position: Position) -> None:
        try:
            entity = entity_of(record["entity_json"])
            key = _canonical(codec().decode("catalog_key",
                                            codec().encode("catalog_key", catalog_key(entity))))
            written = codec().decode("catalog_record", codec().encode("catalog_record", {
                "entity": catalog_value(entity), "command_id": "", "written_at": _EPOCH}))
        except Exception as exc:  # hostile input: whatever fails, the audit goes on
            self._undecodable.append(
                (position, f"the entity of APPLIED result {record['command_id']} is not a "
                           f"catalog entity ({type(exc).__name__}: {exc})"))
            return
        self._decided.append((record["command_id"], key, _canonical(written["entity"]),
                              source.offset))
        if isinstance(entity, VelocityLimit):
            self._history.decided(entity, _micros(record["processed_at"]), source.offset)
        elif isinstance(entity, ControlLimit | VelocityControl | ControlAttachment):
            self._control_decided(entity, _micros(record["processed_at"]), source.offset)
        elif isinstance(entity, Account):
            self._normal_types[str(entity.account_id)] = entity.normal_balance_type
            self._controls.put(entity)
        elif isinstance(entity, AccountSet):
            self._sets.account_set(str(entity.account_set_id), str(entity.journal_id),
                                   entity.normal_balance_type)
            self._controls.put(entity)
        elif isinstance(entity, AccountSetMember) and not entity.removed:
            self._sets.member_added(str(entity.account_set_id), str(entity.member_id))


    def _control_decided(self, entity: ControlLimit | VelocityControl | ControlAttachment,
                         decided_at: int, order: int) -> None:
        """The bounds the change adds, changes or ends, as versions of their limits; an
        ended bound gets a WARN version, which the audit no longer re-checks."""
        catalog = self._controls
        owners = set(catalog.control_attachments)
        if isinstance(entity, ControlAttachment):
            owners.add(entity.account_id)
        before = {owner: catalog.resolved_limits(owner) for owner in owners}
        catalog.put(entity)
        for owner in owners:
            now = {r.bound.limit_id: r.bound for r in catalog.resolved_limits(owner)
                   if r.bound is not None}
            for ended in before[owner]:
                if ended.bound is not None and ended.bound.limit_id not in now:
                    self._history.decided(ended.bound.model_copy(
                        update={"enforcement": Enforcement.WARN}), decided_at, order)
            for bound in now.values():
                self._history.decided(bound, decided_at, order)


def entity_of(entity_json: str | None) -> CatalogEntity:
    """The catalog entity an APPLIED result carries (its camelCase JSON), validated."""
    if entity_json is None:
        raise ValueError("the result carries no entity")
    body = json.loads(entity_json, parse_float=Decimal)
    if not isinstance(body, dict):
        raise ValueError("the entity is not an object")
    if "limitId" in body:
        return VelocityLimit.model_validate(body)
    if "tranCodeId" in body:
        return TranCode.model_validate(body)
    if "cardId" in body:  # before accountId, which a card names too
        return Card.model_validate(body)
    if "configId" in body:  # before journalId, which a config names too
        return Iso8583Config.model_validate(body)
    if "velocityControlId" in body:  # before accountId, which an attachment names too
        if "accountId" in body:
            return ControlAttachment.model_validate(body)
        return VelocityControl.model_validate(body)
    if "velocityLimitId" in body:
        return ControlLimit.model_validate(body)
    if "calculationId" in body:  # before accountId, which an attachment names too
        if "dimensions" in body:
            return Calculation.model_validate(body)
        return CalculationAttachment.model_validate(body)
    if "memberId" in body:  # before accountSetId, which a membership names too
        return AccountSetMember.model_validate(body)
    if "accountSetId" in body:  # before journalId, which a set names too
        return AccountSet.model_validate(body)
    if "accountId" in body:
        return Account.model_validate(body)
    if "journalId" in body:
        return Journal.model_validate(body)
    raise ValueError("the entity is no journal, account, account set, set member, tran code, "
                     "limit, card, ISO 8583 config, calculation, velocity limit or control, "
                     "or an attachment")


def _canonical(value: Any) -> str:
    """Comparable text of a decoded record (or part of one)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


# Below this many entries, starting worker processes costs more than it saves.
_PARALLEL_ENTRIES_MIN = 200_000


def replay_entries(bootstrap: str, topics: Topics, partitions: int, audit: LedgerAudit,
                   workers: int | None, show_progress: bool = False) -> None:
    """Replay the whole entries topic into ``audit`` with ``workers`` processes."""
    total = topic_size(bootstrap, topics.entries, partitions)
    count = workers or (os.cpu_count() or 1)
    count = min(count, partitions) if total >= _PARALLEL_ENTRIES_MIN or workers else 1
    if count <= 1:
        progress = Progress("entries", total, show_progress)
        replay_partitions(bootstrap, topics.entries, range(partitions), audit,
                          progress.advance)
        progress.close()
        return
    shares = [list(range(partitions))[i::count] for i in range(count)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        parts = pool.map(_replay_share, [(bootstrap, topics.entries, share, audit.spawn())
                                         for share in shares])
        for part in parts:
            audit.absorb(part)


def _replay_share(job: tuple[str, str, list[int], LedgerAudit]) -> LedgerAudit:
    bootstrap, topic, share, part = job
    replay_partitions(bootstrap, topic, share, part)
    part.end_of_entries()
    part.forget_entry_ids()
    return part


def replay_partitions(bootstrap: str, topic: str, partitions: Iterable[int],
                      audit: LedgerAudit, on_batch: Callable[[int], None] | None = None) -> None:
    """Fold every entry of ``partitions`` into ``audit``, in log order."""
    for entry in _entries(read_committed(bootstrap, topic, partitions, on_batch), audit):
        audit.add_entry(entry)


def _compare_scoped(audit: LedgerAudit, source: str, mine: dict[BalanceKey, FoldedBalance],
                    theirs: dict[BalanceKey, FoldedBalance]) -> None:
    scoped = LedgerAudit(audit.normal_types, {}, audit.account_sets)
    scoped.balances = mine
    scoped.compare(source, theirs)
    audit.violations.extend(scoped.violations)


def _position(message: Any) -> Position:
    return Position(message.topic(), message.partition(), message.offset())


class _UndecodableError(ValueError):
    """A record whose bytes or fields are not what its schema promises."""


class _PlainReader:
    """Decodes framed records of one schema without logical types (plain ints for dates and
    times), as fast as fastavro can; anything that is not such a record raises
    ``_UndecodableError``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._known = set(codec().versions(name))
        self._schemas: dict[int, Any] = {}

    def schema(self, data: bytes | None) -> Any:
        """The writer's schema of a framed record."""
        if data is None or len(data) < 3 or data[0] != MAGIC:
            raise _UndecodableError(f"not a framed {self.name} record")
        version = data[1] << 8 | data[2]
        schema = self._schemas.get(version)
        if schema is None:
            if version not in self._known:
                raise _UndecodableError(f"{self.name} has no schema version {version}")
            schema = self._schemas[version] = codec().plain_schema(self.name, version)
        return schema

    def decode(self, data: bytes | None) -> dict[str, Any]:
        """The record's fields."""
        schema = self.schema(data)
        assert data is not None
        try:
            record = fastavro.schemaless_reader(io.BytesIO(data[3:]), schema, None)
        except Exception as exc:  # fastavro raises whatever the bytes lead it to
            raise _UndecodableError(f"undecodable {self.name} record: {exc}") from exc
        if not isinstance(record, dict):
            raise _UndecodableError(f"{self.name} did not decode to a record")
        return record


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise _UndecodableError(f"{text!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise _UndecodableError(f"{text!r} is not a finite amount")
    return amount


def _entries(messages: Iterator[Any], audit: LedgerAudit) -> Iterator[AuditEntry]:
    plain = _PlainReader("entry")
    schemas: dict[int, Any] = {}
    reader = fastavro.schemaless_reader
    for message in messages:
        data = message.value()
        try:
            # The common case inline: this loop runs once per entry of the ledger.
            if data is None or len(data) < 3 or data[0] != MAGIC:
                raise _UndecodableError("not a framed entry record")
            version = data[1] << 8 | data[2]
            schema = schemas.get(version)
            if schema is None:
                schema = schemas[version] = plain.schema(data)
            try:
                record: Any = reader(io.BytesIO(data[3:]), schema, None)
                units = Decimal(record["units"])
                # Entries written before account sets (v1) have no parents.
                parents = record.get("parent_account_ids")
                entry = AuditEntry(record["entry_id"], record["transaction_id"],
                                   record["account_id"], record["journal_id"],
                                   record["currency"], _LAYERS[record["layer"]],
                                   _DIRECTIONS[record["direction"]], units,
                                   Position(message.topic(), message.partition(),
                                            message.offset()),
                                   record["created"], tuple(parents) if parents else ())
            except Exception as exc:  # fastavro raises whatever the bytes lead it to
                raise _UndecodableError(f"undecodable entry record: {exc!r}") from exc
            if not units.is_finite():
                raise _UndecodableError(f"units {record['units']!r} is not a finite amount")
        except _UndecodableError as exc:
            audit.undecodable(_position(message), str(exc))
            continue
        yield entry


def check_legs(bootstrap: str, topics: Topics, partitions: int, audit: LedgerAudit) -> int:
    """Feed every leg to ``audit`` (before the transactions); return how many were read."""
    plain = _PlainReader("entry")
    owners = _Owners(partitions)
    count = 0
    for message in read_committed(bootstrap, topics.legs, range(partitions)):
        count += 1
        position = _position(message)
        if audit.is_quarantined(position):
            continue
        try:
            record = plain.decode(message.value())
            parents = record.get("parent_account_ids") or []
            digest = leg_digest(record["entry_id"], record["transaction_id"],
                                record["account_id"], record["journal_id"], record["units"],
                                record["currency"], record["direction"], record["layer"],
                                position.partition, parents)
        except _UndecodableError as exc:
            audit.undecodable(position, str(exc))
            continue
        placed = position.partition in owners.of(record["account_id"], parents)
        audit.add_leg(record["entry_id"], digest, position, placed)
    return count


def read_transactions(bootstrap: str, topics: Topics, partitions: int, audit: LedgerAudit
                      ) -> list[tuple[str, int, Position]]:
    """(transaction id, entry_count, position) of every transaction record; for each entry
    a record holds, every other partition that owns its account or one of its sets must
    have one copy of it: the legs ``audit`` expects."""
    owners = _Owners(partitions)
    transactions = []
    for message in read_committed(bootstrap, topics.transactions, range(partitions)):
        position = _position(message)
        try:
            record = codec().decode("transaction", message.value())
        except DecodeError as exc:
            audit.undecodable(position, str(exc))
            continue
        transactions.append((record["transaction_id"], record["entry_count"], position))
        for entry in record["entries"]:
            account = entry["account_id"]
            parents = entry.get("parent_account_ids") or []
            for partition in sorted(owners.of(account, parents) - {position.partition}):
                audit.leg_expected(leg_digest(
                    entry["entry_id"], entry["transaction_id"], account, entry["journal_id"],
                    entry["units"], entry["currency"], entry["direction"], entry["layer"],
                    partition, parents))
    return transactions


class _Owners:
    """The partitions that own an account and the sets an entry on it rolls up into."""

    def __init__(self, partitions: int) -> None:
        self._partitions = partitions
        self._owner: dict[str, int | None] = {}

    def of(self, account: str, parents: Iterable[str]) -> set[int]:
        """The owner partitions of ``account`` and of each of ``parents`` (ids that are no
        UUID have none)."""
        found = set()
        for owned in (account, *parents):
            owner = self._owner.get(owned, -1)
            if owner == -1:
                owner = self._owner[owned] = _owner(owned, self._partitions)
            if owner is not None:
                found.add(owner)
        return found


def _owner(account: str, partitions: int) -> int | None:
    try:
        return owner_partition(uuid.UUID(account), partitions)
    except ValueError:
        return None


def _folded(record: dict[str, Any]) -> FoldedBalance:
    """A balance record's totals and version, and its normal balance type if each layer's
    normal balance follows from its totals and that type (None if not)."""
    balance = FoldedBalance(version=record["version"])
    normal = _DIRECTIONS.get(record["normal_balance_type"])
    for index, name in enumerate(_LAYER_FIELDS):
        layer = record[name]
        dr = balance.dr[index] = _amount(layer["dr_balance"])
        cr = balance.cr[index] = _amount(layer["cr_balance"])
        if normal is None:
            continue
        try:
            implied = (MONEY_CONTEXT.subtract(cr, dr) if normal is Direction.CREDIT
                       else MONEY_CONTEXT.subtract(dr, cr))
        except ArithmeticError:
            raise _UndecodableError(f"the {name} totals are beyond the ledger's "
                                    "precision") from None
        if _amount(layer["normal_balance"]) != implied:
            normal = None
    balance.normal = normal
    return balance


def _key(record: dict[str, Any]) -> BalanceKey:
    return (record["account_id"], record["journal_id"], record["currency"])


def _cdc_balances(bootstrap: str, topics: Topics, partitions: int, audit: LedgerAudit
                  ) -> tuple[dict[BalanceKey, FoldedBalance], dict[BalanceKey, Position]]:
    latest: dict[BalanceKey, FoldedBalance] = {}
    positions: dict[BalanceKey, Position] = {}
    for message in read_committed(bootstrap, topics.balances, range(partitions)):
        position = _position(message)
        try:
            record = codec().decode("balance", message.value())
            folded = _folded(record)
        except (DecodeError, _UndecodableError) as exc:
            audit.undecodable(position, str(exc))
            continue
        latest[_key(record)] = folded
        positions[_key(record)] = position
    return latest, positions


def _compare_state(audit: LedgerAudit, path: Path, balances_topic: str,
                   cdc_positions: dict[BalanceKey, Position]) -> None:
    """Compare one partition's stopped state with the replay, as far as the state reaches.

    The state is the image of the balances topic below its next offset. A processor that
    gave the partition up, or was stopped before catching up, leaves a state whose newest
    versions the topic has since superseded; it restores them before using it. So each
    balance is compared whose latest CDC record lies below that offset (all of them, for a
    current state), and any balance the CDC never wrote.
    """
    partition = int(path.name.removeprefix("partition-"))
    next_offsets, stored = read_stopped(path)
    reached = next_offsets.get(balances_topic, 0)
    covered = {key for key, position in cdc_positions.items()
               if position.partition == partition and position.offset < reached}
    state = {}
    for stored_key, value in stored.items():
        try:
            record = codec().decode("balance", value)
            folded = _folded(record)
        except (DecodeError, _UndecodableError) as exc:
            audit.undecodable(None, f"a balance in the state at {path} ({stored_key!r}): {exc}",
                              state=str(path))
            continue
        key = _key(record)
        if key in covered or key not in cdc_positions:
            state[key] = folded
    mine = {key: balance for key, balance in audit.balances.items() if key in covered}
    _compare_scoped(audit, "state", mine, state)


def read_catalog(bootstrap: str, topic: str) -> tuple[Catalog, list[Position]]:
    """The catalog topic as a table, skipping (and returning the positions of) records that
    do not decode into an entity: a reader that never stops on a forged record."""
    table = Catalog()
    skipped = []
    for message in read_committed(bootstrap, topic, [0]):
        try:
            table.put(entity_from(codec().decode("catalog_record", message.value())))
        except Exception:  # hostile input: whatever fails, the record is skipped
            skipped.append(_position(message))
    return table, skipped


def balance_as_of(bootstrap: str, topics: Topics, partitions: int, account_id: uuid.UUID,
                  offset: int | None = None, at: datetime | None = None,
                  undecodable: list[Position] | None = None, account_set: bool = False
                  ) -> dict[tuple[str, str], FoldedBalance]:
    """An account's balances from its entries up to an offset of its entries partition
    (inclusive) or a time (entries created at or before it), per (journal, currency). For
    an account set (``account_set``), every entries partition is read for the entries that
    roll up into it, up to the time.

    Records that do not decode are skipped; their positions go to ``undecodable``."""
    assert not (account_set and offset is not None), "a set has no one entries partition"
    read = list(range(partitions)) if account_set else [owner_partition(account_id,
                                                                        partitions)]
    wanted = str(account_id)
    folded: dict[tuple[str, str], FoldedBalance] = {}
    keep: Callable[[Any, dict[str, Any]], bool] = (
        (lambda m, r: m.offset() <= offset) if offset is not None
        else (lambda m, r: at is None or r["created"] <= at))
    for message in read_committed(bootstrap, topics.entries, read):
        if offset is not None and message.offset() > offset:
            break
        try:
            record = codec().decode("entry", message.value())
            units = _amount(record["units"])
            index = _LAYER_FIELDS.index(record["layer"].lower())
            side_name = _DIRECTIONS[record["direction"]]
        except (DecodeError, _UndecodableError, ValueError, KeyError):
            if undecodable is not None:
                undecodable.append(_position(message))
            continue
        owner = wanted in record["parent_account_ids"] if account_set \
            else record["account_id"] == wanted
        if not keep(message, record) or not owner:
            continue
        balance = folded.setdefault((record["journal_id"], record["currency"]), FoldedBalance())
        side = balance.dr if side_name is Direction.DEBIT else balance.cr
        side[index] += units
        balance.version += 1
    return folded
