"""Balances computed when read: as of an accounting (effective) date, in Twisp's
``effective`` argument, and under a calculation (``calculationId``, ``dimension``).

``{cumulative: D}`` is everything up to and including D; ``{period: "2024" | "2024-02" |
"2024-02-15"}`` the activity of that year, month or day; ``{range: {gte, lte}}`` the
activity from the first day of ``gte``'s period to the last of ``lte``'s. A journal answers
them only when it was created with ``config.enableEffectiveBalances``.

A calculation (``ledger_core.calculations``) selects the entries whose condition holds and
whose dimensions have the values ``dimension`` gives (every value when it gives none); with
its own ``config.enableEffectiveBalances`` it can be read by effective date too.

Both are folded at read time from the entries the request's view sees (the read model
holds every entry of an account, and of each set it rolls up into), so a back-dated posting
changes every later effective balance at once, a calculation created later covers the
entries before it, and a read costs the owner's entries in that journal and currency (a
calculation also evaluates its CEL on each).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

import strawberry

import ledger_core as core
from connectors.graphql_api.errors import BAD_REQUEST, ApiError
from ledger_core.calculations import dimension_text, dimensions_of

__all__ = ["EffectiveInput", "EffectiveRangeInput", "computed_balance"]

_PERIOD = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@strawberry.input(name="EffectiveRange",
                  description="Periods from gte's first day to lte's last.")
class EffectiveRangeInput:
    """A range of periods ("YYYY", "YYYY-MM" or "YYYY-MM-DD")."""

    gte: str
    lte: str


@strawberry.input(name="Effective",
                  description="An accounting date or period to read a balance as of: exactly "
                              "one of cumulative, period and range.")
class EffectiveInput:
    """Which effective dates a balance folds."""

    cumulative: date | None = None
    period: str | None = None
    range: EffectiveRangeInput | None = None

    def dates(self) -> tuple[date | None, date]:
        """The first and last effective dates it folds (None: from the beginning)."""
        given = [v for v in (self.cumulative, self.period, self.range) if v is not None]
        if len(given) != 1:
            raise ApiError(BAD_REQUEST, "effective takes exactly one of cumulative, period "
                                        "and range")
        if self.cumulative is not None:
            return None, self.cumulative
        if self.period is not None:
            return _period(self.period)
        assert self.range is not None
        first, _ = _period(self.range.gte)
        _, last = _period(self.range.lte)
        if first > last:
            raise ApiError(BAD_REQUEST, f"effective.range: {self.range.gte} is after "
                                        f"{self.range.lte}")
        return first, last


def _period(text: str) -> tuple[date, date]:
    found = _PERIOD.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        year, month, day = (int(part) if part else None for part in found.groups())
        assert year is not None
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, month, day), date(year, month, day)
    except ValueError:
        raise ApiError(BAD_REQUEST, f"effective period {text!r} is not YYYY, YYYY-MM or "
                                    "YYYY-MM-DD") from None


def computed_balance(owner_id: UUID, entries: Iterable[core.Entry], journal: core.Journal,
                     currency: str, normal: core.Direction, *,
                     effective: EffectiveInput | None,
                     calculation: core.Calculation | None, dimension: Mapping[str, Any] | None,
                     transaction_of: Callable[[UUID], core.Transaction],
                     account_of: Callable[[UUID], core.Account | None]) -> core.Balance | None:
    """The fold of the owner's ``entries`` in ``journal`` and ``currency`` that
    ``effective`` and ``calculation`` select; None when none is. ``owner_id`` is an
    account's id, or a set's (then the entries are those that rolled up into it);
    ``transaction_of`` and ``account_of`` give a calculation the entry's transaction and
    account."""
    first: date | None = None
    last: date | None = None
    if effective is not None:
        if not (journal.config.enable_effective_balances or (
                calculation is not None and calculation.config.enable_effective_balances)):
            what = (f"journal {journal.journal_id}" if calculation is None
                    else f"calculation {calculation.code!r}")
            raise ApiError(BAD_REQUEST, f"{what} does not record effective balances: create "
                                        "it with config.enableEffectiveBalances")
        first, last = effective.dates()
    wanted = _wanted(calculation, dimension)
    balance: core.Balance | None = None
    for entry in entries:
        if entry.journal_id != journal.journal_id or entry.currency != currency \
                or (last is not None and entry.effective > last) \
                or (first is not None and entry.effective < first):
            continue
        if calculation is not None:
            values = dimensions_of(calculation, entry, transaction_of(entry.transaction_id),
                                        account_of(entry.account_id))
            if values is None or any(values[alias] != value for alias, value in wanted.items()):
                continue
        if entry.account_id == owner_id:
            balance = core.fold_entry(balance, entry, normal)
        else:
            balance = core.fold_into_set(balance, owner_id, entry, normal)
    return balance


def _wanted(calculation: core.Calculation | None,
            dimension: Mapping[str, Any] | None) -> dict[str, str]:
    if not dimension:
        return {}
    if calculation is None:
        raise ApiError(BAD_REQUEST, "dimension needs a calculationId")
    aliases = {d.alias for d in calculation.dimensions}
    unknown = sorted(set(dimension) - aliases)
    if unknown:
        raise ApiError(BAD_REQUEST, f"calculation {calculation.code!r} has no dimension "
                                    f"{unknown[0]!r} (it has {sorted(aliases)})")
    return {alias: dimension_text(value) for alias, value in dimension.items()}
