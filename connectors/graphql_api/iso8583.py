"""The ``iso8583`` namespace of the schema, as Twisp has it: ``iso8583 { config configs }``
and ``iso8583 { createConfig updateConfig deleteConfig }``.

Configs are catalog entities: each mutation is one catalog command, answered with the config
as the catalog desk wrote it; reads come from the read model's catalog once it includes
every write acknowledged before the request. A deleted config is kept, LOCKED, so
``config`` and ``configs`` still show it, with its ``status``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from uuid import UUID

import strawberry

import ledger_core as core
from connectors.graphql_api import writes
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.enums import Iso8583ProcessorType, OpenToBuyType, SortOrder, Status
from connectors.graphql_api.errors import ApiError
from connectors.graphql_api.inputs import body_of
from connectors.graphql_api.objects import PAGE_MAX, Info, PageInfo, described, request
from connectors.graphql_api.scalars import JSON
from ledger_core.catalog import CatalogKind

__all__ = ["Iso8583Config", "Iso8583Mutation", "Iso8583Query"]

_CURSOR_PREFIX = "iso8583config:"


@strawberry.type(description="Which balance authorizations are judged against.")
class OpenToBuyConfig:
    """The open-to-buy balance of a config."""

    open_to_buy: OpenToBuyType


@strawberry.type(name="ISO8583Config",
                 description="How a card processor's ISO 8583 messages are booked: journal, "
                             "settlement account, time zone, processor and message variant.")
class Iso8583Config:
    """A config at its latest version."""

    id: strawberry.ID
    config_id: UUID
    journal_id: UUID
    settlement_account_id: UUID
    time_zone: str
    description: str | None
    processor: Iso8583ProcessorType
    processor_spec: JSON
    open_to_buy_config: OpenToBuyConfig
    status: Status
    version: int

    @classmethod
    def of(cls, model: core.Iso8583Config) -> Iso8583Config:
        """The GraphQL view of a config."""
        return cls(id=strawberry.ID(f"iso8583:config:{model.config_id}"),
                   config_id=model.config_id, journal_id=model.journal_id,
                   settlement_account_id=model.settlement_account_id,
                   time_zone=model.time_zone, description=model.description,
                   processor=Iso8583ProcessorType(model.processor.value),
                   processor_spec=JSON(model.processor_spec.model_dump(mode="json")),
                   open_to_buy_config=OpenToBuyConfig(
                       open_to_buy=OpenToBuyType(model.open_to_buy.value)),
                   status=Status(model.status.value), version=model.version)


@strawberry.type(name="ISO8583ConfigConnectionEdge", description="A config and its cursor.")
class Iso8583ConfigConnectionEdge:
    """One config of a page."""

    cursor: str
    node: Iso8583Config


@strawberry.type(name="ISO8583ConfigConnection", description="A page of configs.")
class Iso8583ConfigConnection:
    """A page of configs: nodes, edges with cursors, and page info."""

    nodes: list[Iso8583Config]
    edges: list[Iso8583ConfigConnectionEdge]
    page_info: PageInfo


@strawberry.input(description="The balance authorizations are judged against.")
class OpenToBuyConfigInput:
    """AVAILABLE_PENDING here by default (Twisp's default, VELOCITY_BALANCE, is refused)."""

    open_to_buy: OpenToBuyType = OpenToBuyType.AVAILABLE_PENDING


@strawberry.input(name="ISO8583CreateConfigInput", description="Fields of a new config.")
class Iso8583CreateConfigInput:
    """A new config (its version 1)."""

    config_id: UUID
    journal_id: UUID
    settlement_account_id: UUID
    time_zone: str
    processor: Iso8583ProcessorType
    description: str | None = None
    processor_spec: JSON | None = None
    open_to_buy_config: OpenToBuyConfigInput | None = None

    def body(self) -> dict[str, Any]:
        """The CREATE_ISO8583_CONFIG body."""
        return body_of(configId=str(self.config_id), journalId=str(self.journal_id),
                       settlementAccountId=str(self.settlement_account_id),
                       timeZone=self.time_zone, processor=self.processor.value,
                       description=self.description, processorSpec=self.processor_spec,
                       openToBuy=_open_to_buy(self.open_to_buy_config))


@strawberry.input(name="ISO8583UpdateConfigInput",
                  description="Config fields to change; the others keep their values.")
class Iso8583UpdateConfigInput:
    """Changes to a config; its journal and settlement account do not change."""

    time_zone: str | None = None
    open_to_buy_config: OpenToBuyConfigInput | None = None
    processor: Iso8583ProcessorType | None = None
    processor_spec: JSON | None = None
    description: str | None = None

    def body(self, config_id: UUID) -> dict[str, Any]:
        """The UPDATE_ISO8583_CONFIG body."""
        return body_of(configId=str(config_id), timeZone=self.time_zone,
                       openToBuy=_open_to_buy(self.open_to_buy_config),
                       processor=None if self.processor is None else self.processor.value,
                       processorSpec=self.processor_spec, description=self.description)


def _open_to_buy(given: OpenToBuyConfigInput | None) -> str | None:
    return None if given is None else given.open_to_buy.value


async def _written(context: RequestContext, kind: CatalogKind,
                   body: dict[str, Any]) -> Iso8583Config:
    entity = await writes.catalog_change(context, kind, body)
    return Iso8583Config.of(core.Iso8583Config.model_validate(entity))


@strawberry.type(name="ISO8583Mutation", description="Creating, changing and deleting ISO 8583 "
                                                     "configs.")
class Iso8583Mutation:
    """The write side of ``iso8583``."""

    @described("Create a config: the journal and settlement account card messages are "
               "booked with, the time zone, the processor and the message variant.")
    async def create_config(self, info: Info, input: Iso8583CreateConfigInput
                            ) -> Iso8583Config | None:
        """The config as written (version 1)."""
        return await _written(request(info), CatalogKind.CREATE_ISO8583_CONFIG, input.body())

    @described("Change a config's time zone, processor, message variant, open-to-buy or "
               "description: a new version.")
    async def update_config(self, info: Info, config_id: UUID,
                            input: Iso8583UpdateConfigInput) -> Iso8583Config | None:
        """The config as written."""
        return await _written(request(info), CatalogKind.UPDATE_ISO8583_CONFIG,
                              input.body(config_id))

    @described("Delete a config: it is kept, LOCKED, under a new version, and takes no "
               "further update.")
    async def delete_config(self, info: Info, id: UUID) -> Iso8583Config | None:
        """The config as deleted."""
        return await _written(request(info), CatalogKind.DELETE_ISO8583_CONFIG,
                              {"configId": str(id)})


@strawberry.type(name="ISO8583Query", description="Reading ISO 8583 configs.")
class Iso8583Query:
    """The read side of ``iso8583``."""

    @described("A config by its configId (a deleted one is LOCKED).")
    async def config(self, info: Info, config_id: UUID) -> Iso8583Config | None:
        """The config, or null."""
        context = request(info)
        await context.fresh([context.services.catalog_part()])
        found = context.services.read_model.iso8583_config(config_id)
        return None if found is None else Iso8583Config.of(found)

    @described("Every config, deleted ones included, by configId.")
    async def configs(self, info: Info, first: int, after: str | None = None,
                      sort: SortOrder | None = None) -> Iso8583ConfigConnection:
        """A page of configs."""
        context = request(info)
        await context.fresh([context.services.catalog_part()])
        configs = sorted(context.services.read_model.iso8583_configs(),
                         key=lambda config: config.config_id.int,
                         reverse=sort is SortOrder.DESC)
        return _page(configs, first, after)


def _cursor(config_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{config_id}".encode()).decode()


def _after(cursor: str) -> UUID:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(_CURSOR_PREFIX):
            return UUID(text.removeprefix(_CURSOR_PREFIX))
    except (ValueError, binascii.Error):
        pass
    raise ApiError("bad_request", f"after: {cursor!r} is not a cursor this API returned")


def _page(configs: list[core.Iso8583Config], first: int,
          after: str | None) -> Iso8583ConfigConnection:
    """The page after the config ``after`` names (cursors are ids, so a page stays put while
    configs are added), at most ``first`` long."""
    if not 0 <= first <= PAGE_MAX:
        raise ApiError("bad_request", f"first must be between 0 and {PAGE_MAX}, got {first}")
    start = 0
    if after is not None:
        last = _after(after)
        start = next((i + 1 for i, config in enumerate(configs) if config.config_id == last),
                     len(configs))
    page = configs[start:start + first]
    edges = [Iso8583ConfigConnectionEdge(cursor=_cursor(config.config_id),
                                         node=Iso8583Config.of(config)) for config in page]
    return Iso8583ConfigConnection(
        nodes=[edge.node for edge in edges], edges=edges,
        page_info=PageInfo(has_previous_page=start > 0,
                           has_next_page=start + len(page) < len(configs),
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None))
