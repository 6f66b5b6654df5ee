"""Policies, keys and the auth configuration on their own (pure: no broker, no server)."""

import asyncio
from pathlib import Path

import pytest
from graphql import GraphQLObjectType, get_named_type

from connectors.graphql_api import build_schema
from connectors.graphql_api.auth.config import AuthConfigError, auth_config
from connectors.graphql_api.auth.gate import OpenGate, RefusedError
from connectors.graphql_api.auth.keys import KeyHash, new_key, parse_key
from connectors.graphql_api.auth.policies import (
    Action,
    PolicyError,
    Verdict,
    decide,
    policies_from,
)
from connectors.graphql_api.auth.resources import GROUPS, READS, WRITES, read_resource

CONTEXT = {"auth": {"claims": {"sub": "alice", "role": "reader"}}, "vars": {}}
JOURNAL_A = "11111111-1111-4111-8111-111111111111"


def allow(actions: list[str], resources: list[str], **assertions: str) -> dict[str, object]:
    """An ALLOW policy."""
    return {"effect": "ALLOW", "actions": actions, "resources": resources,
            "assertions": assertions}


def deny(actions: list[str], resources: list[str], **assertions: str) -> dict[str, object]:
    """A DENY policy."""
    return {**allow(actions, resources, **assertions), "effect": "DENY"}


def test_one_matching_allow_is_needed_and_any_matching_deny_blocks() -> None:
    """ALLOW on a namespace lets in; a DENY on the one resource wins over it; nothing
    matching is a DENY."""
    policies = policies_from([allow(["SELECT", "INSERT"], ["financial.*"]),
                              deny(["INSERT"], ["financial.Transaction"])])
    assert decide(policies, Action.SELECT, "financial.Entry", CONTEXT, {}) is Verdict.ALLOW
    assert decide(policies, Action.INSERT, "financial.Account", CONTEXT, {}) is Verdict.ALLOW
    assert decide(policies, Action.INSERT, "financial.Transaction", CONTEXT, {}) is Verdict.DENY
    assert decide(policies, Action.DELETE, "financial.Account", CONTEXT, {}) is Verdict.DENY
    assert decide(policies, Action.SELECT, "system.Client", CONTEXT, {}) is Verdict.DENY


def test_assertions_read_the_claims_and_the_document() -> None:
    """Claims decide at once; a document assertion is pending until the record is known."""
    policies = policies_from([allow(["SELECT"], ["*"], reader="context.auth.claims.role == "
                                                              "'reader'",
                                    journal=f"context.document.journalId == '{JOURNAL_A}'")])
    assert decide(policies, Action.SELECT, "financial.Balance", CONTEXT, None) is Verdict.PENDING
    assert decide(policies, Action.SELECT, "financial.Balance", CONTEXT,
                  {"journalId": JOURNAL_A}) is Verdict.ALLOW
    assert decide(policies, Action.SELECT, "financial.Balance", CONTEXT,
                  {"journalId": "other"}) is Verdict.DENY
    stranger = {"auth": {"claims": {"role": "writer"}}}
    assert decide(policies, Action.SELECT, "financial.Balance", stranger,
                  {"journalId": JOURNAL_A}) is Verdict.DENY


def test_assertions_fail_closed() -> None:
    """A missing claim makes an ALLOW not match and a DENY match."""
    missing = "context.auth.claims.department == 'audit'"
    assert decide(policies_from([allow(["SELECT"], ["*"], audit=missing)]), Action.SELECT,
                  "financial.Account", CONTEXT, {}) is Verdict.DENY
    both = policies_from([allow(["SELECT"], ["*"]), deny(["SELECT"], ["*"], audit=missing)])
    assert decide(both, Action.SELECT, "financial.Account", CONTEXT, {}) is Verdict.DENY
    spared = policies_from([allow(["SELECT"], ["*"]),
                            deny(["SELECT"], ["*"], bad="context.auth.claims.sub == 'mallory'")])
    assert decide(spared, Action.SELECT, "financial.Account", CONTEXT, {}) is Verdict.ALLOW


@pytest.mark.parametrize(("policy", "reason"), [
    ({"effect": "MAYBE", "actions": ["SELECT"], "resources": ["*"]}, "MAYBE"),
    (allow(["READ"], ["*"]), "READ"),
    (allow(["SELECT"], ["Account"]), "not a resource"),
    (allow(["SELECT"], []), "resources"),
    (allow(["SELECT"], ["*"], deep="(" * 40 + "true" + ")" * 40), "nest"),
    ({**allow(["SELECT"], ["*"]), "when": "always"}, "unknown fields"),
])
def test_policies_that_cannot_be_used_are_refused(policy: dict[str, object],
                                                  reason: str) -> None:
    """Unknown effects, actions and fields, malformed resources and CEL past the input
    bounds are refused with the reason."""
    with pytest.raises(PolicyError, match=reason):
        policies_from([policy])


def test_every_field_of_the_schema_is_an_action_on_a_resource_or_a_group() -> None:
    """Each root and auth field is a write, a group or a read of a known record; every field
    returning a ledger record reads its resource."""
    schema = build_schema()._schema
    roots = ["Query", "Mutation", "AuthQuery", "AuthMutation", "ISO8583Query",
             "ISO8583Mutation", "CardMutation", "ACHQuery", "ACHMutation", "WorkflowMutation"]
    for root in roots:
        root_type = schema.get_type(root)
        assert isinstance(root_type, GraphQLObjectType)
        for name, field in root_type.fields.items():
            named = get_named_type(field.type).name
            assert (root, name) in WRITES or (root, name) in GROUPS or \
                read_resource(root, name, named) is not None, (root, name)
    for type_name in READS:
        assert schema.get_type(type_name) is not None, type_name
    assert {(p, f) for p, f in WRITES} <= {(r, f) for r in roots
                                           for f in schema.get_type(r).fields}  # type: ignore[union-attr]


def test_an_api_key_is_kept_only_as_a_salted_hash() -> None:
    """A key parses back; its hash verifies it and no other secret; two hashes differ."""
    key = new_key("acme")
    assert parse_key(key.text) == key
    assert parse_key("lk.acme.not-a-key") is None
    hashed = KeyHash.of(key.secret)
    assert hashed.verifies(key.secret)
    assert not hashed.verifies(new_key("acme").secret)
    assert key.secret not in hashed.digest + hashed.salt
    assert KeyHash.of(key.secret).digest != hashed.digest


@pytest.mark.parametrize(("document", "reason"), [
    ({"apiKeys": False}, "accept tokens"),
    ({"oidc": {"jwksFile": "k.json", "issuers": ["x"]}}, "audience"),
    ({"oidc": {"jwksFile": "k.json", "jwksUrl": "http://x", "issuers": ["x"], "audience": "a"}},
     "one of"),
    ({"oidc": {"jwksFile": "k.json", "issuers": ["x"], "audience": "a",
               "algorithms": ["HS256"]}}, "not accepted"),
    ({"tenants": {"a b": "ledger"}}, "tenant names"),
    ({"tenants": {"a": "ledger", "b": "ledger"}}, "share"),
    ({"oidc": None, "sessions": True}, "unknown settings"),
])
def test_auth_configurations_that_cannot_be_used_are_refused(document: object,
                                                             reason: str) -> None:
    """Each mistake is refused with its reason."""
    with pytest.raises(AuthConfigError, match=reason):
        auth_config(document, Path("."))


def test_without_authentication_the_header_picks_the_tenant() -> None:
    """One tenant needs no header; of several, the header names one that is served."""
    assert asyncio.run(OpenGate(["acme"]).admit({})).tenant == "acme"
    several = OpenGate(["acme", "globex"])
    assert asyncio.run(several.admit({"x-twisp-account-id": "globex"})).tenant == "globex"
    with pytest.raises(RefusedError) as missing:
        asyncio.run(several.admit({}))
    assert missing.value.status == 400
    with pytest.raises(RefusedError) as unknown:
        asyncio.run(several.admit({"x-twisp-account-id": "initech"}))
    assert unknown.value.status == 404
