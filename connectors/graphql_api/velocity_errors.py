"""Twisp's ``extensions.exception`` of a velocity breach, from the ledger's rejection."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import ledger_core as core
from connectors.graphql_api.errors import RejectionError
from ledger_core.catalog import Catalog

__all__ = ["with_velocity_exception"]


def with_velocity_exception(refused: RejectionError, transaction_id: UUID, catalog: Catalog
                            ) -> RejectionError:
    """``refused`` with Twisp's ``extensions.exception`` when it is a velocity breach: the
    control and limit the breached bound was resolved from (from the catalog), the limit's
    amount and the balance as the limit counts it."""
    detail = refused.detail
    if refused.code != core.RejectionCode.VELOCITY_LIMIT_EXCEEDED or detail is None:
        return refused
    exception_detail: dict[str, Any] = {
        "accountId": detail["accountId"], "layer": detail["layer"],
        "transactionId": str(transaction_id), "velocityControlId": None,
        "velocityLimitId": None, "violatingBalance": detail["violatingBalance"],
        "limit": None}
    owner_id = UUID(detail["accountId"])
    owner = catalog.accounts.get(owner_id) or catalog.account_sets.get(owner_id)
    resolved = next((r for r in catalog.resolved_limits(owner_id)
                     if r.bound is not None and str(r.bound.limit_id) == detail["limitId"]),
                    None)
    currency = detail["currency"]
    if resolved is not None and owner is not None:
        spent = resolved.spent(Decimal(detail["violatingBalance"]), owner.normal_balance_type)
        exception_detail.update(velocityControlId=str(resolved.velocity_control_id),
                                velocityLimitId=str(resolved.velocity_limit_id),
                                limit=str(resolved.amount), violatingBalance=str(spent))
        message = f"velocity {resolved.amount} {currency} exceeded, balance is {spent} {currency}"
    else:
        message = str(refused.message)
    return RejectionError(refused.code, str(refused.message), refused.field, refused.value,
                          detail=detail, exception={
                              "transactionId": str(transaction_id), "type": "VELOCITY_CONTROL",
                              "errorMessage": message, "detail": exception_detail})
