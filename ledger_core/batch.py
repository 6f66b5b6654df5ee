"""Deciding a batch of commands in passes, the way TigerBeetle's state machine does:
prefetch, then commit from memory.

1. **Prefetch the idempotency keys**: the transaction id of every command and the target of
   every void, read from the view in one call (``LedgerView.prefetch``), so a store can
   answer them with one multi-get instead of one read per command.
2. **Expand every posting**: the tran code's params, vars and templates. Expansion reads
   the catalog only, so it can run before any decision.
3. **Prefetch the balances** the expanded legs (and the voided originals' entries) touch.
4. **Judge and fold in order, in memory**: each command is decided against the view plus
   the decisions already taken in this batch (``_BatchState``), so a later command sees the
   effects of an earlier one (read-your-writes inside the batch), exactly as if they had
   been decided one at a time.

The answer for each command, and its precedence of rules, is the same as deciding it alone
after the commands before it: ``apply`` is ``decide_batch`` of one command.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from ledger_core.account_sets import AccountSet
from ledger_core.accounts import Account
from ledger_core.balances import Balance
from ledger_core.commands import Command, PostTransaction, VoidTransaction
from ledger_core.decisions import Decision, Posted, Rejected
from ledger_core.journals import Journal
from ledger_core.limits import VelocityLimit
from ledger_core.posting import Expansion, duplicate_of, expand_post, judge_post
from ledger_core.tran_codes import TranCode
from ledger_core.transactions import PostedTransaction
from ledger_core.views import BalanceKey, LedgerView
from ledger_core.voids import apply_void

__all__ = ["decide_batch"]


def decide_batch(view: LedgerView, commands: Sequence[Command],
                 now: datetime) -> list[Decision]:
    """Decide ``commands`` in order against ``view``; one decision per command.

    Pure: the view is only read, and the decisions are returned for the caller to write.
    """
    view.prefetch(_idempotency_keys(commands), ())
    expansions = [expand_post(view, command, now) if isinstance(command, PostTransaction)
                  else None for command in commands]
    view.prefetch((), _balance_keys(view, commands, expansions))
    state = _BatchState(view)
    decisions: list[Decision] = []
    for command, expansion in zip(commands, expansions, strict=True):
        decision = _decide(state, command, expansion, now)
        if isinstance(decision, Posted):
            state.remember(decision)
        decisions.append(decision)
    return decisions


def _decide(state: _BatchState, command: Command, expansion: Expansion | Rejected | None,
            now: datetime) -> Decision:
    if isinstance(command, VoidTransaction):
        return apply_void(state, command, now)
    duplicate = duplicate_of(state, command.transaction_id)
    if duplicate is not None:
        return duplicate
    assert expansion is not None, "every posting of a batch is expanded"
    if isinstance(expansion, Rejected):
        return expansion
    return judge_post(state, command, expansion, now)


def _idempotency_keys(commands: Sequence[Command]) -> list[UUID]:
    keys = [command.transaction_id for command in commands]
    keys += [command.void_of for command in commands if isinstance(command, VoidTransaction)]
    return keys


def _balance_keys(view: LedgerView, commands: Sequence[Command],
                  expansions: Sequence[Expansion | Rejected | None]) -> list[BalanceKey]:
    keys: list[BalanceKey] = []
    for command, expansion in zip(commands, expansions, strict=True):
        if isinstance(expansion, Expansion):
            journal = expansion.header.journal_id
            for leg in expansion.legs:
                owners = (leg.account_id, *view.parent_sets(leg.account_id, journal))
                keys += [(owner, journal, str(leg.currency)) for owner in owners
                         if view.owns(owner)]
        elif isinstance(command, VoidTransaction):
            original = view.posted(command.void_of)
            if original is not None:
                keys += [(owner, entry.journal_id, entry.currency)
                         for entry in original.entries
                         for owner in (entry.account_id, *entry.parent_account_ids)
                         if view.owns(owner)]
    return keys


class _BatchState:
    """The view, with the batch's decisions so far written over it (a LedgerView)."""

    __slots__ = ("_balances", "_posted", "_view")

    def __init__(self, view: LedgerView) -> None:
        self._view = view
        self._balances: dict[BalanceKey, Balance] = {}
        self._posted: dict[UUID, PostedTransaction] = {}

    def remember(self, decision: Posted) -> None:
        """Write an accepted decision over the view, for the commands after it."""
        transaction = decision.transaction
        self._posted[transaction.transaction_id] = PostedTransaction(
            transaction=transaction, entries=decision.entries)
        if decision.voided is not None:
            original = self.posted(decision.voided.transaction_id)
            assert original is not None, "a void was decided without its original"
            self._posted[decision.voided.transaction_id] = msgspec.structs.replace(
                original, transaction=decision.voided)
        for balance in decision.balances:
            self._balances[(balance.account_id, balance.journal_id, balance.currency)] = balance

    def journal(self, journal_id: UUID) -> Journal | None:
        """The journal, from the view."""
        return self._view.journal(journal_id)

    def account(self, account_id: UUID) -> Account | None:
        """The account, from the view."""
        return self._view.account(account_id)

    def account_set(self, account_set_id: UUID) -> AccountSet | None:
        """The account set, from the view."""
        return self._view.account_set(account_set_id)

    def parent_sets(self, account_id: UUID, journal_id: UUID) -> tuple[UUID, ...]:
        """The account's sets in the journal, from the view."""
        return self._view.parent_sets(account_id, journal_id)

    def tran_code(self, code: str, version: int | None) -> TranCode | None:
        """The tran code version, from the view."""
        return self._view.tran_code(code, version)

    def limits_for(self, account_id: UUID) -> Sequence[VelocityLimit]:
        """The account's limits, from the view."""
        return self._view.limits_for(account_id)

    def balance(self, account_id: UUID, journal_id: UUID, currency: str) -> Balance | None:
        """The balance as this batch left it, else as the view has it."""
        found = self._balances.get((account_id, journal_id, currency))
        return found if found is not None else self._view.balance(account_id, journal_id,
                                                                  currency)

    def posted(self, transaction_id: UUID) -> PostedTransaction | None:
        """The posted transaction as this batch left it, else as the view has it."""
        found = self._posted.get(transaction_id)
        return found if found is not None else self._view.posted(transaction_id)

    def owns(self, account_id: UUID) -> bool:
        """Whether the view owns the account."""
        return self._view.owns(account_id)

    def prefetch(self, transaction_ids: Sequence[UUID],
                 balance_keys: Sequence[BalanceKey]) -> None:
        """Nothing to do: the batch prefetched through the view before deciding."""
