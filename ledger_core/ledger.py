"""The pure entry points: decide a command, and fold legs decided elsewhere.

Nothing here reads a clock or does I/O: the wall time comes in as ``now`` and state comes
in through a ``LedgerView``. The same view and command always give the same decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from ledger_core.balances import Balance, fold_entry
from ledger_core.batch import decide_batch
from ledger_core.commands import Command
from ledger_core.decisions import Posted, Rejected
from ledger_core.posting import fold_owned_sets
from ledger_core.transactions import Entry
from ledger_core.views import LedgerView

__all__ = ["apply", "apply_remote_entries"]


def apply(view: LedgerView, command: Command, now: datetime) -> Posted | Rejected:
    """Decide ``command`` against ``view``; ``now`` is the wall time recorded as ``created``.

    Bad input is answered with ``Rejected`` (the first broken rule in RejectionCode order),
    never raised. "Today", the default effective date, is ``now``'s UTC date.
    """
    [decision] = decide_batch(view, [command], now)
    return decision


def apply_remote_entries(view: LedgerView, entries: Iterable[Entry]) -> tuple[Balance, ...]:
    """Fold legs that another partition accepted onto the balances this view owns: the
    entry's account and the sets it rolls up into, those of them this view owns.

    No rule is checked: the posting was accepted when its owner committed it. Accounts and
    sets this view does not own are left alone. Returns the new balance versions.
    """
    folded: dict[tuple[UUID, UUID, str], Balance] = {}
    for entry in entries:
        if view.owns(entry.account_id):
            account = view.account(entry.account_id)
            assert account is not None, f"leg for unknown account {entry.account_id}"
            key = (entry.account_id, entry.journal_id, entry.currency)
            current = folded.get(key) or view.balance(*key)
            folded[key] = fold_entry(current, entry, account.normal_balance_type)
        fold_owned_sets(view, entry, folded)
    return tuple(folded.values())
