"""``@dryRun``: a mutation document decided and answered, with nothing written.

Twisp lets a client run a mutation "without committing the data": the document's postings
are decided, its reads see them, and the ledger is left as it was. Here a ``@dryRun``
operation never reaches Kafka. Each ``postTransaction`` and ``voidTransaction`` is decided
in the API by the ledger's own state machine (``ledger_core.decide_batch``, the processor's
rules and rejection codes) against the request's view of the read model, and kept in the
request's ``DryRun``; later postings of the document, its nested fields and
``Mutation.queries`` read the balances, transactions and entries it left.

What a dry run does not see: commands still in flight to the processors (a posting
acknowledged to no one yet), and a transaction id claimed on another partition but not yet
posted. A dry run that holds catalog writes or other mutations is refused before anything
runs (``dry_run_not_supported``): the catalog they change is shared by every partition and
is not simulated here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import overload
from uuid import UUID

import msgspec
import strawberry
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.directive import DirectiveLocation
from strawberry.extensions import SchemaExtension

from connectors.graphql_api.errors import ApiError, RejectionError
from connectors.graphql_api.read_model import ReadModel, View
from ledger_core import (
    Account,
    AccountSet,
    Balance,
    Command,
    Entry,
    Journal,
    Posted,
    PostedTransaction,
    Rejection,
    TranCode,
    VelocityLimit,
)
from ledger_core.batch import decide_batch
from ledger_core.views import BalanceKey

__all__ = ["DRY_RUN_NOT_SUPPORTED", "DryRun", "DryRunDirective", "dry_run"]

DRY_RUN_NOT_SUPPORTED = "dry_run_not_supported"
# The Mutation fields a dry run decides; every other one is refused.
DRY_RUN_FIELDS = frozenset({"postTransaction", "voidTransaction", "queries"})


@strawberry.directive(locations=[DirectiveLocation.MUTATION], name="dryRun",
                      description="Decide the mutation's postings and answer with what they "
                                  "would leave, writing nothing.")
def dry_run() -> None:
    """Declared for validation; ``DryRunDirective`` acts on it."""


class DryRun:
    """The postings of one ``@dryRun`` document over one view of the read model: a
    ``LedgerView`` that owns every account, so each decision folds all its balances."""

    def __init__(self, read_model: ReadModel, view: View) -> None:
        self._read_model = read_model
        self._view = view
        self._balances: dict[BalanceKey, Balance] = {}
        self._transactions: dict[UUID, PostedTransaction] = {}
        self._entries: dict[UUID, Entry] = {}

    def decide(self, command: Command) -> tuple[PostedTransaction, tuple[Rejection, ...]]:
        """Decide ``command`` after the document's earlier postings and keep what it
        posts; a refusal is raised with the code the processor would answer. With the
        posting, the WARN breaches it would be answered with."""
        [decision] = decide_batch(self, [command], datetime.now(UTC))
        if not isinstance(decision, Posted):
            raise RejectionError.of(decision.rejection)
        transaction = decision.transaction
        posted = PostedTransaction(transaction=transaction, entries=decision.entries)
        self._transactions[transaction.transaction_id] = posted
        if decision.voided is not None:
            original = self.posted(decision.voided.transaction_id)
            assert original is not None, "a void is decided against its posted original"
            self._transactions[decision.voided.transaction_id] = msgspec.structs.replace(
                original, transaction=decision.voided)
        for entry in decision.entries:
            self._entries[entry.entry_id] = entry
        for balance in decision.balances:
            self._balances[(balance.account_id, balance.journal_id, balance.currency)] = balance
        return posted, decision.warnings

    # Reads of the document, after its postings --------------------------------------------

    def entry(self, entry_id: UUID) -> Entry | None:
        """The entry, from the dry run's postings or the view."""
        return self._entries.get(entry_id) or self._read_model.entry(entry_id, self._view)

    def balances_of(self, owner_id: UUID) -> list[Balance]:
        """The owner's balances as the view has them, with the dry run's postings over them."""
        found = {(b.journal_id, b.currency): b
                 for b in self._read_model.balances_of(owner_id, self._view)}
        found.update({(journal, currency): balance
                      for (owner, journal, currency), balance in self._balances.items()
                      if owner == owner_id})
        return list(found.values())

    def account_entries(self, account_id: UUID) -> Sequence[Entry]:
        """The account's entries as the view has them, then the dry run's."""
        return _Chained(self._read_model.account_entries(account_id, self._view),
                        [e for e in self._entries.values()
                         if account_id == e.account_id or account_id in e.parent_account_ids])

    # LedgerView --------------------------------------------------------------------------

    def journal(self, journal_id: UUID) -> Journal | None:
        """The journal, from the read model's catalog."""
        return self._read_model.journal(journal_id)

    def account(self, account_id: UUID) -> Account | None:
        """The account, from the read model's catalog."""
        return self._read_model.account(account_id)

    def account_set(self, account_set_id: UUID) -> AccountSet | None:
        """The account set, from the read model's catalog."""
        return self._read_model.account_set(account_set_id)

    def parent_sets(self, account_id: UUID, journal_id: UUID) -> tuple[UUID, ...]:
        """The account's sets in the journal, from the read model's catalog."""
        return self._read_model.catalog.parent_sets(account_id, journal_id)

    def tran_code(self, code: str, version: int | None) -> TranCode | None:
        """The tran code version, from the read model's catalog."""
        return self._read_model.tran_code(code, version)

    def limits_for(self, account_id: UUID) -> Sequence[VelocityLimit]:
        """The account's velocity limits, from the read model's catalog."""
        return self._read_model.catalog.limits_for(account_id)

    def balance(self, account_id: UUID, journal_id: UUID, currency: str) -> Balance | None:
        """The balance after the dry run's postings, else as the view has it."""
        found = self._balances.get((account_id, journal_id, currency))
        if found is not None:
            return found
        return self._read_model.balance(account_id, journal_id, currency, self._view)

    def posted(self, transaction_id: UUID) -> PostedTransaction | None:
        """The transaction as the dry run left it, else as the view has it."""
        found = self._transactions.get(transaction_id)
        if found is not None:
            return found
        stored = self._read_model.transaction(transaction_id, self._view)
        return None if stored is None else stored.posted

    def owns(self, account_id: UUID) -> bool:
        """Every account and set: a dry run folds every balance its postings touch."""
        return True

    def prefetch(self, transaction_ids: Sequence[UUID],
                 balance_keys: Sequence[BalanceKey]) -> None:
        """Nothing to read ahead: the read model is in memory."""


class _Chained(Sequence[Entry]):
    """Two sequences of entries read as one, without copying the first."""

    def __init__(self, first: Sequence[Entry], then: list[Entry]) -> None:
        self._first = first
        self._then = then

    def __len__(self) -> int:
        """How many entries in both."""
        return len(self._first) + len(self._then)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        """One entry, or a slice of them."""
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        split = len(self._first)
        return self._first[index] if index < split else self._then[index - split]


class DryRunDirective(SchemaExtension):
    """Marks a ``@dryRun`` mutation's request (``RequestContext.dry_run``), and refuses the
    whole document before anything runs when it holds a mutation a dry run does not
    decide."""

    def on_execute(self) -> Iterator[None]:
        """Mark the request, or refuse it, when its operation is a mutation under
        ``@dryRun``."""
        execution = self.execution_context
        document = execution.graphql_document
        operation = None if document is None else get_operation_ast(document,
                                                                     execution.operation_name)
        if operation is not None and operation.operation is OperationType.MUTATION and any(
                d.name.value == "dryRun" for d in operation.directives or ()):
            assert document is not None
            fragments = {d.name.value: d for d in document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            refused = sorted(set(_root_fields(operation.selection_set, fragments))
                             - DRY_RUN_FIELDS)
            if refused:
                execution.result = GraphQLExecutionResult(data=None, errors=[ApiError(
                    DRY_RUN_NOT_SUPPORTED,
                    f"{', '.join(refused)} cannot be decided in a @dryRun document: only "
                    "postTransaction and voidTransaction are; nothing was run")])
            else:
                execution.context.dry_run = True
        yield


def _root_fields(selections: SelectionSetNode,
                 fragments: dict[str, FragmentDefinitionNode]) -> Iterator[str]:
    """The names of the root fields a selection set asks for, through its fragments."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:  # an unknown fragment fails validation
                yield from _root_fields(fragment.selection_set, fragments)
