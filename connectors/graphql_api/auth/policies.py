"""Policies in Twisp's shape, and how a request's action on a resource is decided.

A policy is ``{effect: ALLOW | DENY, actions: [SELECT | INSERT | UPDATE | DELETE],
resources: ["financial.Account", "financial.*", "*", ...], assertions: {name: CEL}}``. It
*matches* an action on a resource when it names both and every one of its assertions is
true. An action is allowed when at least one ALLOW matches and no DENY does.

Assertions read one root, ``context``:

- ``context.auth``: ``claims`` (the token's claims; an API key's are ``{"iss": "apikey",
  "sub": <key id>}``), ``principal`` and ``tenant``;
- ``context.vars``: the request's variables; ``context.operation``: ``{name, type}``;
- ``context.document``: the record the action is on. For a write, the field's arguments,
  with the fields of ``input`` lifted to the top (``context.document.journalId`` of a
  ``createJournal``); for a read, the record read (``context.document.journalId`` of a
  balance, an entry or a transaction).

Fail closed: an assertion that does not evaluate to ``true`` (false, an error, a missing
field) makes an ALLOW not match, and makes a DENY match.

Before a document runs, each action it asks for is decided without the records it will read
(``decide(..., document=None)``): a policy whose assertions read ``context.document`` is then
*pending*, and the action is decided again for every record read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any
from uuid import UUID

from ledger_core.expressions import Activation, Expression, ExpressionError, compile_expression
from ledger_core.input_bounds import (
    CODE_LENGTH_MAX,
    cel_source_problem,
    label_problem,
)

__all__ = [
    "Action",
    "Effect",
    "Policy",
    "PolicyError",
    "Verdict",
    "cel_value",
    "decide",
    "policies_from",
    "policy_json",
]

# How many policies one client may hold, and assertions one policy: each is evaluated on
# every request, so their number bounds a request's work.
POLICIES_MAX = 32
ASSERTIONS_MAX = 16
RESOURCES_MAX = 32

_RESOURCE = re.compile(r"\*|[A-Za-z][A-Za-z0-9_]*\.(?:\*|[A-Za-z][A-Za-z0-9_]*)")
_READS_DOCUMENT = re.compile(r"(?<![\w.])context\s*\.\s*document\b")


class PolicyError(ValueError):
    """A policy that cannot be used, with the reason."""


class Effect(StrEnum):
    """What a matching policy does."""

    ALLOW = "ALLOW"
    DENY = "DENY"


class Action(StrEnum):
    """What a request does to a resource."""

    SELECT = "SELECT"
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class Verdict(StrEnum):
    """The outcome of ``decide``; PENDING only when the document was not given."""

    ALLOW = "ALLOW"
    DENY = "DENY"
    PENDING = "PENDING"


@dataclass(frozen=True)
class Assertion:
    """A named CEL condition, compiled once."""

    name: str
    expression: Expression
    reads_document: bool


@dataclass(frozen=True)
class Policy:
    """One policy of a client."""

    effect: Effect
    actions: frozenset[Action]
    resources: tuple[str, ...]
    assertions: tuple[Assertion, ...]

    def covers(self, action: Action, resource: str) -> bool:
        """Whether the policy names the action and the resource."""
        if action not in self.actions:
            return False
        namespace = resource.partition(".")[0]
        return any(pattern in ("*", resource, f"{namespace}.*") for pattern in self.resources)

    @property
    def reads_document(self) -> bool:
        """Whether an assertion needs the record acted on."""
        return any(assertion.reads_document for assertion in self.assertions)

    def matches(self, activation: Activation) -> bool:
        """Whether the assertions hold, failing closed: an ALLOW needs every assertion to be
        exactly true; a DENY is spared only by an assertion that is exactly false."""
        for assertion in self.assertions:
            try:
                value = assertion.expression.evaluate(activation)
            except ExpressionError:
                value = None
            if self.effect is Effect.ALLOW and value is not True:
                return False
            if self.effect is Effect.DENY and value is False:
                return False
        return True


def decide(policies: Sequence[Policy], action: Action, resource: str,
           context: Mapping[str, Any], document: Mapping[str, Any] | None) -> Verdict:
    """Allow, deny, or (``document`` None, an assertion needing it) leave pending."""
    activation = Activation({"context": {**context, "document": dict(document or {})}})
    allowed = maybe_allowed = maybe_denied = False
    for policy in policies:
        if not policy.covers(action, resource):
            continue
        if document is None and policy.reads_document:
            maybe_allowed |= policy.effect is Effect.ALLOW
            maybe_denied |= policy.effect is Effect.DENY
        elif policy.matches(activation):
            if policy.effect is Effect.DENY:
                return Verdict.DENY
            allowed = True
    if not (allowed or maybe_allowed):
        return Verdict.DENY
    if allowed and not maybe_denied:
        return Verdict.ALLOW
    return Verdict.PENDING


def policies_from(value: object) -> tuple[Policy, ...]:
    """Policies from their JSON form (a list of Twisp-shaped objects); PolicyError if one
    cannot be used."""
    if not isinstance(value, list):
        raise PolicyError("policies must be a list")
    if len(value) > POLICIES_MAX:
        raise PolicyError(f"{len(value)} policies, more than the {POLICIES_MAX} a client may hold")
    return tuple(_policy(item, index) for index, item in enumerate(value))


def _policy(item: object, index: int) -> Policy:
    where = f"policies[{index}]"
    if not isinstance(item, Mapping):
        raise PolicyError(f"{where} must be an object")
    unknown = set(item) - {"effect", "actions", "resources", "assertions"}
    if unknown:
        raise PolicyError(f"{where} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
    try:
        effect = Effect(str(item.get("effect")))
        actions = frozenset(Action(a) for a in _strings(item.get("actions"), f"{where}.actions"))
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    resources = _strings(item.get("resources"), f"{where}.resources")
    if not actions or not resources or len(resources) > RESOURCES_MAX:
        raise PolicyError(f"{where} needs 1 to {RESOURCES_MAX} resources and at least one "
                          "action")
    for resource in resources:
        if _RESOURCE.fullmatch(resource) is None:
            raise PolicyError(f"{where}.resources: {resource!r} is not a resource "
                              "(namespace.Type, namespace.* or *)")
    raw = item.get("assertions") or {}
    if not isinstance(raw, Mapping) or len(raw) > ASSERTIONS_MAX:
        raise PolicyError(f"{where}.assertions must map at most {ASSERTIONS_MAX} names to CEL")
    return Policy(effect, actions, tuple(resources),
                  tuple(_assertion(name, source, f"{where}.assertions")
                        for name, source in raw.items()))


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} must be a list of strings")
    return list(value)


def _assertion(name: object, source: object, where: str) -> Assertion:
    if not isinstance(name, str) or label_problem(name, CODE_LENGTH_MAX) is not None:
        raise PolicyError(f"{where}: an assertion's name must be a short printable text")
    if not isinstance(source, str):
        raise PolicyError(f"{where}.{name} must be a CEL source")
    problem = cel_source_problem(source)
    if problem is not None:
        raise PolicyError(f"{where}.{name}: {problem.reason}")
    # Claims and variables may hold decimals: the engines that are exact for them only.
    expression = compile_expression(source, roots=("context",),
                                    decimal_fields={"context": None})
    return Assertion(name, expression, _READS_DOCUMENT.search(source) is not None)


def policy_json(policy: Policy) -> dict[str, Any]:
    """The JSON form of a policy, as ``policies_from`` reads it."""
    return {"effect": policy.effect.value,
            "actions": sorted(action.value for action in policy.actions),
            "resources": list(policy.resources),
            "assertions": {a.name: a.expression.source for a in policy.assertions}}


def cel_value(value: Any) -> Any:
    """``value`` as assertions read it: ids, dates and enums as their text, numbers that are
    not integers as exact decimals (the engines exact for money take no floats)."""
    if isinstance(value, UUID | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): cel_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cel_value(v) for v in value]
    return value
