"""Velocity controls in Twisp's shape: controls, the limits they group, and attachments.

A ``ControlLimit`` is what Twisp calls a velocity limit: a template of balance bounds
(``layer``, ``amount`` and ``normalBalanceType``, each a CEL expression over the
attachment's ``params``) in one currency or all. A ``VelocityControl`` groups limits under
one enforcement and an optional condition. Attaching a control to an account (in a journal)
or to a set, with params, *resolves* each of its limits into the ``VelocityLimit`` bounds
that the posting path already checks atomically with the posting (``ledger_core.limits``):
"what the owner has available at ``layer``, counted in the ``normalBalanceType``
direction, stays at or below ``amount``".

The velocity balance is therefore the owner's balance in the journal: what has been
spent is the owner's available balance at the layer, counted from its first entry, not
only from the control's creation. A limit that would need a balance of its own (a
``window`` of further dimensions, an entry ``condition``, ``start``/``end`` or a
``timestampSource``) is refused with ``velocity_limit_shape_unsupported``; see
docs/decisions/0013-velocity-controls.md.

An amount that resolves to an infinite decimal (a set attached with ``"inf"``) bounds
nothing. A deleted control or limit is kept, LOCKED, and its attachments stop resolving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid5

from ledger_core.account_sets import AccountSet
from ledger_core.accounts import Account
from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import CelSource, Description, JsonObject, Name
from ledger_core.calculations import DimensionKey
from ledger_core.enums import Direction, Enforcement, Layer, ParamType, Status
from ledger_core.expressions import (
    Activation,
    Expression,
    ExpressionError,
    compile_expression,
)
from ledger_core.journals import DEFAULT_JOURNAL_ID
from ledger_core.limits import VelocityLimit
from ledger_core.params import coerce_param
from ledger_core.tran_codes import ParamDefinition

__all__ = ["CONDITION_ROOTS", "BalanceBound", "ControlAttachment", "ControlLimit",
           "ResolvedLimit", "VelocityControl", "resolve_attachment", "shape_problem"]

# The names a control's condition may read; ``context.vars`` is Twisp's spelling.
CONDITION_ROOTS = ("params", "account", "transaction", "context")


class BalanceBound(LedgerModel):
    """One bound of a limit: what may be available at ``layer`` in ``normal_balance_type``.

    Each field is CEL over ``params``; a bare layer or direction name is taken as itself.
    """

    layer: CelSource
    amount: CelSource
    normal_balance_type: CelSource
    start: CelSource | None = None
    end: CelSource | None = None


class ControlLimit(LedgerModel):
    """Twisp's velocity limit: bounds on an owner's balance, resolved per attachment."""

    velocity_limit_id: UUID
    name: Name
    description: Description = ""
    window: tuple[DimensionKey, ...] = ()
    condition: CelSource | None = None
    timestamp_source: CelSource | None = None
    balance: tuple[BalanceBound, ...]
    currency: str = ""
    params: tuple[ParamDefinition, ...] = ()
    status: Status = Status.ACTIVE


class VelocityControl(LedgerModel):
    """Limits enforced together: REJECT or WARN, when ``condition`` holds for the posting."""

    velocity_control_id: UUID
    name: Name
    description: Description = ""
    enforcement: Enforcement = Enforcement.REJECT
    condition: CelSource | None = None
    velocity_limit_ids: tuple[UUID, ...] = ()
    status: Status = Status.ACTIVE


class ControlAttachment(LedgerModel):
    """A control attached to an account in a journal, or to a set (in its own journal),
    with the params its limits read; ``detached`` is the record that ends it."""

    velocity_control_id: UUID
    account_id: UUID
    journal_id: UUID = DEFAULT_JOURNAL_ID
    params: JsonObject | None = None
    detached: bool = False


@dataclass(frozen=True, slots=True)
class ResolvedLimit:
    """One bound of one limit of an attached control, as the posting path checks it."""

    velocity_control_id: UUID
    velocity_limit_id: UUID
    layer: Layer
    amount: Decimal
    direction: Direction
    bound: VelocityLimit | None  # None when the amount is infinite: nothing to check

    def spent(self, available: Decimal, owner_normal: Direction) -> Decimal:
        """What counts against ``amount``, from the owner's normal available balance."""
        return available if self.direction is owner_normal else -available


def shape_problem(limit: ControlLimit) -> str | None:
    """Why ``limit`` needs a velocity balance of its own, which the ledger does not keep."""
    if limit.window:
        return "window (further dimensions of the velocity balance)"
    if limit.condition is not None:
        return "condition (which entries count towards the velocity balance)"
    if limit.timestamp_source is not None:
        return "limit.timestampSource"
    for index, bound in enumerate(limit.balance):
        if bound.start is not None or bound.end is not None:
            return f"limit.balance[{index}].start/end (a time-boxed bound)"
    if not limit.balance:
        return "limit.balance is empty: a limit needs at least one bound"
    return None


_COMPILED: dict[str, Expression] = {}


def _evaluate(source: str, params: Mapping[str, object]) -> object:
    expression = _COMPILED.get(source)
    if expression is None:
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        expression = _COMPILED[source] = compile_expression(
            source, roots=("params",), decimal_fields={"params": None})
    return expression.evaluate(Activation({"params": params}))


def _named(source: str, names: type[Layer] | type[Direction], params: Mapping[str, object]
           ) -> Layer | Direction | str:
    text = source.strip()
    if text not in names.__members__:
        try:
            text = str(_evaluate(source, params))
        except ExpressionError as error:
            return f"{source!r} does not evaluate: {error}"
    if text not in names.__members__:
        return f"{source!r} resolves to {text!r}, not one of {', '.join(names.__members__)}"
    return names[text]


def _amount(source: str, params: Mapping[str, object]) -> Decimal | str:
    try:
        value = _evaluate(source, params)
    except ExpressionError as error:
        return f"{source!r} does not evaluate: {error}"
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        return f"{source!r} resolves to {value!r}, not a decimal"
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return f"{source!r} resolves to {value!r}, not a decimal"
    if amount.is_nan():
        return f"{source!r} resolves to NaN"
    return amount


def _bound_params(limit: ControlLimit, given: Mapping[str, Any]) -> dict[str, object] | str:
    bound: dict[str, object] = {}
    for param in limit.params:
        value = given.get(param.name)
        if value is None and param.default is not None:
            try:
                value = _evaluate(param.default, {})
            except ExpressionError as error:
                return f"params.{param.name}: its default does not evaluate: {error}"
        if value is None:
            return f"params.{param.name} is required by limit {limit.name!r}"
        if param.type is ParamType.DECIMAL and str(value) in ("inf", "-inf", "+inf"):
            bound[param.name] = Decimal(str(value))
            continue
        coerced, problem = coerce_param(param.type, value)
        if problem is not None:
            return f"params.{param.name}: {problem}"
        bound[param.name] = coerced
    return bound


def resolve_attachment(attachment: ControlAttachment, control: VelocityControl,
                       limits: Mapping[UUID, ControlLimit], owner: Account | AccountSet
                       ) -> tuple[ResolvedLimit, ...] | str:
    """The bounds ``attachment`` puts on its owner, or why its params do not resolve.

    A LOCKED control resolves to nothing, and so does a LOCKED or unknown limit."""
    if control.status is Status.LOCKED:
        return ()
    resolved: list[ResolvedLimit] = []
    owner_normal = owner.normal_balance_type
    for limit_id in control.velocity_limit_ids:
        limit = limits.get(limit_id)
        if limit is None or limit.status is Status.LOCKED or shape_problem(limit) is not None:
            continue
        params = _bound_params(limit, attachment.params or {})
        if isinstance(params, str):
            return params
        for index, spec in enumerate(limit.balance):
            where = f"limit {limit.name!r} balance[{index}]"
            layer = _named(spec.layer, Layer, params)
            direction = _named(spec.normal_balance_type, Direction, params)
            amount = _amount(spec.amount, params)
            for problem in (layer, direction, amount):
                if isinstance(problem, str) and not isinstance(problem, Layer | Direction):
                    return f"{where}: {problem}"
            assert isinstance(layer, Layer) and isinstance(direction, Direction)
            assert isinstance(amount, Decimal)
            resolved.append(ResolvedLimit(
                velocity_control_id=control.velocity_control_id,
                velocity_limit_id=limit_id, layer=layer, amount=amount, direction=direction,
                bound=None if amount.is_infinite() else _bound(
                    attachment, control, limit, index, layer, direction, amount, owner_normal)))
    return tuple(resolved)


def _bound(attachment: ControlAttachment, control: VelocityControl, limit: ControlLimit,
           index: int, layer: Layer, direction: Direction, amount: Decimal,
           owner_normal: Direction) -> VelocityLimit:
    same_side = direction is owner_normal
    return VelocityLimit(
        limit_id=uuid5(control.velocity_control_id,
                       f"{limit.velocity_limit_id}/{attachment.account_id}/"
                       f"{attachment.journal_id}/{index}"),
        account_id=attachment.account_id,
        journal_id=attachment.journal_id,
        currency=limit.currency or None,
        layer=layer,
        max_available=amount if same_side else None,
        min_available=None if same_side else -amount,
        enforcement=control.enforcement,
        condition=control.condition,
        description=f"velocity control {control.name!r} ({control.velocity_control_id}), "
                    f"limit {limit.name!r} ({limit.velocity_limit_id}): {direction.value} "
                    f"available({layer.value}) at most {amount}",
    )

