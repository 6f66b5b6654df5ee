"""Balances as of an accounting (effective) date, in Twisp's ``effective`` argument.

``{cumulative: D}`` is everything up to and including D; ``{period: "2024" | "2024-02" |
"2024-02-15"}`` the activity of that year, month or day; ``{range: {gte, lte}}`` the
activity from the first day of ``gte``'s period to the last of ``lte``'s. A journal answers
them only when it was created with ``config.enableEffectiveBalances``.

They are folded at read time from the entries the request's view sees (the read model
holds every entry of an account, and of each set it rolls up into), so a back-dated posting
changes every later effective balance at once, and a read costs the owner's entries in
that journal and currency.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date
from uuid import UUID

import strawberry

import ledger_core as core
from connectors.graphql_api.errors import BAD_REQUEST, ApiError

__all__ = ["EffectiveInput", "EffectiveRangeInput", "effective_balance"]

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


def effective_balance(owner_id: UUID, entries: Iterable[core.Entry],
                      journal: core.Journal, currency: str, normal: core.Direction,
                      effective: EffectiveInput) -> core.Balance | None:
    """The fold of the owner's ``entries`` in ``journal`` and ``currency`` whose effective
    date lies in ``effective``; None when there is none. ``owner_id`` is an account's id,
    or a set's (then the entries are those that rolled up into it)."""
    if not journal.config.enable_effective_balances:
        raise ApiError(BAD_REQUEST, f"journal {journal.journal_id} does not record effective "
                                    "balances: create it with config.enableEffectiveBalances")
    first, last = effective.dates()
    balance: core.Balance | None = None
    for entry in entries:
        if entry.journal_id != journal.journal_id or entry.currency != currency \
                or entry.effective > last or (first is not None and entry.effective < first):
            continue
        if entry.account_id == owner_id:
            balance = core.fold_entry(balance, entry, normal)
        else:
            balance = core.fold_into_set(balance, owner_id, entry, normal)
    return balance
