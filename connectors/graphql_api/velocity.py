"""Twisp's velocity controls in the API: limits, controls, attachments, and velocity reads.

The rules are the catalog's (``ledger_core.velocity_controls``): an attachment resolves
each limit of its control into bounds the processor checks with every posting. A velocity
balance here is the owner's balance in the journal, read from the read model: ``spent`` is
its available amount at the limit's layer, counted in the limit's direction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

import ledger_core as core
from connectors.graphql_api.calculations import PartitionKey, PartitionKeyInput
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.enums import (
    DebitOrCredit,
    Layer,
    SortOrder,
    VelocityControlIndex,
    VelocityEnforcementAction,
    VelocityLimitIndex,
)
from connectors.graphql_api.errors import ApiError
from connectors.graphql_api.inputs import (
    FilterValue,
    ParamDefinitionInput,
    VelocityEnforcementInput,
    body_of,
)
from connectors.graphql_api.lists import conditions, listing
from connectors.graphql_api.objects import (
    USD,
    Balance,
    Connection,
    Info,
    ParamDefinition,
    balance_of,
    described,
    mutation,
    paged,
    request,
)
from connectors.graphql_api.scalars import JSON, CurrencyCode, Expression
from connectors.graphql_api.writes import catalog_change
from ledger_core.catalog import Catalog, CatalogKind

__all__ = [
    "ResolvedVelocityControl",
    "UpdateVelocityControlInput",
    "UpdateVelocityLimitInput",
    "VelocityBalance",
    "VelocityControl",
    "VelocityControlInput",
    "VelocityLimit",
    "VelocityLimitInput",
    "attach_control",
    "attached_controls",
    "change_control",
    "change_limit",
    "create_control",
    "create_limit",
    "velocity_balances",
    "velocity_control_or_none",
    "velocity_limit_or_none",
]


@strawberry.type(description="What a velocity control does when one of its limits breaks.")
class VelocityEnforcement:
    """A control's enforcement."""

    action: VelocityEnforcementAction


@strawberry.type(description="One bound of a limit; each field is CEL over the params.")
class BalanceLimit:
    """A bound: at most ``amount`` available at ``layer`` in the ``NormalBalanceType``
    direction (Twisp spells this field with a capital N)."""

    layer: Expression
    amount: Expression
    normal_balance_type: Expression = strawberry.field(name="NormalBalanceType")
    start: Expression | None
    end: Expression | None


@strawberry.type(description="The bounds of a velocity limit.")
class Limit:
    """A limit's bounds."""

    timestamp_source: Expression | None
    balance: list[BalanceLimit]


@strawberry.type(description="Bounds on an owner's balance, resolved per attachment.")
class VelocityLimit:
    """A velocity limit."""

    velocity_limit_id: UUID
    name: str
    description: str
    window: list[PartitionKey]
    condition: Expression | None
    limit: Limit
    currency: CurrencyCode
    params: list[ParamDefinition] | None

    @classmethod
    def of(cls, model: core.ControlLimit) -> VelocityLimit:
        """The GraphQL view of a velocity limit record."""
        return cls(
            velocity_limit_id=model.velocity_limit_id, name=model.name,
            description=model.description,
            window=[PartitionKey(alias=k.alias, value=Expression(k.value)) for k in model.window],
            condition=_cel(model.condition),
            limit=Limit(timestamp_source=_cel(model.timestamp_source), balance=[
                BalanceLimit(layer=Expression(b.layer), amount=Expression(b.amount),
                             normal_balance_type=Expression(b.normal_balance_type),
                             start=_cel(b.start), end=_cel(b.end)) for b in model.balance]),
            currency=CurrencyCode(model.currency),
            params=[ParamDefinition.of(p) for p in model.params])


@strawberry.type(description="Velocity limits enforced together, when the condition holds.")
class VelocityControl:
    """A velocity control."""

    model: strawberry.Private[core.VelocityControl]
    velocity_control_id: UUID
    name: str
    description: str
    enforcement: VelocityEnforcement
    condition: Expression | None

    @classmethod
    def of(cls, model: core.VelocityControl) -> VelocityControl:
        """The GraphQL view of a velocity control record."""
        return cls(model=model, velocity_control_id=model.velocity_control_id, name=model.name,
                   description=model.description, condition=_cel(model.condition),
                   enforcement=VelocityEnforcement(
                       action=VelocityEnforcementAction(model.enforcement.value)))

    @described("The control's velocity limits.")
    async def limits(self, info: Info) -> list[VelocityLimit]:
        """The control's limits, in the order they were added."""
        catalog = await _catalog(request(info))
        return [VelocityLimit.of(catalog.control_limits[i])
                for i in self.model.velocity_limit_ids if i in catalog.control_limits]


@strawberry.type(description="A bound of a limit as an attachment's params resolve it.")
class ResolvedBalanceLimit:
    """A resolved bound."""

    layer: Layer
    amount: Decimal
    normal_balance_type: DebitOrCredit


@strawberry.type(description="The bounds of a limit as an attachment resolves them.")
class ResolvedLimit:
    """A resolved limit's bounds."""

    balance: list[ResolvedBalanceLimit]


@strawberry.type(description="A limit of a control attached to an account or set.")
class ResolvedVelocityLimit:
    """A resolved limit."""

    velocity_limit_id: UUID
    name: str
    description: str
    currency: CurrencyCode
    limit: ResolvedLimit


@strawberry.type(description="A control attached to an account or set, with its params.")
class ResolvedVelocityControl:
    """An attached control."""

    velocity_control_id: UUID
    journal_id: UUID
    name: str
    description: str
    enforcement: VelocityEnforcement
    condition: Expression | None
    limits: list[ResolvedVelocityLimit]


@strawberry.type(description="How much of a velocity limit an account or set has used.")
class VelocityBalance:
    """A velocity balance: the owner's balance, measured against one resolved limit."""

    velocity_control_id: UUID
    velocity_limit_id: UUID
    spent: Decimal
    remaining: Decimal
    currency: CurrencyCode
    velocity_limit: VelocityLimit
    balance: Balance | None


@strawberry.input(description="One bound of a new limit; each field is CEL over the params.")
class BalanceLimitInput:
    """A bound: a layer, an amount and a direction (a bare name is taken as itself)."""

    layer: Expression
    amount: Expression
    normal_balance_type: Expression
    start: Expression | None = None
    end: Expression | None = None

    def body(self) -> dict[str, Any]:
        """The bound part of a limit body."""
        return body_of(layer=self.layer, amount=self.amount,
                       normalBalanceType=self.normal_balance_type, start=self.start,
                       end=self.end)


@strawberry.input(description="The bounds of a new limit.")
class LimitInput:
    """A limit's bounds."""

    balance: list[BalanceLimitInput]
    timestamp_source: Expression | None = None


@strawberry.input(description="The bounds to change on a limit.")
class UpdateLimitInput:
    """New bounds for a limit."""

    balance: list[BalanceLimitInput] | None = None
    timestamp_source: Expression | None = None


@strawberry.input(description="Fields of a new velocity limit.")
class VelocityLimitInput:
    """A new velocity limit; ``velocityControlIds`` adds it to those controls."""

    velocity_limit_id: UUID
    name: str
    description: str
    window: list[PartitionKeyInput | None]
    limit: LimitInput
    currency: CurrencyCode
    condition: Expression | None = None
    params: list[ParamDefinitionInput] | None = None
    velocity_control_ids: list[UUID] | None = None

    def body(self) -> dict[str, Any]:
        """The CREATE_VELOCITY_LIMIT body."""
        return body_of(
            velocityLimitId=str(self.velocity_limit_id), name=self.name,
            description=self.description, currency=str(self.currency),
            window=[{"alias": k.alias, "value": str(k.value)} for k in self.window if k],
            condition=self.condition, timestampSource=self.limit.timestamp_source,
            balance=[b.body() for b in self.limit.balance],
            params=[p.body() for p in self.params or ()])


@strawberry.input(description="Fields of a velocity limit to change.")
class UpdateVelocityLimitInput:
    """Changes to a velocity limit; what is left out stays."""

    name: str | None = None
    description: str | None = None
    limit: UpdateLimitInput | None = None
    currency: CurrencyCode | None = None
    condition: Expression | None = None

    def body(self, velocity_limit_id: UUID) -> dict[str, Any]:
        """The UPDATE_VELOCITY_LIMIT body."""
        limit = self.limit
        return body_of(
            velocityLimitId=str(velocity_limit_id), name=self.name,
            description=self.description,
            currency=None if self.currency is None else str(self.currency),
            condition=self.condition,
            timestampSource=None if limit is None else limit.timestamp_source,
            balance=None if limit is None or limit.balance is None
            else [b.body() for b in limit.balance])


@strawberry.input(description="Fields of a new velocity control.")
class VelocityControlInput:
    """A new velocity control and the limits it starts with."""

    velocity_control_id: UUID
    name: str
    description: str
    enforcement: VelocityEnforcementInput
    condition: Expression | None = None
    velocity_limit_ids: list[UUID] | None = None

    def body(self) -> dict[str, Any]:
        """The CREATE_VELOCITY_CONTROL body."""
        return body_of(
            velocityControlId=str(self.velocity_control_id), name=self.name,
            description=self.description, enforcement=self.enforcement.action.value,
            condition=self.condition,
            velocityLimitIds=[str(i) for i in self.velocity_limit_ids or ()])


@strawberry.input(description="Fields of a velocity control to change.")
class UpdateVelocityControlInput:
    """Changes to a velocity control; what is left out stays."""

    name: str | None = None
    description: str | None = None
    enforcement: VelocityEnforcementInput | None = None
    condition: Expression | None = None

    def body(self, velocity_control_id: UUID) -> dict[str, Any]:
        """The UPDATE_VELOCITY_CONTROL body."""
        return body_of(
            velocityControlId=str(velocity_control_id), name=self.name,
            description=self.description, condition=self.condition,
            enforcement=None if self.enforcement is None else self.enforcement.action.value)


def _cel(source: str | None) -> Expression | None:
    return None if source is None else Expression(source)


async def _catalog(context: RequestContext) -> Catalog:
    await context.fresh([context.services.catalog_part()])
    return context.services.read_model.catalog


async def velocity_limit_or_none(context: RequestContext, limit_id: UUID
                                 ) -> VelocityLimit | None:
    """The velocity limit from the read model's catalog, or None."""
    model = (await _catalog(context)).control_limits.get(limit_id)
    return None if model is None else VelocityLimit.of(model)


async def velocity_control_or_none(context: RequestContext, control_id: UUID
                                   ) -> VelocityControl | None:
    """The velocity control from the read model's catalog, or None."""
    model = (await _catalog(context)).velocity_controls.get(control_id)
    return None if model is None else VelocityControl.of(model)


async def create_limit(context: RequestContext, limit: VelocityLimitInput) -> VelocityLimit:
    """Create a velocity limit, then add it to the controls it names, one by one."""
    entity = await catalog_change(context, CatalogKind.CREATE_VELOCITY_LIMIT, limit.body())
    created = core.ControlLimit.model_validate(entity)
    for control_id in limit.velocity_control_ids or ():
        await catalog_change(context, CatalogKind.UPDATE_VELOCITY_CONTROL, {
            "velocityControlId": str(control_id),
            "addVelocityLimitIds": [str(created.velocity_limit_id)]})
    return VelocityLimit.of(created)


async def change_limit(context: RequestContext, kind: CatalogKind,
                       body: dict[str, Any]) -> VelocityLimit:
    """Update or delete a velocity limit."""
    entity = await catalog_change(context, kind, body)
    return VelocityLimit.of(core.ControlLimit.model_validate(entity))


async def create_control(context: RequestContext, control: VelocityControlInput
                         ) -> VelocityControl:
    """Create a velocity control."""
    entity = await catalog_change(context, CatalogKind.CREATE_VELOCITY_CONTROL, control.body())
    return VelocityControl.of(core.VelocityControl.model_validate(entity))


async def change_control(context: RequestContext, kind: CatalogKind,
                         body: dict[str, Any]) -> VelocityControl:
    """Update, delete, or change the limits of a velocity control."""
    entity = await catalog_change(context, kind, body)
    return VelocityControl.of(core.VelocityControl.model_validate(entity))


async def attach_control(context: RequestContext, kind: CatalogKind, control_id: UUID,
                         account_id: UUID, journal_id: UUID | None, params: JSON | None
                         ) -> VelocityControl:
    """Attach a control to an account or set (again: new params), or detach it."""
    if params is not None and not isinstance(params, dict):
        raise ApiError("bad_request", "params must be an object of param values")
    await catalog_change(context, kind, body_of(
        velocityControlId=str(control_id), accountId=str(account_id),
        journalId=None if journal_id is None else str(journal_id),
        params=None if kind is CatalogKind.DETACH_VELOCITY_CONTROL else params or {}))
    found = await velocity_control_or_none(context, control_id)
    assert found is not None, "an attached control is in the catalog"
    return found


async def attached_controls(context: RequestContext, owner_id: UUID, first: int,
                            after: str | None) -> Connection[ResolvedVelocityControl]:
    """The controls attached to an account or set, with their limits as resolved there."""
    catalog = await _catalog(context)
    by_control: dict[UUID, list[core.ResolvedLimit]] = {}
    for resolved in catalog.resolved_limits(owner_id):
        by_control.setdefault(resolved.velocity_control_id, []).append(resolved)
    records = []
    for (control_id, journal_id) in catalog.control_attachments.get(owner_id, {}):
        control = catalog.velocity_controls[control_id]
        limits: dict[UUID, list[ResolvedBalanceLimit]] = {}
        for resolved in by_control.get(control_id, ()):
            limits.setdefault(resolved.velocity_limit_id, []).append(ResolvedBalanceLimit(
                layer=Layer(resolved.layer.value), amount=resolved.amount,
                normal_balance_type=DebitOrCredit(resolved.direction.value)))
        records.append((f"{control_id}:{journal_id}", ResolvedVelocityControl(
            velocity_control_id=control_id, journal_id=journal_id, name=control.name,
            description=control.description, condition=_cel(control.condition),
            enforcement=VelocityEnforcement(
                action=VelocityEnforcementAction(control.enforcement.value)),
            limits=[ResolvedVelocityLimit(
                velocity_limit_id=limit_id, name=catalog.control_limits[limit_id].name,
                description=catalog.control_limits[limit_id].description,
                currency=CurrencyCode(catalog.control_limits[limit_id].currency),
                limit=ResolvedLimit(balance=bounds)) for limit_id, bounds in limits.items()])))
    return paged(records, first, after)


async def velocity_balances(context: RequestContext, owner_id: UUID, window: JSON,
                            currency: str, velocity_limit_id: UUID | None,
                            journal_id: UUID | None) -> list[VelocityBalance]:
    """What the owner has spent and has left of each resolved limit in ``currency``.

    Every limit here has no window beyond currency, journal and account, so a window with
    any other dimension matches none of them."""
    if not isinstance(window, dict):
        raise ApiError("bad_request", "window must be an object of dimension values")
    catalog = await _catalog(context)
    owner = catalog.accounts.get(owner_id) or catalog.account_sets.get(owner_id)
    if owner is None or window:
        return []
    balances = []
    for resolved in catalog.resolved_limits(owner_id):
        limit = catalog.control_limits[resolved.velocity_limit_id]
        attached = [j for (c, j) in catalog.control_attachments.get(owner_id, {})
                    if c == resolved.velocity_control_id]
        in_journal = journal_id or (attached[0] if attached else core.DEFAULT_JOURNAL_ID)
        if (velocity_limit_id is not None and velocity_limit_id != limit.velocity_limit_id) \
                or (limit.currency and limit.currency != currency) or in_journal not in attached:
            continue
        balance = await balance_of(context, owner_id, in_journal, currency)
        available = Decimal(0) if balance is None else \
            balance.model.available(resolved.layer).normal_balance
        spent = resolved.spent(available, owner.normal_balance_type)
        balances.append(VelocityBalance(
            velocity_control_id=resolved.velocity_control_id,
            velocity_limit_id=resolved.velocity_limit_id, spent=spent,
            remaining=resolved.amount - spent, currency=CurrencyCode(currency),
            velocity_limit=VelocityLimit.of(limit), balance=balance))
    return balances


@strawberry.input(description="The index to list velocity controls by, and its order.")
class VelocityControlIndexInput:
    """A velocity control index."""

    name: VelocityControlIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on velocity controls' fields.")
class VelocityControlFilterInput:
    """Filters of a velocityControls query."""

    velocity_control_id: FilterValue | None = None
    name: FilterValue | None = None


@strawberry.input(description="The index to list velocity limits by, and its order.")
class VelocityLimitIndexInput:
    """A velocity limit index."""

    name: VelocityLimitIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on velocity limits' fields.")
class VelocityLimitFilterInput:
    """Filters of a velocityLimits query."""

    velocity_limit_id: FilterValue | None = None
    name: FilterValue | None = None


_CONTROL_FIELDS = {"velocity_control_id": "VELOCITY_CONTROL_ID", "name": "NAME"}
_LIMIT_FIELDS = {"velocity_limit_id": "VELOCITY_LIMIT_ID", "name": "NAME"}


@strawberry.type
class VelocityQueries:
    """Twisp's velocity reads, part of the Query root."""

    @described("A velocity control by its id.")
    async def velocity_control(self, info: Info, id: UUID) -> VelocityControl | None:
        """The velocity control, or null."""
        return await velocity_control_or_none(request(info), id)

    @described("A velocity limit by its id.")
    async def velocity_limit(self, info: Info, id: UUID) -> VelocityLimit | None:
        """The velocity limit, or null."""
        return await velocity_limit_or_none(request(info), id)

    @described("Velocity controls by index (VELOCITY_CONTROL_ID, NAME), filtered by where, "
               "a page at a time.")
    async def velocity_controls(self, info: Info, index: VelocityControlIndexInput,
                                first: int = 100, where: VelocityControlFilterInput | None = None,
                                after: str | None = None) -> Connection[VelocityControl]:
        """A page of velocity controls."""
        return await listing(request(info), "velocityControls", index.name.value,
                             conditions(where, _CONTROL_FIELDS), first, after, index.sort,
                             VelocityControl.of)

    @described("Velocity limits by index (VELOCITY_LIMIT_ID, NAME), filtered by where, a page "
               "at a time.")
    async def velocity_limits(self, info: Info, index: VelocityLimitIndexInput,
                              first: int = 100, where: VelocityLimitFilterInput | None = None,
                              after: str | None = None) -> Connection[VelocityLimit]:
        """A page of velocity limits."""
        return await listing(request(info), "velocityLimits", index.name.value,
                             conditions(where, _LIMIT_FIELDS), first, after, index.sort,
                             VelocityLimit.of)

    @described("What an account or set has spent and has left of each velocity limit "
               "attached to it, in a currency and journal (default: the attachment's).")
    async def velocity(self, info: Info, account_id: UUID, window: JSON,
                       currency: CurrencyCode = USD,
                       velocity_limit_id: UUID | None = None, journal_id: UUID | None = None
                       ) -> list[VelocityBalance]:
        """The velocity balances."""
        return await velocity_balances(request(info), account_id, window, currency,
                                       velocity_limit_id, journal_id)

    @described("The velocity controls attached to an account or set, with their limits as "
               "its params resolve them.")
    async def attached_controls(self, info: Info, account_id: UUID, first: int,
                                after: str | None = None
                                ) -> Connection[ResolvedVelocityControl]:
        """A page of attached controls."""
        return await attached_controls(request(info), account_id, first, after)


@strawberry.type
class VelocityMutations:
    """Twisp's velocity writes, part of the Mutation root."""

    @mutation("Create a velocity limit: bounds on what an owner may have available at a "
               "layer, each CEL over the params an attachment gives.")
    async def create_velocity_limit(self, info: Info, input: VelocityLimitInput
                                    ) -> VelocityLimit | None:
        """The limit as written."""
        return await create_limit(request(info), input)

    @mutation("Change a velocity limit; every attachment must still resolve.")
    async def update_velocity_limit(self, info: Info, velocity_limit_id: UUID,
                                    input: UpdateVelocityLimitInput) -> VelocityLimit | None:
        """The limit as changed."""
        return await change_limit(request(info), CatalogKind.UPDATE_VELOCITY_LIMIT,
                                  input.body(velocity_limit_id))

    @mutation("Delete a velocity limit: it is kept, LOCKED, and bounds nothing.")
    async def delete_velocity_limit(self, info: Info, velocity_limit_id: UUID
                                    ) -> VelocityLimit | None:
        """The limit as deleted."""
        return await change_limit(request(info), CatalogKind.DELETE_VELOCITY_LIMIT,
                                  {"velocityLimitId": str(velocity_limit_id)})

    @mutation("Create a velocity control: limits enforced together (REJECT or WARN).")
    async def create_velocity_control(self, info: Info, input: VelocityControlInput
                                      ) -> VelocityControl | None:
        """The control as written."""
        return await create_control(request(info), input)

    @mutation("Change a velocity control's name, description, enforcement or condition.")
    async def update_velocity_control(self, info: Info, velocity_control_id: UUID,
                                      input: UpdateVelocityControlInput
                                      ) -> VelocityControl | None:
        """The control as changed."""
        return await change_control(request(info), CatalogKind.UPDATE_VELOCITY_CONTROL,
                                    input.body(velocity_control_id))

    @mutation("Delete a velocity control: it is kept, LOCKED, and enforces nothing.")
    async def delete_velocity_control(self, info: Info, velocity_control_id: UUID
                                      ) -> VelocityControl | None:
        """The control as deleted."""
        return await change_control(request(info), CatalogKind.DELETE_VELOCITY_CONTROL,
                                    {"velocityControlId": str(velocity_control_id)})

    @mutation("Add a limit to a control.")
    async def add_limit_to_control(self, info: Info, velocity_control_id: UUID,
                                   velocity_limit_id: UUID) -> VelocityControl | None:
        """The control."""
        return await change_control(request(info), CatalogKind.UPDATE_VELOCITY_CONTROL, {
            "velocityControlId": str(velocity_control_id),
            "addVelocityLimitIds": [str(velocity_limit_id)]})

    @mutation("Remove a limit from a control.")
    async def remove_limit_from_control(self, info: Info, velocity_control_id: UUID,
                                        velocity_limit_id: UUID) -> VelocityControl | None:
        """The control."""
        return await change_control(request(info), CatalogKind.UPDATE_VELOCITY_CONTROL, {
            "velocityControlId": str(velocity_control_id),
            "removeVelocityLimitIds": [str(velocity_limit_id)]})

    @mutation("Remove every limit from a control.")
    async def remove_all_limits_from_control(self, info: Info, velocity_control_id: UUID
                                             ) -> VelocityControl | None:
        """The control."""
        return await change_control(request(info), CatalogKind.UPDATE_VELOCITY_CONTROL, {
            "velocityControlId": str(velocity_control_id), "removeAllLimits": True})

    @mutation("Attach a control to an account (in a journal, default DEFAULT) or a set, "
               "with the params its limits read; attaching again replaces the params.")
    async def attach_velocity_control(self, info: Info, velocity_control_id: UUID,
                                      account_id: UUID, journal_id: UUID | None = None,
                                      params: JSON | None = None) -> VelocityControl | None:
        """The control."""
        return await attach_control(request(info), CatalogKind.ATTACH_VELOCITY_CONTROL,
                                    velocity_control_id, account_id, journal_id, params)

    @mutation("Detach a control from an account or set.")
    async def detach_velocity_control(self, info: Info, velocity_control_id: UUID,
                                      account_id: UUID, journal_id: UUID | None = None
                                      ) -> VelocityControl | None:
        """The control."""
        return await attach_control(request(info), CatalogKind.DETACH_VELOCITY_CONTROL,
                                    velocity_control_id, account_id, journal_id, None)

