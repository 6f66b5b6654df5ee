"""Which partition owns a key: Kafka's default partitioner (murmur2 of the key bytes).

Posting commands, entries and legs are keyed by the framed ``AccountKey`` of an account, so a
producer that uses the ledger's key encoding and Kafka's default partitioner (Java's, or
librdkafka's ``murmur2_random``) puts a command on its owner's partition. The processor uses
the same function to decide which accounts it owns.
"""

from functools import lru_cache
from uuid import UUID

from schemas.codec import codec

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash of ``data`` as a signed 32-bit integer."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    full = length - length % 4
    for i in range(0, full, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length % 4
    if tail == 3:
        h ^= data[full + 2] << 16
    if tail >= 2:
        h ^= data[full + 1] << 8
    if tail >= 1:
        h ^= data[full]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@lru_cache(maxsize=1 << 20)
def account_key(account_id: UUID) -> bytes:
    """The framed ``AccountKey`` record of an account: the key of commands, entries and legs."""
    return codec().encode("account_key", {"account_id": str(account_id)})


@lru_cache(maxsize=1 << 20)
def owner_partition(account_id: UUID, partitions: int) -> int:
    """The partition that owns ``account_id``'s balances."""
    return partition_for_key(account_key(account_id), partitions)
