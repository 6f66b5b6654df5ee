"""Which account keys a command: the owner whose partition decides it and keeps its id.

A posting's idempotency key lives on its owner's partition, so the owner must be the same
every time the same posting is sent. It is therefore computed from the posting alone (the
tran code version and the params), never from what the catalog holds at that moment:

1. expand the tran code with ``ledger_core`` (params bound, vars, entry conditions);
2. the owner is the value of the first param declared ``UUID`` that names an account one of
   the entries is written to (the tutorial's ``account`` param: the customer's account);
3. with no such param, the account of the first entry written;
4. when the expansion fails, the processor will reject the posting for the same reason; the
   command is then keyed by its transaction id, so a re-send still reaches the same
   partition.

One exception reads the catalog: when an entry rolls up into a set that a REJECT velocity
control bounds, the set keys the posting, because only the set's partition can judge it
(docs/decisions/0012-account-sets.md). A re-send after that control is attached or
detached may so reach another partition; the transaction id registry then answers it
``transaction_id_duplicate``, so nothing posts twice.

A void is keyed by the owner of the posting it voids: an account of one of its entries that
the partition which decided the posting owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from uuid import UUID

from connectors.graphql_api.read_model import StoredTransaction
from ledger_core import Enforcement, ParamType, Rejection, TranCode, compile_tran_code
from ledger_core.catalog import Catalog
from ledger_core.expansion import bind_params, expand
from streams.partitioning import owner_partition

__all__ = ["posting_owner", "void_owner"]


def posting_owner(tran_code: TranCode, params: Mapping[str, object], transaction_id: UUID,
                  today: date, catalog: Catalog | None = None) -> UUID:
    """The account (or controlled set) that keys a posting of ``params`` through this tran
    code version."""
    compiled = compile_tran_code(tran_code)
    bound = bind_params(compiled, params, transaction_id)
    if isinstance(bound, Rejection):
        return transaction_id
    expanded = expand(compiled, bound, transaction_id, today)
    if isinstance(expanded, Rejection):
        return transaction_id
    header, drafts = expanded
    written = [draft.account_id for draft in drafts]
    if catalog is not None:
        for account_id in written:
            for set_id in catalog.parent_sets(account_id, header.journal_id):
                if any(limit.enforcement is Enforcement.REJECT
                       for limit in catalog.limits_for(set_id)):
                    return set_id
    for param in tran_code.params:
        value = bound.get(param.name)
        if param.type is ParamType.UUID and value is not None and UUID(str(value)) in written:
            return UUID(str(value))
    return written[0] if written else transaction_id


def void_owner(original: StoredTransaction, partitions: int) -> UUID | None:
    """The account that keys a void of ``original``: one its deciding partition owns."""
    for entry in original.posted.entries:
        if owner_partition(entry.account_id, partitions) == original.partition:
            return entry.account_id
    return None
