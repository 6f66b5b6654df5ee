"""Account sets: named groups of accounts and other sets that roll up their balances.

A set belongs to one journal. Its members are accounts and other sets of the same journal,
and membership forms a directed graph without cycles: an account may sit in many sets, a
set in many parents. A set's balance, per currency and with all three layers, is the fold
of every entry posted in its journal to its member accounts and, recursively, to the
members of its member sets.

Each entry records, at the moment it is posted, the sets it rolls up into
(``Entry.parent_account_ids``); a set's balance is exactly the fold of the entries that name
it. Membership is therefore forward-looking: an account added to a set brings the entries
posted after it joined, not its earlier balance, and one removed stops rolling up from then
on. A deleted set is LOCKED: it takes no new members and no new roll-ups (only the voids
of entries that rolled up into it before, which take back exactly that), and sets above it
no longer reach its members through it. Its balance so far stays readable.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from ledger_core.accounts import AccountConfig
from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import Code, Description, JsonObject, Name
from ledger_core.enums import Direction, Status
from ledger_core.journals import DEFAULT_JOURNAL_ID

__all__ = ["AccountSet", "AccountSetMember", "MemberType", "generated_set_code"]


class AccountSet(LedgerModel):
    """A set of accounts and sets in one journal; its normal balance type says how its
    normal balance is read from the debits and credits it rolls up."""

    account_set_id: UUID
    journal_id: UUID = DEFAULT_JOURNAL_ID
    code: Code
    name: Name
    description: Description = ""
    normal_balance_type: Direction = Direction.CREDIT
    status: Status = Status.ACTIVE
    metadata: JsonObject | None = None
    # The same switches as an account's (``enable_concurrent_posting``, stored).
    config: AccountConfig = AccountConfig()


class MemberType(StrEnum):
    """What a member of a set is."""

    ACCOUNT = "ACCOUNT"
    ACCOUNT_SET = "ACCOUNT_SET"


class AccountSetMember(LedgerModel):
    """One member of one set; ``removed`` is the record that ends the membership."""

    account_set_id: UUID
    member_id: UUID
    member_type: MemberType
    removed: bool = False


def generated_set_code(account_set_id: UUID) -> str:
    """The code a set gets when it is created without one (Twisp generates one too)."""
    return f"SET_{account_set_id.hex.upper()}"
