"""Poison for the chaos harness: each class of hostile input, injected while the workload runs.

Every injection says what must become of it: the code of the REJECTED result of a command,
or the code of the quarantine record of a record no client may write. None of them may move
a balance, so the faulty run must still end with the fault-free run's balances, and the
workload's commands must all be answered: every partition kept moving.
"""

import json
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger_core.catalog import CatalogKind
from schemas.codec import codec
from streams.client import LedgerClient
from streams.partitioning import account_key, owner_partition
from streams.reading import read_committed
from tests.chaos.workload import HOUSE
from tests.oversized import BLOB, oversized_tran_code

if TYPE_CHECKING:
    from tests.chaos.harness import Run
    from tests.chaos.workload import Op

OVERSIZED = oversized_tran_code("CHAOS_OVERSIZED", f"uuid('{HOUSE.account_id}')")


# How long the end check waits for the quarantine records of the last poison.
DEAD_LETTERS_WAIT_S = 60.0


@dataclass(frozen=True)
class Injected:
    """One poison record and what the ledger must have made of it."""

    name: str
    code: str
    command_id: str | None = None  # a command: its result must be REJECTED with ``code``
    raw: bytes | None = None  # a record no client writes: a dead letter with ``code``


class Poisoner:
    """Injects poison into one run with a client of its own."""

    def __init__(self, run: "Run", client: LedgerClient) -> None:
        self.run = run
        self.client = client
        self.topics = run.topics
        self.injected: list[Injected] = []
        self._oversized_created = False

    def inject(self, name: str, rng: random.Random) -> str:
        """Inject one poison of the class ``name``; return what was done."""
        injected = POISONS[name](self, rng)
        if injected is None:
            return f"poison {name}: nothing to inject yet"
        self.injected.append(injected)
        return f"poison {name}"

    # Commands a client could send -----------------------------------------------------

    def _command(self, name: str, code: str, tran_code: str, params: dict[str, Any],
                 rng: random.Random) -> Injected:
        owner = rng.choice(self.run.workload.customers).account_id
        command_id = str(uuid.uuid4())
        record = {"command_id": command_id, "kind": "POST",
                  "transaction_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                  "tran_code": tran_code, "tran_code_version": None,
                  "params_json": json.dumps({"account": str(owner), **params}),
                  "void_of": None, "sent_at": datetime.now(UTC), "override_enforcement": None}
        self.client.send_raw(self.topics.commands, account_key(owner),
                             codec().encode("command", record),
                             owner_partition(owner, self.topics.partitions))
        return Injected(name, code, command_id=command_id)

    def _catalog(self, name: str, code: str, kind: CatalogKind,
                 body: dict[str, Any]) -> Injected:
        command_id = str(uuid.uuid4())
        record = {"command_id": command_id, "kind": kind.value, "body_json": json.dumps(body),
                  "sent_at": datetime.now(UTC)}
        self.client.send_raw(self.topics.catalog_commands, None,
                             codec().encode("catalog_command", record), 0)
        return Injected(name, code, command_id=command_id)

    def surrogate_name(self, rng: random.Random) -> Injected:
        return self._catalog("surrogate name", "text_not_valid_unicode",
                             CatalogKind.CREATE_ACCOUNT, _account(rng, name="x\ud800y"))

    def control_characters(self, rng: random.Random) -> Injected:
        text = rng.choice(["EVIL\u202egnp", "NUL\x00", "ESC\x1b[2J"])
        return self._catalog("control characters", "text_has_control_characters",
                             CatalogKind.CREATE_ACCOUNT, _account(rng, code=text))

    def deep_cel(self, rng: random.Random) -> Injected:
        depth = rng.randint(100, 400)
        units = rng.choice(["(" * depth + "1" + ")" * depth, "+".join(["1"] * 20_000)])
        body = {"tranCodeId": str(uuid.uuid4()), "code": f"DEEP_{rng.getrandbits(32)}",
                "params": [{"name": "account", "type": "UUID"}],
                "entries": [{"accountId": "params.account", "units": units,
                             "currency": "'USD'", "direction": "DEBIT"}]}
        return self._catalog("deep CEL", "cel_expression_too_complex",
                             CatalogKind.CREATE_TRAN_CODE, body)

    def surrogate_param(self, rng: random.Random) -> Injected:
        return self._command("surrogate param", "text_not_valid_unicode", "CHAOS_DEPOSIT",
                             {"amount": "1.00", "memo": "x\ud800y"}, rng)

    def long_param(self, rng: random.Random) -> Injected:
        return self._command("long param", "text_too_long", "CHAOS_DEPOSIT",
                             {"amount": "1.00", "memo": "x" * 400_000}, rng)

    def oversized_posting(self, rng: random.Random) -> Injected:
        if not self._oversized_created:
            assert self.client.create(OVERSIZED, timeout_s=120).ok
            self._oversized_created = True
        return self._command("oversized posting", "record_too_large", "CHAOS_OVERSIZED",
                             {"blob": BLOB}, rng)

    def other_owner(self, rng: random.Random) -> Injected | None:
        """A posted transaction id sent again for a customer on another partition."""
        op = self._posted_a_while_ago()
        if op is None:
            return None
        partitions = self.topics.partitions
        others = [c.account_id for c in self.run.workload.customers
                  if owner_partition(c.account_id, partitions)
                  != owner_partition(op.owner, partitions)]
        other = rng.choice(others)
        params = {**op.params_dict, "account": str(other)}
        command_id = self.client.send_post(op.transaction_id, op.tran_code, params, other)
        return Injected("other owner", "transaction_id_duplicate", command_id=command_id)

    def _posted_a_while_ago(self) -> "Op | None":
        """A posting the workload sent a while ago whose result is POSTED (this client has
        watched results since before the workload's first command)."""
        postings = [(op, command_id) for op, command_id in self.run.sent[:-50]
                    if op.kind == "post"]
        for op, command_id in reversed(postings[-5:]):
            if self.client.wait([command_id], timeout_s=120)[command_id].status == "POSTED":
                return op
        return None

    def garbage_command(self, rng: random.Random) -> Injected:
        raw = os.urandom(rng.randint(1, 1024))
        self.client.send_raw(self.topics.commands, b"poison", raw,
                             rng.randrange(self.topics.partitions))
        return Injected("garbage command", "record_not_decodable", raw=raw)

    # Records only processors may write ------------------------------------------------

    def _garbage(self, name: str, topic: str, partitions: int,
                 rng: random.Random) -> Injected:
        raw = os.urandom(512)
        self.client.send_raw(topic, b"poison", raw, rng.randrange(partitions))
        return Injected(name, "record_not_decodable", raw=raw)

    def garbage_leg(self, rng: random.Random) -> Injected:
        return self._garbage("garbage leg", self.topics.legs, self.topics.partitions, rng)

    def garbage_catalog(self, rng: random.Random) -> Injected:
        return self._garbage("garbage catalog record", self.topics.catalog, 1, rng)

    def garbage_claim(self, rng: random.Random) -> Injected:
        return self._garbage("garbage id claim", self.topics.id_claims,
                             self.topics.partitions, rng)

    def misrouted_leg(self, rng: random.Random) -> Injected:
        """A well-formed leg crediting a customer, on a partition that does not own it."""
        customer = rng.choice(self.run.workload.customers).account_id
        partitions = self.topics.partitions
        wrong = (owner_partition(customer, partitions) + rng.randrange(1, partitions)) \
            % partitions
        now = datetime.now(UTC)
        raw = codec().encode("entry", {
            "entry_id": str(uuid.uuid4()), "transaction_id": str(uuid.uuid4()),
            "journal_id": "00000000-0000-4000-8000-000000000001",
            "account_id": str(customer), "sequence": 1, "units": "1000.00",
            "currency": "USD", "direction": "CREDIT", "entry_type": "FORGED",
            "layer": "SETTLED", "description": None, "metadata_json": None,
            "effective": now.date(), "created": now})
        self.client.send_raw(self.topics.legs, account_key(customer), raw, wrong)
        return Injected("misrouted leg", "leg_account_not_owned", raw=raw)

    # The end --------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every injected poison whose outcome is not the one it must have."""
        problems = []
        commands = [i for i in self.injected if i.command_id is not None]
        results = self.client.wait([i.command_id for i in commands if i.command_id],
                                   timeout_s=300)
        for injected in commands:
            assert injected.command_id is not None
            result = results[injected.command_id]
            if (result.status, result.code) != ("REJECTED", injected.code):
                problems.append(f"poison {injected.name}: {result.status} {result.code}, "
                                f"expected REJECTED {injected.code}")
        expected = {(i.raw, i.code): i.name for i in self.injected if i.raw is not None}
        # Nothing waits for a record no client wrote: the dead letters may still be on
        # their way when the workload is done.
        deadline = time.monotonic() + DEAD_LETTERS_WAIT_S
        missing = set(expected)
        while missing and time.monotonic() < deadline:
            missing -= {(letter["value"], letter["code"]) for letter in _dead_letters(self.run)}
            time.sleep(0.5)
        problems += [f"poison {expected[key]}: no dead letter with {key[1]}"
                     for key in sorted(missing, key=str)]
        return problems


def _account(rng: random.Random, **fields: str) -> dict[str, Any]:
    return {"accountId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "code": f"POISON.{rng.getrandbits(32)}", "name": "Poison", **fields}


def _dead_letters(run: "Run") -> list[dict[str, Any]]:
    return [codec().decode("dead_letter", m.value())
            for m in read_committed(run.cluster.bootstrap_servers, run.topics.dead_letters,
                                    [0])]


POISONS: dict[str, Callable[[Poisoner, random.Random], Injected | None]] = {
    "surrogate name": Poisoner.surrogate_name,
    "control characters": Poisoner.control_characters,
    "deep CEL": Poisoner.deep_cel,
    "surrogate param": Poisoner.surrogate_param,
    "long param": Poisoner.long_param,
    "oversized posting": Poisoner.oversized_posting,
    "other owner": Poisoner.other_owner,
    "garbage command": Poisoner.garbage_command,
    "garbage leg": Poisoner.garbage_leg,
    "garbage catalog record": Poisoner.garbage_catalog,
    "garbage id claim": Poisoner.garbage_claim,
    "misrouted leg": Poisoner.misrouted_leg,
}
