"""RocksDB state of one partition: balances, posted transactions, and the offsets they reflect.

State keys are the Kafka keys of the records that restore them, behind a one-byte family
prefix: ``b`` + the framed BalanceKey (the balances topic) and ``t`` + the framed
TransactionKey (the transactions topic). Values are the framed records as written to Kafka,
so restoring is a copy. ``i`` + the framed TransactionKey holds
the registry's record of which partition holds an id (the transaction-ids topic), for the
ids whose registry partition this is. ``m`` holds the identity of the state and, for each
restoring topic, the next offset not yet reflected.

Nothing is written here before its Kafka transaction has committed; then the data and the
offsets go into one WriteBatch, so the state is always the image of a committed prefix.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rocksdict import AccessType, BlockBasedOptions, Options, Rdict, WriteBatch

from streams.errors import StateError

BALANCE = b"b"
TRANSACTION = b"t"
HOLDER = b"i"
# The schemas of each family's keys and values: restore checks that every record decodes.
FAMILY_SCHEMAS = {BALANCE: ("balance_key", "balance"),
                  TRANSACTION: ("transaction_key", "transaction"),
                  HOLDER: ("transaction_key", "transaction_id")}
_META = b"m:meta"


@dataclass(frozen=True)
class StateIdentity:
    """What a state directory belongs to; a mismatch means it is not this ledger's state."""

    cluster_id: str
    topic_prefix: str
    partitions: int
    partition: int


class PartitionState:
    """The RocksDB database of one partition."""

    def __init__(self, path: Path, identity: StateIdentity) -> None:
        self.path = path
        self.identity = identity
        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        # Every new posting's idempotency check is a miss: a 10-bit bloom filter per key
        # keeps misses off the SST files once the state outgrows memory.
        table = BlockBasedOptions()
        table.set_bloom_filter(10, False)
        options.set_block_based_table_factory(table)
        try:
            self._db = Rdict(str(path), options)
        except Exception as exc:
            raise StateError(
                f"the state of partition {identity.partition} in {path} cannot be opened "
                f"({exc}). It may be corrupt or held by another processor. The ledger never "
                "deletes state by itself: stop any other processor using this directory, or "
                "move the directory away to rebuild it from Kafka."
            ) from exc
        self._meta = self._load_meta()

    def _load_meta(self) -> dict[str, object]:
        raw = self._db.get(_META)
        if raw is None:
            return {"identity": self.identity.__dict__, "next": {}}
        meta: dict[str, object] = json.loads(raw)
        if meta["identity"] != self.identity.__dict__:
            self._db.close()
            raise StateError(
                f"the state in {self.path} belongs to {meta['identity']}, not to "
                f"{self.identity.__dict__}. Point --state-dir elsewhere, or move this "
                "directory away to rebuild the state from Kafka."
            )
        return meta

    def next_offset(self, topic: str) -> int:
        """The first offset of ``topic`` (this partition) not yet reflected in the state."""
        offsets = self._meta["next"]
        assert isinstance(offsets, dict)
        return int(offsets.get(topic, 0))

    def get(self, family: bytes, key: bytes) -> bytes | None:
        """The stored value of ``key`` in ``family``, or None."""
        try:
            value: bytes | None = self._db.get(family + key)
        except Exception as exc:
            raise StateError(f"the state of partition {self.identity.partition} in "
                             f"{self.path} cannot be read ({exc})") from exc
        return value

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        """The stored values of full keys (family included), in one multi-get."""
        try:
            found = self._db.get(list[str | int | float | bytes | bool](keys))
        except Exception as exc:
            raise StateError(f"the state of partition {self.identity.partition} in "
                             f"{self.path} cannot be read ({exc})") from exc
        assert isinstance(found, list) and len(found) == len(keys)
        return found

    def write(self, items: Iterable[tuple[bytes, bytes]], next_offsets: dict[str, int]) -> None:
        """Write committed data and the offsets it brings the state to, atomically."""
        offsets = self._meta["next"]
        assert isinstance(offsets, dict)
        for topic, offset in next_offsets.items():
            assert offset >= offsets.get(topic, 0), (
                f"{topic}: the state would go back from offset {offsets.get(topic)} to {offset}")
        offsets.update(next_offsets)
        batch = WriteBatch(raw_mode=True)
        for key, value in items:
            batch.put(key, value)
        batch.put(_META, json.dumps(self._meta).encode())
        try:
            self._db.write(batch)
        except Exception as exc:
            raise StateError(f"the state of partition {self.identity.partition} in "
                             f"{self.path} cannot be written ({exc})") from exc

    def close(self) -> None:
        """Flush and release the database."""
        self._db.close()


def read_stopped(path: Path) -> tuple[dict[str, int], dict[bytes, bytes]]:
    """A stopped processor's partition state, opened read-only: the next offset of each
    restoring topic, and every balance (framed BalanceKey -> framed Balance record)."""
    db = Rdict(str(path), Options(raw_mode=True), access_type=AccessType.read_only())
    try:
        raw = db.get(_META)
        meta: dict[str, Any] = {"next": {}} if raw is None else json.loads(raw)
        balances: dict[bytes, bytes] = {}
        for key, value in db.items(from_key=BALANCE):
            assert isinstance(key, bytes) and isinstance(value, bytes)
            if not key.startswith(BALANCE):
                break
            balances[key[len(BALANCE):]] = value
    finally:
        db.close()
    return {topic: int(offset) for topic, offset in meta["next"].items()}, balances
