"""The catalog (journals, accounts, account sets and their members, tran code versions,
limits, velocity controls, cards, ISO 8583 configurations) and the rules for changing it.

Catalog changes are decided one at a time, in order (the runtime serialises them through one
partition), which is what keeps account codes, tran codes, and cards' PAN hashes and tokens
unique. A create that repeats an existing entity exactly is accepted without a new version,
so a client may re-send a create after a timeout; a create that conflicts is rejected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from ledger_core.account_sets import (
    AccountSet,
    AccountSetMember,
    MemberType,
    generated_set_code,
)
from ledger_core.accounts import Account
from ledger_core.bounded_fields import bound_code
from ledger_core.calculations import (
    Calculation,
    CalculationAttachment,
    CalculationScope,
    compiled,
)
from ledger_core.cards import Card
from ledger_core.decisions import Rejected
from ledger_core.enums import Direction, Layer, Status
from ledger_core.expansion import compile_tran_code
from ledger_core.expression_cost import COMPREHENSION_DEPTH_MAX, comprehension_depth
from ledger_core.expressions import FailingExpression, compile_expression
from ledger_core.input_bounds import JSON_SIZE_MAX, json_value_problem, shown
from ledger_core.iso8583_configs import Iso8583Config, time_zone_problem
from ledger_core.journals import DEFAULT_JOURNAL, Journal
from ledger_core.limits import VelocityLimit
from ledger_core.money import currency_exponent
from ledger_core.rejections import Rejection, RejectionCode
from ledger_core.tran_codes import TranCode
from ledger_core.velocity_controls import (
    CONDITION_ROOTS,
    ControlAttachment,
    ControlLimit,
    ResolvedLimit,
    VelocityControl,
    resolve_attachment,
    shape_problem,
)

__all__ = ["Catalog", "CatalogEntity", "CatalogKind", "catalog_input_refusal", "decide_catalog"]

_Entity = TypeVar("_Entity", Calculation, ControlLimit, VelocityControl)

CatalogEntity = (Journal | Account | TranCode | VelocityLimit | Card | Iso8583Config
                 | AccountSet | AccountSetMember | Calculation | CalculationAttachment
                 | ControlLimit | VelocityControl | ControlAttachment)


class CatalogKind(StrEnum):
    """The catalog changes the ledger accepts."""

    CREATE_JOURNAL = "CREATE_JOURNAL"
    CREATE_ACCOUNT = "CREATE_ACCOUNT"
    UPDATE_ACCOUNT = "UPDATE_ACCOUNT"
    CREATE_TRAN_CODE = "CREATE_TRAN_CODE"
    UPDATE_TRAN_CODE = "UPDATE_TRAN_CODE"
    CREATE_LIMIT = "CREATE_LIMIT"
    CREATE_CARD = "CREATE_CARD"
    UPDATE_CARD = "UPDATE_CARD"
    CREATE_ISO8583_CONFIG = "CREATE_ISO8583_CONFIG"
    UPDATE_ISO8583_CONFIG = "UPDATE_ISO8583_CONFIG"
    DELETE_ISO8583_CONFIG = "DELETE_ISO8583_CONFIG"
    CREATE_ACCOUNT_SET = "CREATE_ACCOUNT_SET"
    UPDATE_ACCOUNT_SET = "UPDATE_ACCOUNT_SET"
    DELETE_ACCOUNT_SET = "DELETE_ACCOUNT_SET"
    ADD_TO_ACCOUNT_SET = "ADD_TO_ACCOUNT_SET"
    REMOVE_FROM_ACCOUNT_SET = "REMOVE_FROM_ACCOUNT_SET"
    CREATE_CALCULATION = "CREATE_CALCULATION"
    DELETE_CALCULATION = "DELETE_CALCULATION"
    ATTACH_CALCULATION = "ATTACH_CALCULATION"
    DETACH_CALCULATION = "DETACH_CALCULATION"
    CREATE_VELOCITY_LIMIT = "CREATE_VELOCITY_LIMIT"
    UPDATE_VELOCITY_LIMIT = "UPDATE_VELOCITY_LIMIT"
    DELETE_VELOCITY_LIMIT = "DELETE_VELOCITY_LIMIT"
    CREATE_VELOCITY_CONTROL = "CREATE_VELOCITY_CONTROL"
    UPDATE_VELOCITY_CONTROL = "UPDATE_VELOCITY_CONTROL"
    DELETE_VELOCITY_CONTROL = "DELETE_VELOCITY_CONTROL"
    ATTACH_VELOCITY_CONTROL = "ATTACH_VELOCITY_CONTROL"
    DETACH_VELOCITY_CONTROL = "DETACH_VELOCITY_CONTROL"


class Catalog:
    """Every catalog entity in memory, newest version wins; the catalog part of a LedgerView."""

    def __init__(self) -> None:
        """Start with only the DEFAULT journal."""
        self.journals: dict[UUID, Journal] = {DEFAULT_JOURNAL.journal_id: DEFAULT_JOURNAL}
        self.accounts: dict[UUID, Account] = {}
        self.account_codes: dict[str, UUID] = {}
        self.tran_codes: dict[str, dict[int, TranCode]] = {}
        self.limits: dict[UUID, dict[UUID, VelocityLimit]] = {}
        self.cards: dict[UUID, Card] = {}
        self.card_pan_hashes: dict[str, UUID] = {}
        self.card_tokens: dict[str, UUID] = {}
        self.iso8583_configs: dict[UUID, Iso8583Config] = {}
        self.account_sets: dict[UUID, AccountSet] = {}
        self.account_set_codes: dict[str, UUID] = {}
        # The current members of each set, and the sets each account or set is in.
        self.set_members: dict[UUID, dict[UUID, AccountSetMember]] = {}
        self.member_of: dict[UUID, set[UUID]] = {}
        self._parents: dict[tuple[UUID, UUID], tuple[UUID, ...]] = {}
        self.calculations: dict[UUID, Calculation] = {}
        self.calculation_codes: dict[str, UUID] = {}
        # (calculation, account or set, journal) -> the attachment in force.
        self.attachments: dict[tuple[UUID, UUID, UUID], CalculationAttachment] = {}
        self.control_limits: dict[UUID, ControlLimit] = {}
        self.velocity_controls: dict[UUID, VelocityControl] = {}
        # account or set -> (control, journal) -> the attachment in force.
        self.control_attachments: dict[UUID, dict[tuple[UUID, UUID], ControlAttachment]] = {}
        self._resolved: dict[UUID, tuple[ResolvedLimit, ...]] = {}

    def copy(self) -> Catalog:
        """An independent copy, to decide changes on before they are committed."""
        clone = Catalog()
        clone.journals = dict(self.journals)
        clone.accounts = dict(self.accounts)
        clone.account_codes = dict(self.account_codes)
        clone.tran_codes = {code: dict(versions) for code, versions in self.tran_codes.items()}
        clone.limits = {account: dict(limits) for account, limits in self.limits.items()}
        clone.cards = dict(self.cards)
        clone.card_pan_hashes = dict(self.card_pan_hashes)
        clone.card_tokens = dict(self.card_tokens)
        clone.iso8583_configs = dict(self.iso8583_configs)
        clone.account_sets = dict(self.account_sets)
        clone.account_set_codes = dict(self.account_set_codes)
        clone.set_members = {set_id: dict(members)
                             for set_id, members in self.set_members.items()}
        clone.member_of = {member: set(sets) for member, sets in self.member_of.items()}
        clone.calculations = dict(self.calculations)
        clone.calculation_codes = dict(self.calculation_codes)
        clone.attachments = dict(self.attachments)
        clone.control_limits = dict(self.control_limits)
        clone.velocity_controls = dict(self.velocity_controls)
        clone.control_attachments = {owner: dict(attached)
                                     for owner, attached in self.control_attachments.items()}
        return clone

    def journal(self, journal_id: UUID) -> Journal | None:
        """The journal with this id, or None."""
        return self.journals.get(journal_id)

    def account(self, account_id: UUID) -> Account | None:
        """The account with this id, or None."""
        return self.accounts.get(account_id)

    def tran_code(self, code: str, version: int | None) -> TranCode | None:
        """The tran code ``code`` at ``version`` (its latest when None), or None."""
        versions = self.tran_codes.get(code)
        if not versions:
            return None
        return versions.get(max(versions) if version is None else version)

    def limits_for(self, account_id: UUID) -> Sequence[VelocityLimit]:
        """Every limit on the account or set: its own, and its attached controls' bounds."""
        own = tuple(self.limits.get(account_id, {}).values())
        if account_id not in self.control_attachments:
            return own
        return own + tuple(r.bound for r in self.resolved_limits(account_id)
                           if r.bound is not None)

    def resolved_limits(self, owner_id: UUID) -> tuple[ResolvedLimit, ...]:
        """The bounds the velocity controls attached to an account or set put on it."""
        found = self._resolved.get(owner_id)
        if found is None:
            owner = self.accounts.get(owner_id) or self.account_sets.get(owner_id)
            resolved: list[ResolvedLimit] = []
            for attachment in self.control_attachments.get(owner_id, {}).values():
                control = self.velocity_controls.get(attachment.velocity_control_id)
                if owner is None or control is None:
                    continue
                outcome = resolve_attachment(attachment, control, self.control_limits, owner)
                # The desk resolves every attachment before writing it; only a forged
                # record fails here, and it bounds nothing.
                if not isinstance(outcome, str):
                    resolved.extend(outcome)
            found = self._resolved[owner_id] = tuple(resolved)
        return found

    def card(self, card_id: UUID) -> Card | None:
        """The card with this id, or None."""
        return self.cards.get(card_id)

    def card_by_pan_hash(self, pan_hash: str) -> Card | None:
        """The card whose PAN has this hash (``ledger_core.cards.pan_hash``), or None."""
        card_id = self.card_pan_hashes.get(pan_hash)
        return None if card_id is None else self.cards[card_id]

    def card_by_token(self, card_token: str) -> Card | None:
        """The card the card processor calls ``card_token``, or None."""
        card_id = self.card_tokens.get(card_token)
        return None if card_id is None else self.cards[card_id]

    def iso8583_config(self, config_id: UUID) -> Iso8583Config | None:
        """The ISO 8583 configuration with this id (LOCKED once deleted), or None."""
        return self.iso8583_configs.get(config_id)

    def account_set(self, account_set_id: UUID) -> AccountSet | None:
        """The account set with this id (LOCKED once deleted), or None."""
        return self.account_sets.get(account_set_id)

    def parent_sets(self, account_id: UUID, journal_id: UUID) -> tuple[UUID, ...]:
        """Every ACTIVE set of ``journal_id`` that an entry on ``account_id`` rolls up
        into: the sets the account is in, the sets those are in, and so on; sorted."""
        key = (account_id, journal_id)
        found = self._parents.get(key)
        if found is None:
            found = tuple(sorted(s for s in self.ancestors(account_id)
                                 if self.account_sets[s].journal_id == journal_id))
            self._parents[key] = found
        return found

    def ancestors(self, member_id: UUID) -> set[UUID]:
        """Every ACTIVE set that reaches ``member_id`` through ACTIVE sets.

        A membership of a set the table does not hold is passed over: the desk never writes
        one, but a compacted topic may deliver a membership before its set's record, and a
        forged one must not stop postings to the account it names."""
        reached: set[UUID] = set()
        frontier = [member_id]
        while frontier:
            for parent in self.member_of.get(frontier.pop(), ()):
                found = self.account_sets.get(parent)
                if parent not in reached and found is not None \
                        and found.status is not Status.LOCKED:
                    reached.add(parent)
                    frontier.append(parent)
        return reached

    def put(self, entity: CatalogEntity) -> None:
        """Add or replace one entity; the indexes of account codes and of card hashes and
        tokens follow each entity's newest version."""
        if isinstance(entity, AccountSet | AccountSetMember):
            self._put_set_entity(entity)
        elif isinstance(entity, Calculation):
            replaced = self.calculations.get(entity.calculation_id)
            if replaced is not None:
                self.calculation_codes.pop(replaced.code, None)
            self.calculations[entity.calculation_id] = entity
            self.calculation_codes[entity.code] = entity.calculation_id
        elif isinstance(entity, CalculationAttachment):
            key = (entity.calculation_id, entity.account_id, entity.journal_id)
            if entity.detached:
                self.attachments.pop(key, None)
            else:
                self.attachments[key] = entity
        elif isinstance(entity, ControlLimit | VelocityControl | ControlAttachment):
            self._put_velocity_entity(entity)
        elif isinstance(entity, Journal):
            self.journals[entity.journal_id] = entity
        elif isinstance(entity, Account):
            previous = self.accounts.get(entity.account_id)
            if previous is not None:
                self.account_codes.pop(previous.code, None)
            self.accounts[entity.account_id] = entity
            self.account_codes[entity.code] = entity.account_id
        elif isinstance(entity, TranCode):
            self.tran_codes.setdefault(entity.code, {})[entity.version] = entity
        elif isinstance(entity, Card):
            self._put_card(entity)
        elif isinstance(entity, Iso8583Config):
            self.iso8583_configs[entity.config_id] = entity
        else:
            self.limits.setdefault(entity.account_id, {})[entity.limit_id] = entity

    def _put_velocity_entity(self, entity: ControlLimit | VelocityControl | ControlAttachment
                             ) -> None:
        self._resolved.clear()
        if isinstance(entity, ControlLimit):
            self.control_limits[entity.velocity_limit_id] = entity
        elif isinstance(entity, VelocityControl):
            self.velocity_controls[entity.velocity_control_id] = entity
        else:
            attached = self.control_attachments.setdefault(entity.account_id, {})
            key = (entity.velocity_control_id, entity.journal_id)
            if entity.detached:
                attached.pop(key, None)
                if not attached:
                    del self.control_attachments[entity.account_id]
            else:
                attached[key] = entity

    def _put_set_entity(self, entity: AccountSet | AccountSetMember) -> None:
        self._parents.clear()
        if isinstance(entity, AccountSet):
            previous = self.account_sets.get(entity.account_set_id)
            if previous is not None:
                self.account_set_codes.pop(previous.code, None)
            self.account_sets[entity.account_set_id] = entity
            self.account_set_codes[entity.code] = entity.account_set_id
            return
        members = self.set_members.setdefault(entity.account_set_id, {})
        if entity.removed:
            members.pop(entity.member_id, None)
            self.member_of.get(entity.member_id, set()).discard(entity.account_set_id)
        else:
            members[entity.member_id] = entity
            self.member_of.setdefault(entity.member_id, set()).add(entity.account_set_id)

    def _put_card(self, card: Card) -> None:
        previous = self.cards.get(card.card_id)
        if previous is not None:
            # Only an index entry that still names this card goes: a forged record may have
            # claimed another card's hash or token, and must not erase that card's entry.
            for index, value in ((self.card_pan_hashes, previous.pan_hash),
                                 (self.card_tokens, previous.card_token)):
                if value is not None and index.get(value) == card.card_id:
                    del index[value]
        self.cards[card.card_id] = card
        self.card_pan_hashes[card.pan_hash] = card.card_id
        if card.card_token is not None:
            self.card_tokens[card.card_token] = card.card_id


def decide_catalog(
    catalog: Catalog, kind: CatalogKind, body: Mapping[str, Any]
) -> CatalogEntity | Rejected:
    """Decide one catalog change against ``catalog``: the entity to write, or the rejection.

    ``body`` is the Twisp-shaped input document (camelCase or snake_case keys). A
    CREATE_ACCOUNT body with ``upsert: true`` answers with the existing account when its id
    is taken.
    """
    upsert = kind is CatalogKind.CREATE_ACCOUNT and body.get("upsert") is True
    created = _validated(kind, body)
    if isinstance(created, Rejected):
        return created
    try:
        if isinstance(created, Journal):
            return _create_journal(catalog, created)
        if isinstance(created, Account):
            existing = catalog.account(created.account_id)
            # Twisp's upsert: an account created already is answered as it is.
            if upsert and existing is not None:
                return existing
            return _create_account(catalog, created)
        if isinstance(created, TranCode):
            return _create_tran_code(catalog, created)
        if isinstance(created, VelocityLimit):
            return _create_limit(catalog, created)
        if isinstance(created, Card):
            return _create_card(catalog, created)
        if isinstance(created, Iso8583Config):
            return _create_iso8583_config(catalog, created)
        if isinstance(created, AccountSet):
            return _create_account_set(catalog, created)
        if isinstance(created, Calculation):
            return _create_calculation(catalog, created)
        if isinstance(created, CalculationAttachment):
            return _attachment(catalog, kind, created)
        if kind is CatalogKind.DELETE_CALCULATION:
            return _delete_calculation(catalog, body)
        if kind in _VELOCITY_KINDS:
            return _decide_velocity(catalog, kind, body, created)
        if isinstance(created, AccountSetMember):
            if kind is CatalogKind.ADD_TO_ACCOUNT_SET:
                return _add_to_account_set(catalog, created)
            return _remove_from_account_set(catalog, created)
        if kind is CatalogKind.UPDATE_ACCOUNT_SET:
            return _update_account_set(catalog, body)
        if kind is CatalogKind.DELETE_ACCOUNT_SET:
            return _delete_account_set(catalog, body)
        if kind is CatalogKind.UPDATE_ACCOUNT:
            return _update_account(catalog, body)
        if kind is CatalogKind.UPDATE_CARD:
            return _update_card(catalog, body)
        if kind is CatalogKind.UPDATE_ISO8583_CONFIG:
            return _update_iso8583_config(catalog, body)
        if kind is CatalogKind.DELETE_ISO8583_CONFIG:
            return _delete_iso8583_config(catalog, body)
        return _update_tran_code(catalog, body)
    except ValidationError as error:
        return _invalid(kind, error)


def catalog_input_refusal(kind: CatalogKind, body: Mapping[str, Any]) -> Rejected | None:
    """What ``decide_catalog`` refuses in ``body`` before it reads the catalog: a body past
    the input bounds, and a create that does not validate. Clients check it before sending."""
    created = _validated(kind, body)
    return created if isinstance(created, Rejected) else None


_CREATED: dict[CatalogKind, type[CatalogEntity]] = {
    CatalogKind.CREATE_JOURNAL: Journal, CatalogKind.CREATE_ACCOUNT: Account,
    CatalogKind.CREATE_TRAN_CODE: TranCode, CatalogKind.CREATE_LIMIT: VelocityLimit,
    CatalogKind.CREATE_CARD: Card, CatalogKind.CREATE_ISO8583_CONFIG: Iso8583Config,
    CatalogKind.CREATE_ACCOUNT_SET: AccountSet, CatalogKind.ADD_TO_ACCOUNT_SET: AccountSetMember,
    CatalogKind.REMOVE_FROM_ACCOUNT_SET: AccountSetMember,
    CatalogKind.CREATE_CALCULATION: Calculation,
    CatalogKind.ATTACH_CALCULATION: CalculationAttachment,
    CatalogKind.DETACH_CALCULATION: CalculationAttachment,
    CatalogKind.CREATE_VELOCITY_LIMIT: ControlLimit,
    CatalogKind.CREATE_VELOCITY_CONTROL: VelocityControl,
    CatalogKind.ATTACH_VELOCITY_CONTROL: ControlAttachment,
    CatalogKind.DETACH_VELOCITY_CONTROL: ControlAttachment,
}
# A create makes version 1, whatever the body says; later versions come from changes.
_VERSIONED = frozenset({CatalogKind.CREATE_TRAN_CODE, CatalogKind.CREATE_ISO8583_CONFIG})

# A card body's values are not echoed in a rejection: a PAN typed into the wrong field
# (``panHash``, or an unknown ``pan``) must not come back in a result, a log or a webhook.
_SECRET_KINDS = frozenset({CatalogKind.CREATE_CARD, CatalogKind.UPDATE_CARD})


def _validated(kind: CatalogKind, body: Mapping[str, Any]) -> CatalogEntity | Rejected | None:
    """The entity a create names (None for an update), or why the body is refused.

    The body as a whole is bounded in depth and size; each field's length is its own model's
    rule, which names it more precisely (a CEL source is ``cel_expression_too_complex``)."""
    problem = json_value_problem(body, text_length_max=JSON_SIZE_MAX)
    if problem is not None:
        return _reject(problem.code, f"{kind.value} input is invalid: {problem.path}: "
                       f"{problem.reason}", problem.path, None)
    model = _CREATED.get(kind)
    if model is None:
        return None
    fields = {**body, "version": 1} if kind in _VERSIONED else body
    if kind is CatalogKind.CREATE_ACCOUNT and "upsert" in fields:
        # An instruction to the create, not a field of the account.
        fields = {key: value for key, value in fields.items() if key != "upsert"}
    if kind is CatalogKind.CREATE_ACCOUNT_SET and body.get("code") is None:
        fields = {**fields, "code": _generated_code(body)}
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        return _invalid(kind, error)


def _invalid(kind: CatalogKind, error: ValidationError) -> Rejected:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return _reject(
        bound_code(first) or RejectionCode.CATALOG_COMMAND_INVALID,
        f"{kind.value} input is invalid: {field}: {first['msg']}",
        field,
        None if kind in _SECRET_KINDS else first.get("input"),
    )


def _create_journal(catalog: Catalog, journal: Journal) -> CatalogEntity | Rejected:
    existing = catalog.journal(journal.journal_id)
    if existing is not None and existing != journal:
        return _reject(
            RejectionCode.JOURNAL_ID_DUPLICATE,
            f"journalId {journal.journal_id} already names another journal",
            "journalId",
            journal.journal_id,
        )
    return journal


def _create_account(catalog: Catalog, account: Account) -> CatalogEntity | Rejected:
    existing = catalog.account(account.account_id)
    if (existing is not None and existing != account) or catalog.account_set(account.account_id):
        return _reject(
            RejectionCode.ACCOUNT_ID_DUPLICATE,
            f"accountId {account.account_id} already names another "
            f"{'account' if existing is not None else 'account set'}",
            "accountId",
            account.account_id,
        )
    return _unique_code(catalog, account)


def _unique_code(catalog: Catalog, account: Account) -> CatalogEntity | Rejected:
    holder = catalog.account_codes.get(account.code)
    if holder is not None and holder != account.account_id:
        return _reject(
            RejectionCode.ACCOUNT_CODE_DUPLICATE,
            f"account code {account.code!r} is already used by account {holder}",
            "code",
            account.code,
        )
    return account


_ACCOUNT_UPDATABLE = {"name", "description", "status", "metadata", "external_id", "code", "config"}


def _update_account(catalog: Catalog, body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    raw_id = body.get("accountId", body.get("account_id"))
    try:
        account_id = UUID(str(raw_id))
    except ValueError:
        return _reject(
            RejectionCode.CATALOG_COMMAND_INVALID,
            f"accountId {raw_id!r} is not a UUID",
            "accountId",
            raw_id,
        )
    current = catalog.account(account_id)
    if current is None:
        return _reject(
            RejectionCode.ACCOUNT_NOT_FOUND,
            f"account {account_id} does not exist",
            "accountId",
            account_id,
        )
    changes = {_snake(key): value for key, value in body.items() if _snake(key) != "account_id"}
    refused = sorted(set(changes) - _ACCOUNT_UPDATABLE)
    if refused:
        return _reject(
            RejectionCode.CATALOG_COMMAND_INVALID,
            f"{refused[0]} of an account cannot be updated",
            refused[0],
            changes[refused[0]],
        )
    updated = Account.model_validate({**current.model_dump(), **changes})
    return _unique_code(catalog, updated)


def _create_tran_code(catalog: Catalog, tran_code: TranCode) -> CatalogEntity | Rejected:
    existing = catalog.tran_code(tran_code.code, None)
    if existing is not None:
        if existing.model_copy(update={"version": 1}) == tran_code:
            return existing
        return _reject(
            RejectionCode.TRAN_CODE_DUPLICATE,
            f"tran code {tran_code.code!r} already exists (version {existing.version});"
            " update it to make a new version",
            "code",
            tran_code.code,
        )
    return _compiles(tran_code)


def _update_tran_code(catalog: Catalog, body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    code = body.get("code")
    current = catalog.tran_code(str(code), None) if code is not None else None
    if current is None:
        return _reject(
            RejectionCode.TRAN_CODE_NOT_FOUND, f"tran code {code!r} does not exist", "code", code
        )
    changes = {
        _snake(key): value
        for key, value in body.items()
        if _snake(key) not in ("code", "tran_code_id", "version")
    }
    updated = TranCode.model_validate(
        {**current.model_dump(), **changes, "version": current.version + 1}
    )
    return _compiles(updated)


def _compiles(tran_code: TranCode) -> CatalogEntity | Rejected:
    for path, expression in compile_tran_code(tran_code).expressions():
        if isinstance(expression, FailingExpression):
            return _reject(
                RejectionCode.CEL_EVALUATION_FAILED,
                f"{path} of tran code {tran_code.code!r}: {expression.error}",
                path,
                expression.source,
            )
        costly = _too_costly(path, expression.source)
        if costly is not None:
            return costly
    return tran_code


def _too_costly(path: str, source: str) -> Rejected | None:
    depth = comprehension_depth(source)
    if depth <= COMPREHENSION_DEPTH_MAX:
        return None
    return _reject(RejectionCode.CEL_EXPRESSION_TOO_COSTLY,
                   f"{path} nests {depth} comprehensions (map, filter, all, exists); at most "
                   f"{COMPREHENSION_DEPTH_MAX} may nest, so one evaluation stays bounded",
                   path, source)


def _create_limit(catalog: Catalog, limit: VelocityLimit) -> CatalogEntity | Rejected:
    if limit.condition is not None:
        costly = _too_costly("condition", limit.condition)
        if costly is not None:
            return costly
    if catalog.account(limit.account_id) is None:
        return _reject(
            RejectionCode.ACCOUNT_NOT_FOUND,
            f"limit {limit.limit_id} names account {limit.account_id}, which does not exist",
            "accountId",
            limit.account_id,
        )
    existing = catalog.limits.get(limit.account_id, {}).get(limit.limit_id)
    if existing is not None and existing != limit:
        return _reject(
            RejectionCode.LIMIT_ID_DUPLICATE,
            f"limitId {limit.limit_id} already names another limit",
            "limitId",
            limit.limit_id,
        )
    return limit


def _create_card(catalog: Catalog, card: Card) -> CatalogEntity | Rejected:
    if catalog.account(card.account_id) is None:
        return _reject(
            RejectionCode.ACCOUNT_NOT_FOUND,
            f"card {card.card_id} names account {card.account_id}, which does not exist",
            "accountId",
            card.account_id,
        )
    existing = catalog.card(card.card_id)
    if existing is not None and existing != card:
        return _reject(
            RejectionCode.CARD_ID_DUPLICATE,
            f"cardId {card.card_id} already names another card",
            "cardId",
            card.card_id,
        )
    return _unique_card(catalog, card)


def _unique_card(catalog: Catalog, card: Card) -> CatalogEntity | Rejected:
    """The card, unless another card holds its PAN hash or its token. The message names the
    other card by id and last four, never by the hash: the hash stays in the catalog."""
    holder = catalog.card_by_pan_hash(card.pan_hash)
    if holder is not None and holder.card_id != card.card_id:
        return _reject(
            RejectionCode.CARD_PAN_DUPLICATE,
            f"the PAN is already the PAN of card {holder.card_id} "
            f"(last four {holder.last_four})",
            "panHash",
            None,
        )
    if card.card_token is not None:
        holder = catalog.card_by_token(card.card_token)
        if holder is not None and holder.card_id != card.card_id:
            return _reject(
                RejectionCode.CARD_TOKEN_DUPLICATE,
                f"card token {card.card_token!r} is already the token of card "
                f"{holder.card_id}",
                "cardToken",
                card.card_token,
            )
    return card


# A card's PAN, and so its hash and last four, are the card itself: a new PAN is a new card.
_CARD_UPDATABLE = {"status", "metadata", "card_token"}


def _update_card(catalog: Catalog, body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    raw_id = body.get("cardId", body.get("card_id"))
    try:
        card_id = UUID(str(raw_id))
    except ValueError:
        return _reject(
            RejectionCode.CATALOG_COMMAND_INVALID,
            "cardId is not a UUID",
            "cardId",
            None,
        )
    current = catalog.card(card_id)
    if current is None:
        return _reject(
            RejectionCode.CARD_NOT_FOUND, f"card {card_id} does not exist", "cardId", card_id
        )
    changes = {_snake(key): value for key, value in body.items() if _snake(key) != "card_id"}
    refused = sorted(set(changes) - _CARD_UPDATABLE)
    if refused:
        return _reject(
            RejectionCode.CATALOG_COMMAND_INVALID,
            f"{refused[0]} of a card cannot be updated",
            refused[0],
            None,
        )
    updated = Card.model_validate({**current.model_dump(), **changes})
    return _unique_card(catalog, updated)


def _create_iso8583_config(catalog: Catalog,
                           config: Iso8583Config) -> CatalogEntity | Rejected:
    if catalog.journal(config.journal_id) is None:
        return _reject(
            RejectionCode.JOURNAL_NOT_FOUND,
            f"ISO 8583 config {config.config_id} names journal {config.journal_id}, which "
            "does not exist",
            "journalId",
            str(config.journal_id),
        )
    if catalog.account(config.settlement_account_id) is None:
        return _reject(
            RejectionCode.ACCOUNT_NOT_FOUND,
            f"ISO 8583 config {config.config_id} names settlement account "
            f"{config.settlement_account_id}, which does not exist",
            "settlementAccountId",
            str(config.settlement_account_id),
        )
    existing = catalog.iso8583_config(config.config_id)
    if existing is not None:
        if existing.model_copy(update={"version": 1}) == config:
            return existing
        return _reject(
            RejectionCode.ISO8583_CONFIG_ID_DUPLICATE,
            f"configId {config.config_id} already names another ISO 8583 config (version "
            f"{existing.version}); update it instead",
            "configId",
            str(config.config_id),
        )
    return _known_zone(config)


def _known_zone(config: Iso8583Config) -> CatalogEntity | Rejected:
    problem = time_zone_problem(config.time_zone)
    if problem is not None:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID, problem, "timeZone",
                       config.time_zone)
    return config


# Twisp's ISO8583UpdateConfigInput: the journal and the settlement account are the config's
# identity in the books (what was booked under it), so they do not change.
_ISO8583_CONFIG_UPDATABLE = {"time_zone", "open_to_buy", "processor", "processor_spec",
                             "description"}


def _current_iso8583_config(catalog: Catalog,
                            body: Mapping[str, Any]) -> Iso8583Config | Rejected:
    """The configuration a change names, unless it is unknown or deleted."""
    raw_id = body.get("configId", body.get("config_id"))
    try:
        config_id = UUID(str(raw_id))
    except ValueError:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID, f"configId {raw_id!r} is not a "
                       "UUID", "configId", raw_id)
    current = catalog.iso8583_config(config_id)
    if current is None:
        return _reject(RejectionCode.ISO8583_CONFIG_NOT_FOUND,
                       f"ISO 8583 config {config_id} does not exist", "configId", str(config_id))
    return current


def _update_iso8583_config(catalog: Catalog,
                           body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    current = _current_iso8583_config(catalog, body)
    if isinstance(current, Rejected):
        return current
    if current.status is Status.LOCKED:
        return _reject(RejectionCode.ISO8583_CONFIG_LOCKED,
                       f"ISO 8583 config {current.config_id} was deleted; create a new one",
                       "configId", str(current.config_id))
    # Keyed by the wire names, so that a refusal names the field as the client sent it.
    changes = {to_camel(_snake(key)): value for key, value in body.items()
               if _snake(key) != "config_id"}
    refused = sorted(key for key in changes if _snake(key) not in _ISO8583_CONFIG_UPDATABLE)
    if refused:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"{refused[0]} of an ISO 8583 config cannot be updated", refused[0],
                       changes[refused[0]])
    updated = Iso8583Config.model_validate({**current.model_dump(by_alias=True), **changes})
    # A re-sent update changes nothing and so makes no new version.
    if updated == current:
        return current
    return _known_zone(updated.model_copy(update={"version": current.version + 1}))


def _delete_iso8583_config(catalog: Catalog,
                           body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    """A soft delete: the configuration stays, LOCKED, under a new version."""
    refused = sorted(_snake(key) for key in body if _snake(key) != "config_id")
    if refused:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"a delete names only the configId, not {refused[0]}", refused[0], None)
    current = _current_iso8583_config(catalog, body)
    # Deleting a deleted configuration again (a re-sent delete) changes nothing.
    if isinstance(current, Rejected) or current.status is Status.LOCKED:
        return current
    return current.model_copy(update={"status": Status.LOCKED, "version": current.version + 1})


def _generated_code(body: Mapping[str, Any]) -> str | None:
    raw_id = body.get("accountSetId", body.get("account_set_id"))
    try:
        return generated_set_code(UUID(str(raw_id)))
    except ValueError:
        return None  # the id itself is refused by validation, which names it


def _create_account_set(catalog: Catalog, account_set: AccountSet) -> CatalogEntity | Rejected:
    if account_set.status is not Status.ACTIVE:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       "an account set is created ACTIVE; delete it to lock it", "status",
                       account_set.status.value)
    set_id = account_set.account_set_id
    existing = catalog.account_set(set_id)
    if (existing is not None and existing != account_set) or catalog.account(set_id):
        return _reject(RejectionCode.ACCOUNT_SET_ID_DUPLICATE,
                       f"accountSetId {set_id} already names another "
                       f"{'account set' if existing is not None else 'account'}",
                       "accountSetId", set_id)
    if catalog.journal(account_set.journal_id) is None:
        return _reject(RejectionCode.JOURNAL_NOT_FOUND,
                       f"account set {set_id} names journal {account_set.journal_id}, "
                       "which does not exist", "journalId", account_set.journal_id)
    return _unique_set_code(catalog, account_set)


def _unique_set_code(catalog: Catalog, account_set: AccountSet) -> CatalogEntity | Rejected:
    holder = catalog.account_set_codes.get(account_set.code)
    if holder is not None and holder != account_set.account_set_id:
        return _reject(RejectionCode.ACCOUNT_SET_CODE_DUPLICATE,
                       f"account set code {account_set.code!r} is already used by set {holder}",
                       "code", account_set.code)
    return account_set


_ACCOUNT_SET_UPDATABLE = {"name", "description", "metadata", "code", "config"}


def _current_account_set(catalog: Catalog, raw_id: object,
                         field: str = "accountSetId") -> AccountSet | Rejected:
    try:
        set_id = UUID(str(raw_id))
    except ValueError:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID, f"{field} {raw_id!r} is not a UUID",
                       field, raw_id)
    current = catalog.account_set(set_id)
    if current is None:
        return _reject(RejectionCode.ACCOUNT_SET_NOT_FOUND,
                       f"account set {set_id} does not exist", field, set_id)
    return current


def _update_account_set(catalog: Catalog, body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    current = _current_account_set(catalog, body.get("accountSetId", body.get("account_set_id")))
    if isinstance(current, Rejected):
        return current
    changes = {_snake(key): value for key, value in body.items()
               if _snake(key) != "account_set_id"}
    refused = sorted(set(changes) - _ACCOUNT_SET_UPDATABLE)
    if refused:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"{refused[0]} of an account set cannot be updated", refused[0],
                       changes[refused[0]])
    if current.status is Status.LOCKED:
        return _set_locked(current)
    updated = AccountSet.model_validate({**current.model_dump(), **changes})
    return _unique_set_code(catalog, updated)


def _delete_account_set(catalog: Catalog, body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    """A soft delete: the set stays, LOCKED, with the balance it has rolled up so far."""
    refused = sorted(_snake(key) for key in body if _snake(key) != "account_set_id")
    if refused:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"a delete names only the accountSetId, not {refused[0]}", refused[0],
                       None)
    current = _current_account_set(catalog, body.get("accountSetId", body.get("account_set_id")))
    if isinstance(current, Rejected):
        return current
    return current.model_copy(update={"status": Status.LOCKED})


def _set_locked(account_set: AccountSet) -> Rejected:
    return _reject(RejectionCode.ACCOUNT_SET_LOCKED,
                   f"account set {account_set.account_set_id} was deleted", "accountSetId",
                   account_set.account_set_id)


def _add_to_account_set(catalog: Catalog, member: AccountSetMember) -> CatalogEntity | Rejected:
    if member.removed:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       "an added member cannot be marked removed", "removed", True)
    target = _current_account_set(catalog, member.account_set_id)
    if isinstance(target, Rejected):
        return target
    if target.status is Status.LOCKED:
        return _set_locked(target)
    existing = catalog.set_members.get(target.account_set_id, {}).get(member.member_id)
    if existing is not None:
        if existing.member_type is member.member_type:
            return existing
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"{member.member_id} is already a member, as {existing.member_type}",
                       "memberType", member.member_type.value)
    if member.member_type is MemberType.ACCOUNT:
        if catalog.account(member.member_id) is None:
            return _reject(RejectionCode.ACCOUNT_NOT_FOUND,
                           f"account {member.member_id} does not exist", "memberId",
                           member.member_id)
        return member
    inner = _current_account_set(catalog, member.member_id, "memberId")
    if isinstance(inner, Rejected):
        return inner
    if inner.status is Status.LOCKED:
        return _set_locked(inner)
    if inner.journal_id != target.journal_id:
        return _reject(RejectionCode.ACCOUNT_SET_JOURNAL_MISMATCH,
                       f"set {inner.account_set_id} is in journal {inner.journal_id} and set "
                       f"{target.account_set_id} in journal {target.journal_id}; sets hold "
                       "only sets of their own journal", "memberId", inner.account_set_id)
    if inner.account_set_id == target.account_set_id or (
            inner.account_set_id in catalog.ancestors(target.account_set_id)):
        return _reject(RejectionCode.ACCOUNT_SET_CYCLE,
                       f"set {inner.account_set_id} already contains set "
                       f"{target.account_set_id}, or is it; membership cannot form a cycle",
                       "memberId", inner.account_set_id)
    return member


def _remove_from_account_set(catalog: Catalog,
                             member: AccountSetMember) -> CatalogEntity | Rejected:
    existing = catalog.set_members.get(member.account_set_id, {}).get(member.member_id)
    if existing is None:
        target = _current_account_set(catalog, member.account_set_id)
        if isinstance(target, Rejected):
            return target
        return _reject(RejectionCode.ACCOUNT_SET_MEMBER_NOT_FOUND,
                       f"{member.member_id} is not a member of set {member.account_set_id}",
                       "memberId", member.member_id)
    return existing.model_copy(update={"removed": True})


def _create_calculation(catalog: Catalog, calculation: Calculation) -> CatalogEntity | Rejected:
    known = _fresh(calculation, catalog.calculations.get(calculation.calculation_id),
                   calculation.status, "calculationId", calculation.calculation_id,
                   "calculation", RejectionCode.CALCULATION_ID_DUPLICATE)
    if known is not None:
        return known
    holder = catalog.calculation_codes.get(calculation.code)
    if holder is not None:
        return _reject(RejectionCode.CALCULATION_CODE_DUPLICATE,
                       f"calculation code {calculation.code!r} is already used by {holder}",
                       "code", calculation.code)
    sources = [(f"dimensions[{i}].value", d.value)
               for i, d in enumerate(calculation.dimensions)]
    if calculation.condition is not None:
        sources.append(("condition", calculation.condition))
    for path, source in sources:
        expression = compiled(source)
        if isinstance(expression, FailingExpression):
            return _reject(RejectionCode.CEL_EVALUATION_FAILED,
                           f"{path} of calculation {calculation.code!r}: {expression.error}",
                           path, source)
        costly = _too_costly(path, source)
        if costly is not None:
            return costly
    return calculation


def _current_calculation(catalog: Catalog, raw_id: object) -> Calculation | Rejected:
    return _current(catalog.calculations, raw_id, "calculationId", "calculation",
                    RejectionCode.CALCULATION_NOT_FOUND)


def _current(held: Mapping[UUID, _Entity], raw_id: object, field: str, what: str,
             not_found: RejectionCode) -> _Entity | Rejected:
    """The entity ``raw_id`` names in ``held``, or why it names none."""
    try:
        entity_id = UUID(str(raw_id))
    except ValueError:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"{field} {raw_id!r} is not a UUID", field, raw_id)
    found = held.get(entity_id)
    if found is None:
        return _reject(not_found, f"{what} {entity_id} does not exist", field, entity_id)
    return found


def _fresh(created: _Entity, existing: _Entity | None, status: Status, field: str,
           entity_id: UUID, what: str, duplicate: RejectionCode) -> _Entity | Rejected | None:
    """None for a new ACTIVE entity; the existing one for a create that repeats it exactly;
    otherwise why the create is refused."""
    if status is not Status.ACTIVE:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"a {what} is created ACTIVE; delete it to lock it", "status",
                       status.value)
    if existing is None:
        return None
    if existing == created:
        return existing
    return _reject(duplicate, f"{field} {entity_id} already names another {what}", field,
                   entity_id)


def _delete_calculation(catalog: Catalog, body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    """A soft delete: LOCKED, once no account or set has it attached."""
    current = _current_calculation(catalog, body.get("calculationId",
                                                     body.get("calculation_id")))
    if isinstance(current, Rejected) or current.status is Status.LOCKED:
        return current
    attached = [key for key in catalog.attachments if key[0] == current.calculation_id]
    if attached:
        return _reject(RejectionCode.CALCULATION_ATTACHED,
                       f"calculation {current.calculation_id} is attached to "
                       f"{len(attached)} account(s) or set(s); detach it first",
                       "calculationId", current.calculation_id)
    return current.model_copy(update={"status": Status.LOCKED})


def _attached_to(catalog: Catalog, owner_id: UUID, journal_id: UUID
                 ) -> tuple[Account | AccountSet, UUID] | Rejected:
    """The account or set an attachment names, and the journal it is in: a set rolls up
    one journal only, so a set's attachment is in that journal."""
    account_set = catalog.account_set(owner_id)
    if account_set is not None:
        return account_set, account_set.journal_id
    account = catalog.account(owner_id)
    if account is None:
        return _reject(RejectionCode.ACCOUNT_NOT_FOUND,
                       f"account {owner_id} does not exist (nor a set)", "accountId", owner_id)
    if catalog.journal(journal_id) is None:
        return _reject(RejectionCode.JOURNAL_NOT_FOUND,
                       f"journal {journal_id} does not exist", "journalId", journal_id)
    return account, journal_id


def _attachment(catalog: Catalog, kind: CatalogKind,
                attachment: CalculationAttachment) -> CatalogEntity | Rejected:
    if attachment.detached:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       "an attachment is ended by DETACH_CALCULATION", "detached", True)
    calculation = _current_calculation(catalog, attachment.calculation_id)
    if isinstance(calculation, Rejected):
        return calculation
    placed = _attached_to(catalog, attachment.account_id, attachment.journal_id)
    if isinstance(placed, Rejected):
        return placed
    attachment = attachment.model_copy(update={"journal_id": placed[1]})
    key = (attachment.calculation_id, attachment.account_id, attachment.journal_id)
    existing = catalog.attachments.get(key)
    if kind is CatalogKind.DETACH_CALCULATION:
        if existing is None:
            return _reject(RejectionCode.CALCULATION_ATTACHMENT_NOT_FOUND,
                           f"calculation {attachment.calculation_id} is not attached to "
                           f"{attachment.account_id} in journal {attachment.journal_id}",
                           "accountId", attachment.account_id)
        return existing.model_copy(update={"detached": True})
    if calculation.status is Status.LOCKED:
        return _reject(RejectionCode.CALCULATION_LOCKED,
                       f"calculation {calculation.calculation_id} was deleted",
                       "calculationId", calculation.calculation_id)
    if calculation.scope is CalculationScope.GLOBAL:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"calculation {calculation.code!r} is GLOBAL: it applies everywhere "
                       "without being attached", "calculationId", calculation.calculation_id)
    return existing or attachment


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _reject(code: RejectionCode, message: str, field: str | None, value: object) -> Rejected:
    rejection = Rejection(
        code=code, message=message, field=field, value=None if value is None else shown(value)
    )
    return Rejected.of(None, rejection)


# Velocity controls ----------------------------------------------------------------------

_VELOCITY_KINDS = frozenset({
    CatalogKind.CREATE_VELOCITY_LIMIT, CatalogKind.UPDATE_VELOCITY_LIMIT,
    CatalogKind.DELETE_VELOCITY_LIMIT, CatalogKind.CREATE_VELOCITY_CONTROL,
    CatalogKind.UPDATE_VELOCITY_CONTROL, CatalogKind.DELETE_VELOCITY_CONTROL,
    CatalogKind.ATTACH_VELOCITY_CONTROL, CatalogKind.DETACH_VELOCITY_CONTROL})
_LIMIT_UPDATABLE = {"name", "description", "balance", "currency", "condition",
                    "timestamp_source", "window"}
_CONTROL_UPDATABLE = {"name", "description", "enforcement", "condition"}
_LIMIT_SOURCE_ROOTS = ("params",)


def _decide_velocity(catalog: Catalog, kind: CatalogKind, body: Mapping[str, Any],
                     created: CatalogEntity | None) -> CatalogEntity | Rejected:
    if isinstance(created, ControlLimit):
        return _create_control_limit(catalog, created)
    if isinstance(created, VelocityControl):
        return _create_velocity_control(catalog, created)
    if isinstance(created, ControlAttachment):
        return _control_attachment(catalog, kind, created)
    if kind is CatalogKind.UPDATE_VELOCITY_LIMIT or kind is CatalogKind.DELETE_VELOCITY_LIMIT:
        limit = _current_control_limit(catalog, body.get("velocityLimitId",
                                                         body.get("velocity_limit_id")))
        if isinstance(limit, Rejected) or limit.status is Status.LOCKED:
            return limit
        if kind is CatalogKind.DELETE_VELOCITY_LIMIT:
            return limit.model_copy(update={"status": Status.LOCKED})
        changes = _changes(body, {"velocity_limit_id"}, _LIMIT_UPDATABLE)
        if isinstance(changes, Rejected):
            return changes
        updated = ControlLimit.model_validate({**limit.model_dump(), **changes})
        problem = _control_limit_problem(updated)
        if problem is not None:
            return problem
        limits = {**catalog.control_limits, updated.velocity_limit_id: updated}
        return _attachments_resolve(catalog, limits, updated, [
            c for c in catalog.velocity_controls.values()
            if updated.velocity_limit_id in c.velocity_limit_ids])
    control = _current_velocity_control(catalog, body.get("velocityControlId",
                                                          body.get("velocity_control_id")))
    if isinstance(control, Rejected) or control.status is Status.LOCKED:
        return control
    if kind is CatalogKind.DELETE_VELOCITY_CONTROL:
        return control.model_copy(update={"status": Status.LOCKED})
    return _update_velocity_control(catalog, control, body)


def _changes(body: Mapping[str, Any], identity: set[str], updatable: set[str]
             ) -> dict[str, Any] | Rejected:
    changes = {_snake(key): value for key, value in body.items()
               if _snake(key) not in identity}
    refused = sorted(set(changes) - updatable)
    if refused:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       f"{refused[0]} cannot be updated", refused[0], changes[refused[0]])
    return changes


def _control_limit_problem(limit: ControlLimit) -> Rejected | None:
    shape = shape_problem(limit)
    if shape is not None:
        return _reject(RejectionCode.VELOCITY_LIMIT_SHAPE_UNSUPPORTED,
                       f"velocity limit {limit.name!r} uses {shape}; the ledger enforces "
                       "limits on an owner's balance in the journal only", "limit",
                       limit.velocity_limit_id)
    if limit.currency and currency_exponent(limit.currency) is None:
        return _reject(RejectionCode.CURRENCY_INVALID,
                       f"currency {limit.currency!r} is not a supported ISO 4217 code",
                       "currency", limit.currency)
    sources = [(f"params[{i}].default", p.default) for i, p in enumerate(limit.params)]
    for i, bound in enumerate(limit.balance):
        sources += [(f"limit.balance[{i}].layer", bound.layer),
                    (f"limit.balance[{i}].amount", bound.amount),
                    (f"limit.balance[{i}].normalBalanceType", bound.normal_balance_type)]
    for path, source in sources:
        if source is None or source.strip() in Layer.__members__ \
                or source.strip() in Direction.__members__:
            continue
        problem = _compile_problem(path, source, _LIMIT_SOURCE_ROOTS)
        if problem is not None:
            return problem
    return None


def _compile_problem(path: str, source: str, roots: Sequence[str]) -> Rejected | None:
    expression = compile_expression(source, roots=roots,
                                    decimal_fields=dict.fromkeys(roots))
    if isinstance(expression, FailingExpression):
        return _reject(RejectionCode.CEL_EVALUATION_FAILED, f"{path}: {expression.error}",
                       path, source)
    return _too_costly(path, source)


def _create_control_limit(catalog: Catalog, limit: ControlLimit) -> CatalogEntity | Rejected:
    known = _fresh(limit, catalog.control_limits.get(limit.velocity_limit_id), limit.status,
                   "velocityLimitId", limit.velocity_limit_id, "velocity limit",
                   RejectionCode.VELOCITY_LIMIT_ID_DUPLICATE)
    if known is not None:
        return known
    return _control_limit_problem(limit) or limit


def _current_control_limit(catalog: Catalog, raw_id: object) -> ControlLimit | Rejected:
    return _current(catalog.control_limits, raw_id, "velocityLimitId", "velocity limit",
                    RejectionCode.VELOCITY_LIMIT_NOT_FOUND)


def _current_velocity_control(catalog: Catalog, raw_id: object) -> VelocityControl | Rejected:
    return _current(catalog.velocity_controls, raw_id, "velocityControlId", "velocity control",
                    RejectionCode.VELOCITY_CONTROL_NOT_FOUND)


def _usable_limits(catalog: Catalog, limit_ids: Sequence[UUID]) -> Rejected | None:
    for limit_id in limit_ids:
        limit = _current_control_limit(catalog, limit_id)
        if isinstance(limit, Rejected):
            return limit
        if limit.status is Status.LOCKED:
            return _reject(RejectionCode.VELOCITY_LIMIT_LOCKED,
                           f"velocity limit {limit_id} was deleted", "velocityLimitIds",
                           limit_id)
    return None


def _create_velocity_control(catalog: Catalog, control: VelocityControl
                             ) -> CatalogEntity | Rejected:
    known = _fresh(control, catalog.velocity_controls.get(control.velocity_control_id),
                   control.status, "velocityControlId", control.velocity_control_id,
                   "velocity control", RejectionCode.VELOCITY_CONTROL_ID_DUPLICATE)
    if known is not None:
        return known
    if control.condition is not None:
        problem = _compile_problem("condition", control.condition, CONDITION_ROOTS)
        if problem is not None:
            return problem
    return _usable_limits(catalog, control.velocity_limit_ids) or control


def _update_velocity_control(catalog: Catalog, control: VelocityControl,
                             body: Mapping[str, Any]) -> CatalogEntity | Rejected:
    """Change fields, or the limits: ``addVelocityLimitIds``, ``removeVelocityLimitIds``,
    ``removeAllLimits``. Every attachment must still resolve with its params."""
    edits = {"add_velocity_limit_ids", "remove_velocity_limit_ids", "remove_all_limits"}
    changes = _changes(body, {"velocity_control_id"}, _CONTROL_UPDATABLE | edits)
    if isinstance(changes, Rejected):
        return changes
    try:
        added = [UUID(str(i)) for i in changes.pop("add_velocity_limit_ids", None) or ()]
        removed = {UUID(str(i)) for i in changes.pop("remove_velocity_limit_ids", None) or ()}
    except (TypeError, ValueError):
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       "velocity limit ids must be UUIDs", "velocityLimitIds", None)
    kept = () if changes.pop("remove_all_limits", False) else control.velocity_limit_ids
    problem = _usable_limits(catalog, added)
    if problem is not None:
        return problem
    limit_ids = [i for i in kept if i not in removed]
    limit_ids += [i for i in added if i not in limit_ids]
    updated = VelocityControl.model_validate(
        {**control.model_dump(), **changes, "velocity_limit_ids": limit_ids})
    if updated.condition is not None and updated.condition != control.condition:
        compile_problem = _compile_problem("condition", updated.condition, CONDITION_ROOTS)
        if compile_problem is not None:
            return compile_problem
    return _attachments_resolve(catalog, catalog.control_limits, updated, [updated])


def _attachments_resolve(catalog: Catalog, limits: Mapping[UUID, ControlLimit],
                         changed: CatalogEntity, controls: Sequence[VelocityControl]
                         ) -> CatalogEntity | Rejected:
    """``changed``, once every attachment of ``controls`` resolves with ``limits``."""
    for attached in catalog.control_attachments.values():
        for attachment in attached.values():
            control = next((c for c in controls
                            if c.velocity_control_id == attachment.velocity_control_id), None)
            owner = (catalog.accounts.get(attachment.account_id)
                     or catalog.account_sets.get(attachment.account_id))
            if control is None or owner is None:
                continue
            outcome = resolve_attachment(attachment, control, limits, owner)
            if isinstance(outcome, str):
                return _reject(RejectionCode.VELOCITY_CONTROL_PARAMS_INVALID,
                               f"the change would leave the attachment of control "
                               f"{control.velocity_control_id} to {attachment.account_id} "
                               f"unresolvable: {outcome}", "params", attachment.account_id)
    return changed


def _control_attachment(catalog: Catalog, kind: CatalogKind,
                        attachment: ControlAttachment) -> CatalogEntity | Rejected:
    if attachment.detached:
        return _reject(RejectionCode.CATALOG_COMMAND_INVALID,
                       "an attachment is ended by DETACH_VELOCITY_CONTROL", "detached", True)
    control = _current_velocity_control(catalog, attachment.velocity_control_id)
    if isinstance(control, Rejected):
        return control
    placed = _attached_to(catalog, attachment.account_id, attachment.journal_id)
    if isinstance(placed, Rejected):
        return placed
    owner, journal_id = placed
    attachment = attachment.model_copy(update={"journal_id": journal_id})
    key = (attachment.velocity_control_id, attachment.journal_id)
    existing = catalog.control_attachments.get(attachment.account_id, {}).get(key)
    if kind is CatalogKind.DETACH_VELOCITY_CONTROL:
        if existing is None:
            return _reject(RejectionCode.VELOCITY_CONTROL_ATTACHMENT_NOT_FOUND,
                           f"velocity control {attachment.velocity_control_id} is not "
                           f"attached to {attachment.account_id} in journal "
                           f"{attachment.journal_id}", "accountId", attachment.account_id)
        return existing.model_copy(update={"detached": True})
    if control.status is Status.LOCKED:
        return _reject(RejectionCode.VELOCITY_CONTROL_LOCKED,
                       f"velocity control {control.velocity_control_id} was deleted",
                       "velocityControlId", control.velocity_control_id)
    outcome = resolve_attachment(attachment, control, catalog.control_limits, owner)
    if isinstance(outcome, str):
        return _reject(RejectionCode.VELOCITY_CONTROL_PARAMS_INVALID,
                       f"the params of the attachment do not resolve: {outcome}", "params",
                       None)
    # Attaching again replaces the params (Twisp's behaviour).
    return attachment
