"""The chaos workload: a seeded, deterministic stream of banking commands.

Customers are grouped by owner partition, and every posting that touches two customers
keeps both on one partition. Legs therefore only reach the house and settlement accounts and
the account sets, none of which carry limits, so each decision depends only on the order of
its own partition's commands: a run with faults must end with the same balances as a run
without.

Every other customer also has a velocity control attached: it caps what the customer may
hold at 900.00 (available PENDING, counted on the credit side), so deposits past the cap
are refused. It bounds each customer's own balance, on the customer's own partition, and
so keeps every decision local.

Two account sets roll the customers up: a popular one that holds every customer (so every
partition sends its owner legs) and the nested set, and the nested one, which holds two
customers of each partition. A customer of the nested set reaches the popular set twice and
must roll up into it once.
"""

import random
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger_core import (
    Account,
    AccountSet,
    AccountSetMember,
    ControlAttachment,
    ControlLimit,
    Direction,
    Layer,
    MemberType,
    TranCode,
    VelocityControl,
    VelocityLimit,
)
from streams.partitioning import owner_partition

HOUSE = Account(account_id=UUID("c4a05000-0000-4000-8000-000000000001"), code="CHAOS.HOUSE",
                name="House cash", normal_balance_type=Direction.DEBIT)
SETTLEMENT = Account(account_id=UUID("c4a05000-0000-4000-8000-000000000002"),
                     code="CHAOS.CARD.SETTLEMENT", name="Card network settlement")


def _code(code: str, debit: str, credit: str, layer: str = "SETTLED",
          second: str | None = None) -> TranCode:
    params = [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"}]
    if second:
        params.append({"name": second, "type": "UUID"})
    return TranCode.model_validate({
        "tranCodeId": str(uuid.uuid5(HOUSE.account_id, code)), "code": code, "params": params,
        "entries": [
            {"accountId": debit, "units": "params.amount", "currency": "'USD'",
             "direction": "DEBIT", "layer": f"{layer}"},
            {"accountId": credit, "units": "params.amount", "currency": "'USD'",
             "direction": "CREDIT", "layer": f"{layer}"},
        ]})


_HOUSE = f"uuid('{HOUSE.account_id}')"
_SETTLEMENT = f"uuid('{SETTLEMENT.account_id}')"
TRAN_CODES = (
    _code("CHAOS_DEPOSIT", _HOUSE, "params.account"),
    _code("CHAOS_WITHDRAW", "params.account", _HOUSE),
    _code("CHAOS_TRANSFER", "params.account", "params.to", second="to"),
    _code("CHAOS_HOLD", "params.account", _SETTLEMENT, layer="PENDING"),
    _code("CHAOS_SETTLE", "params.account", _SETTLEMENT),
)


@dataclass(frozen=True)
class Op:
    """One command of the workload."""

    kind: str  # "post" or "void"
    owner: UUID
    transaction_id: UUID
    tran_code: str = ""
    params: tuple[tuple[str, str], ...] = ()
    void_of: UUID | None = None

    @property
    def params_dict(self) -> dict[str, Any]:
        """The params as the client sends them."""
        return dict(self.params)


# What a customer with the velocity control may hold.
CAP = "900.00"
# Customers of each partition in the nested set.
NESTED_PER_PARTITION = 2


@dataclass(frozen=True)
class Workload:
    """The catalog and the commands of one seed."""

    seed: int
    customers: tuple[Account, ...]
    ops: tuple[Op, ...]
    # The nested set's customers (the popular set holds them all).
    nested_members: tuple[UUID, ...] = ()

    @property
    def popular_set(self) -> AccountSet:
        """The set every customer is in (a debit-normal roll-up of credit-normal members)."""
        set_id = uuid.uuid5(HOUSE.account_id, f"popular set {self.seed}")
        return AccountSet(account_set_id=set_id, code=f"CHAOS.{self.seed}.ALL",
                          name="Every customer", normal_balance_type=Direction.DEBIT)

    @property
    def nested_set(self) -> AccountSet:
        """A set of some customers, itself a member of the popular set."""
        set_id = uuid.uuid5(HOUSE.account_id, f"nested set {self.seed}")
        return AccountSet(account_set_id=set_id, code=f"CHAOS.{self.seed}.SOME",
                          name="Some customers")

    @property
    def set_members(self) -> list[AccountSetMember]:
        """The memberships, all in place before the first command."""
        popular, nested = self.popular_set.account_set_id, self.nested_set.account_set_id
        return [
            *(AccountSetMember(account_set_id=popular, member_id=c.account_id,
                               member_type=MemberType.ACCOUNT) for c in self.customers),
            AccountSetMember(account_set_id=popular, member_id=nested,
                             member_type=MemberType.ACCOUNT_SET),
            *(AccountSetMember(account_set_id=nested, member_id=member,
                               member_type=MemberType.ACCOUNT)
              for member in self.nested_members),
        ]

    @property
    def set_accounts(self) -> dict[UUID, frozenset[UUID]]:
        """Every account each set rolls up, directly or through the nested set."""
        return {self.popular_set.account_set_id: frozenset(c.account_id for c in self.customers),
                self.nested_set.account_set_id: frozenset(self.nested_members)}

    @property
    def catalog(self) -> list[Any]:
        """Every entity to create before the commands run.

        The tran codes come last: a processor that knows a tran code has read the catalog
        past every account, limit and membership, so the first postings already roll up
        into the sets and respect the limits."""
        limits = [VelocityLimit.no_overdraft(c.account_id, layer=Layer.PENDING)
                  for c in self.customers]
        return [HOUSE, SETTLEMENT, *self.customers, *limits, *self.velocity_control,
                self.popular_set, self.nested_set, *self.set_members, *TRAN_CODES]

    @property
    def velocity_control(self) -> list[Any]:
        """A balance cap: its limit, its control, and its attachment to every other
        customer."""
        limit = ControlLimit.model_validate({
            "velocityLimitId": str(uuid.uuid5(HOUSE.account_id, f"cap {self.seed}")),
            "name": "Balance cap", "currency": "USD",
            "params": [{"name": "cap", "type": "DECIMAL"}],
            "balance": [{"layer": "PENDING", "amount": "params.cap",
                         "normalBalanceType": "CREDIT"}]})
        control = VelocityControl(
            velocity_control_id=uuid.uuid5(HOUSE.account_id, f"cap control {self.seed}"),
            name="Balance cap", velocity_limit_ids=(limit.velocity_limit_id,))
        return [limit, control, *(
            ControlAttachment(velocity_control_id=control.velocity_control_id,
                              account_id=c.account_id, params={"cap": CAP})
            for c in self.customers[::2])]

    @property
    def normal_types(self) -> dict[UUID, Direction]:
        """Normal balance type of every account."""
        return {a.account_id: a.normal_balance_type
                for a in (HOUSE, SETTLEMENT, *self.customers)}


def build(seed: int, commands: int, partitions: int, customers_per_partition: int = 4
          ) -> Workload:
    """The workload of ``seed``: the same commands, in the same order, every time."""
    rng = random.Random(seed)
    ids = _ids(rng)
    by_partition: dict[int, list[Account]] = {p: [] for p in range(partitions)}
    while any(len(group) < customers_per_partition for group in by_partition.values()):
        account_id = next(ids)
        group = by_partition[owner_partition(account_id, partitions)]
        if len(group) < customers_per_partition:
            group.append(Account(account_id=account_id, code=f"CHAOS.{seed}.{account_id.hex[:8]}",
                                 name=f"Customer {account_id.hex[:8]}"))
    customers = tuple(a for group in by_partition.values() for a in group)
    nested = tuple(a.account_id for group in by_partition.values()
                   for a in group[:NESTED_PER_PARTITION])
    ops: list[Op] = []
    posted: list[Op] = []
    holds: list[Op] = []
    for _ in range(commands):
        ops.append(_next_op(rng, ids, by_partition, posted, holds))
    return Workload(seed, customers, tuple(ops), nested)


def _ids(rng: random.Random) -> Any:
    while True:
        yield UUID(int=rng.getrandbits(128), version=4)


def _amount(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high) / 100:.2f}"


def _next_op(rng: random.Random, ids: Any, by_partition: dict[int, list[Account]],
             posted: list[Op], holds: list[Op]) -> Op:
    group = by_partition[rng.randrange(len(by_partition))]
    customer = rng.choice(group).account_id
    roll = rng.random()
    if roll < 0.30:
        op = Op("post", customer, next(ids), "CHAOS_DEPOSIT",
                (("account", str(customer)), ("amount", _amount(rng, 100, 20_000))))
    elif roll < 0.50:
        op = Op("post", customer, next(ids), "CHAOS_WITHDRAW",
                (("account", str(customer)), ("amount", _amount(rng, 100, 15_000))))
    elif roll < 0.65:
        other = rng.choice(group).account_id
        op = Op("post", customer, next(ids), "CHAOS_TRANSFER",
                (("account", str(customer)), ("to", str(other)),
                 ("amount", _amount(rng, 100, 8_000))))
    elif roll < 0.78:
        op = Op("post", customer, next(ids), "CHAOS_HOLD",
                (("account", str(customer)), ("amount", _amount(rng, 100, 6_000))))
        holds.append(op)
        return op
    elif roll < 0.90 and holds:
        hold = holds.pop(rng.randrange(len(holds)))
        # release the hold, then settle it: void-and-post under the hold's owner
        posted.append(hold)
        return Op("void", hold.owner, next(ids), void_of=hold.transaction_id)
    elif roll < 0.95 and posted:
        settled = rng.choice(posted)
        return Op("post", settled.owner, next(ids), "CHAOS_SETTLE",
                  (("account", str(settled.owner)),
                   ("amount", dict(settled.params)["amount"])))
    else:
        target = posted.pop(rng.randrange(len(posted))) if posted else None
        if target is None:
            return Op("post", customer, next(ids), "CHAOS_DEPOSIT",
                      (("account", str(customer)), ("amount", _amount(rng, 100, 5_000))))
        return Op("void", target.owner, next(ids), void_of=target.transaction_id)
    posted.append(op)
    return op
