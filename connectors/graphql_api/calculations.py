"""Twisp's calculations in the API: create, delete, attach and detach, and reading them.

The balances they define are read through ``balance(calculationId, dimension)`` on
accounts, sets and ``Query.balance`` (``computed_balances``); the rules are the catalog's
(``ledger_core.calculations``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry

import ledger_core as core
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.enums import CalculationIndex, CalculationScope, Status
from connectors.graphql_api.inputs import FilterValue, body_of
from connectors.graphql_api.objects import Info, described, request
from connectors.graphql_api.scalars import Expression
from connectors.graphql_api.writes import catalog_change
from ledger_core.catalog import CatalogKind

__all__ = ["CALCULATION_FIELDS", "AttachCalculationInput", "AttachedCalculation", "Calculation",
           "CalculationFilterInput", "CalculationIndexInput",
           "CreateCalculationInput", "attach_calculation", "calculation_or_none",
           "create_calculation", "delete_calculation"]


@strawberry.type(description="A dimension: its alias and the CEL that computes it.")
class PartitionKey:
    """One dimension of a calculation."""

    alias: str
    value: Expression


@strawberry.type(description="System configuration of a calculation.")
class CalculationConfig:
    """Per-calculation switches."""

    enable_effective_balances: bool


@strawberry.type(description="Balances grouped by dimensions computed from each entry.")
class Calculation:
    """A calculation."""

    calculation_id: UUID
    code: str
    description: str
    scope: CalculationScope
    dimensions: list[PartitionKey]
    condition: Expression | None
    status: Status
    config: CalculationConfig

    @classmethod
    def of(cls, model: core.Calculation) -> Calculation:
        """The GraphQL view of a calculation record."""
        return cls(calculation_id=model.calculation_id, code=model.code,
                   description=model.description, scope=CalculationScope(model.scope.value),
                   dimensions=[PartitionKey(alias=d.alias, value=Expression(d.value))
                               for d in model.dimensions],
                   condition=None if model.condition is None else Expression(model.condition),
                   status=Status(model.status.value), config=CalculationConfig(
                       enable_effective_balances=model.config.enable_effective_balances))


@strawberry.type(description="A LOCAL calculation attached to an account or a set.")
class AttachedCalculation:
    """An attachment."""

    journal_id: UUID
    account_id: UUID
    calculation_id: UUID

    @described("The calculation attached.")
    async def calculation(self, info: Info) -> Calculation:
        """The attachment's calculation."""
        found = await calculation_or_none(request(info), self.calculation_id)
        assert found is not None, "an attachment's calculation is in the catalog"
        return found


@strawberry.input(description="A dimension: its alias and the CEL that computes it.")
class PartitionKeyInput:
    """One dimension of a new calculation."""

    alias: str
    value: Expression


@strawberry.input(description="System configuration of a new calculation.")
class CalculationConfigInput:
    """Per-calculation switches."""

    enable_effective_balances: bool = False


@strawberry.input(description="Fields of a new calculation.")
class CreateCalculationInput:
    """A new calculation; GLOBAL unless told otherwise."""

    calculation_id: UUID
    code: str
    description: str
    dimensions: list[PartitionKeyInput]
    scope: CalculationScope = CalculationScope.GLOBAL
    condition: Expression | None = None
    config: CalculationConfigInput | None = None

    def body(self) -> dict[str, Any]:
        """The CREATE_CALCULATION body."""
        return body_of(
            calculationId=str(self.calculation_id), code=self.code,
            description=self.description, scope=self.scope.value,
            dimensions=[{"alias": d.alias, "value": str(d.value)} for d in self.dimensions],
            condition=None if self.condition is None else str(self.condition),
            config=None if self.config is None else {
                "enableEffectiveBalances": self.config.enable_effective_balances})


@strawberry.input(description="An account (in a journal) or a set, and a calculation.")
class AttachCalculationInput:
    """What to attach or detach; the DEFAULT journal unless given (a set's own journal)."""

    account_id: UUID
    calculation_id: UUID
    journal_id: UUID | None = None

    def body(self) -> dict[str, Any]:
        """The ATTACH_CALCULATION or DETACH_CALCULATION body."""
        return body_of(accountId=str(self.account_id), calculationId=str(self.calculation_id),
                       journalId=None if self.journal_id is None else str(self.journal_id))


@strawberry.input(description="The index to list calculations by, and its order.")
class CalculationIndexInput:
    """A calculation index."""

    name: CalculationIndex


@strawberry.input(description="Conditions on calculations' fields.")
class CalculationFilterInput:
    """Filters of a calculations query."""

    calculation_id: FilterValue | None = None
    code: FilterValue | None = None


CALCULATION_FIELDS = {"calculation_id": "CALCULATION_ID", "code": "CODE"}


async def calculation_or_none(context: RequestContext, calculation_id: UUID
                              ) -> Calculation | None:
    """The calculation from the read model's catalog, once it is fresh enough, or None."""
    await context.fresh([context.services.catalog_part()])
    model = context.services.read_model.catalog.calculations.get(calculation_id)
    return None if model is None else Calculation.of(model)


async def create_calculation(context: RequestContext, calculation: CreateCalculationInput
                             ) -> Calculation:
    """Create a calculation."""
    entity = await catalog_change(context, CatalogKind.CREATE_CALCULATION, calculation.body())
    return Calculation.of(core.Calculation.model_validate(entity))


async def delete_calculation(context: RequestContext, calculation_id: UUID) -> Calculation:
    """Delete a calculation: kept, LOCKED; a LOCAL one must be detached everywhere first."""
    entity = await catalog_change(context, CatalogKind.DELETE_CALCULATION,
                                  {"calculationId": str(calculation_id)})
    return Calculation.of(core.Calculation.model_validate(entity))


async def attach_calculation(context: RequestContext, kind: CatalogKind,
                             attachment: AttachCalculationInput) -> AttachedCalculation:
    """Attach a LOCAL calculation, or detach one."""
    entity = core.CalculationAttachment.model_validate(
        await catalog_change(context, kind, attachment.body()))
    return AttachedCalculation(journal_id=entity.journal_id, account_id=entity.account_id,
                               calculation_id=entity.calculation_id)
