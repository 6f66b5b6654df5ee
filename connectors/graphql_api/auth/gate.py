"""Who is asking, and for which tenant: the HTTP request's credentials checked.

With authentication off (``OpenGate``) the tenant is the one the ``X-Twisp-Account-Id``
header names, or the only one served. With it on (``Authenticator``) every request needs
``Authorization: Bearer <credential>``, an OIDC token or an API key:

- an API key names its tenant and its client; the secret must match the client's hash;
- a token's tenant is its tenant claim (when configured), else the header's tenant, else
  the only one served; its client is the tenant's client whose principal is the token's
  ``iss``. A token for a tenant whose clients do not hold its issuer is refused, so one
  tenant's tokens never reach another tenant's ledger.

A header naming another tenant than the credential's is refused. Refusals carry their HTTP
status and code and never echo the credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.graphql_api.auth.config import AuthConfig
from connectors.graphql_api.auth.keys import KEY_PRINCIPAL_PREFIX, parse_key
from connectors.graphql_api.auth.policies import Policy, cel_value
from connectors.graphql_api.auth.store import AuthTable, ClientRecord
from connectors.graphql_api.auth.tokens import TokenError, TokenVerifier
from connectors.graphql_api.errors import FORBIDDEN, UNAUTHENTICATED
from streams.errors import LedgerError

__all__ = ["TENANT_HEADER", "Admission", "Authenticator", "Identity", "OpenGate", "RefusedError"]

TENANT_HEADER = "x-twisp-account-id"
TENANT_REQUIRED = "tenant_required"
UNKNOWN_TENANT = "unknown_tenant"


class RefusedError(Exception):
    """The request is not admitted: the HTTP status, the code and why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: its tenant, principal, claims and its client's policies."""

    tenant: str
    principal: str
    claims: Mapping[str, Any]
    policies: Sequence[Policy]

    def context(self) -> dict[str, Any]:
        """``context.auth`` as policies' assertions read it."""
        return {"auth": {"claims": cel_value(self.claims), "principal": self.principal,
                         "tenant": self.tenant}}


@dataclass(frozen=True)
class Admission:
    """The tenant a request is for, and who sent it (None: authentication is off)."""

    tenant: str
    identity: Identity | None


class OpenGate:
    """No authentication: the tenant comes from the header, or is the only one."""

    def __init__(self, tenants: Sequence[str]) -> None:
        self.tenants = list(tenants)

    async def admit(self, headers: Mapping[str, str]) -> Admission:
        """The request's tenant."""
        return Admission(_tenant(headers.get(TENANT_HEADER), self.tenants), None)


def _tenant(named: str | None, tenants: Sequence[str]) -> str:
    if named is None:
        if len(tenants) == 1:
            return tenants[0]
        raise RefusedError(400, TENANT_REQUIRED, "this API serves several tenants: name one in the "
                                            "X-Twisp-Account-Id header")
    if named not in tenants:
        raise RefusedError(404, UNKNOWN_TENANT, "the X-Twisp-Account-Id header names no tenant "
                                           "served here")
    return named


class Authenticator:
    """Checks credentials against the configuration and each tenant's clients."""

    def __init__(self, config: AuthConfig, tables: Mapping[str, AuthTable],
                 lookup_timeout_s: float) -> None:
        self.config = config
        self.tables = tables
        self.lookup_timeout_s = lookup_timeout_s
        self.verifier = None if config.oidc is None else TokenVerifier(config.oidc)

    async def admit(self, headers: Mapping[str, str]) -> Admission:
        """The tenant and identity of the request; ``RefusedError`` when it is not admitted."""
        scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise _unauthenticated("send Authorization: Bearer <token or API key>")
        key = parse_key(credential)
        if key is not None and self.config.api_keys:
            client = await self._client(key.tenant, key.principal)
            if client is None or client.key is None or not client.key.verifies(key.secret):
                raise _unauthenticated("the API key is not accepted")
            identity = Identity(key.tenant, key.principal,
                                {"iss": "apikey", "sub": key.key_id}, client.policies)
        elif self.verifier is not None and key is None:
            identity = await self._token(credential, headers.get(TENANT_HEADER))
        else:
            raise _unauthenticated("this API does not accept that kind of credential")
        named = headers.get(TENANT_HEADER)
        if named is not None and named != identity.tenant:
            raise RefusedError(403, FORBIDDEN, "the credential is not for the tenant the "
                                          "X-Twisp-Account-Id header names")
        return Admission(identity.tenant, identity)

    async def _token(self, token: str, named: str | None) -> Identity:
        verifier = self.verifier
        assert verifier is not None and self.config.oidc is not None
        try:
            claims = (await asyncio.to_thread(verifier.claims, token) if verifier.fetches
                      else verifier.claims(token))
        except TokenError as exc:
            raise _unauthenticated(str(exc)) from None
        claim = self.config.oidc.tenant_claim
        if claim is not None:
            tenant = claims.get(claim)
            if not isinstance(tenant, str) or tenant not in self.tables:
                raise _unauthenticated(f"the token's {claim} claim names no tenant served here")
        else:
            try:
                tenant = _tenant(named, list(self.tables))
            except RefusedError as refused:
                raise _unauthenticated(str(refused)) from None
        principal = str(claims["iss"])
        client = await self._client(tenant, principal)
        if client is None or client.key is not None or principal.startswith(KEY_PRINCIPAL_PREFIX):
            raise _unauthenticated("the token's issuer is not a client of this tenant")
        return Identity(tenant, principal, claims, client.policies)

    async def _client(self, tenant: str, principal: str) -> ClientRecord | None:
        table = self.tables.get(tenant)
        if table is None:
            return None
        client = table.client(principal)
        if client is None:
            # It may have just been created through another instance or `ledger auth`.
            try:
                await table.caught_up(self.lookup_timeout_s)
            except LedgerError:
                raise RefusedError(503, "auth_unavailable", "the API could not read its clients "
                                                        "in time; retry") from None
            client = table.client(principal)
        return client


def _unauthenticated(message: str) -> RefusedError:
    return RefusedError(401, UNAUTHENTICATED, message)
