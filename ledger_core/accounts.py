"""Accounts of the chart: where entries land and balances are kept."""

from __future__ import annotations

from uuid import UUID

from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import Code, Description, JsonObject, Name
from ledger_core.enums import Direction, Status

__all__ = ["Account", "AccountConfig"]


class AccountConfig(LedgerModel):
    """Per-account switches; ``enable_concurrent_posting`` marks a hot account."""

    enable_concurrent_posting: bool = False


class Account(LedgerModel):
    """A ledger account. Credit-normal by default, as in Twisp; LOCKED refuses postings."""

    account_id: UUID
    code: Code
    name: Name
    description: Description = ""
    normal_balance_type: Direction = Direction.CREDIT
    status: Status = Status.ACTIVE
    metadata: JsonObject | None = None
    external_id: Code | None = None
    config: AccountConfig = AccountConfig()
