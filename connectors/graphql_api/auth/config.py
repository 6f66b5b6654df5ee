"""The API's authentication settings: a YAML or JSON file given to ``ledger api serve
--auth-config``. See docs/api.md, "Authentication and authorization".

```yaml
oidc:                              # optional: without it only API keys are accepted
  jwksUrl: https://idp.example.com/.well-known/jwks.json    # or jwksFile: jwks.json
  issuers: [https://idp.example.com/]
  audience: ledger-api
  algorithms: [RS256]              # default RS256, ES256; never HS* nor none
  leewaySeconds: 30                # for exp, nbf and iat (default 30)
  tenantClaim: tenant              # the claim naming the tenant (default: none)
apiKeys: true                      # default true
tenants:                           # name: topic prefix (default: one tenant, the
  acme: acme                       #   server's --topic-prefix, named after it)
  globex: globex
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors.graphql_api.auth.keys import TENANT_NAME

__all__ = ["AuthConfig", "AuthConfigError", "OidcConfig", "load_auth_config"]

DEFAULT_LEEWAY_S = 30.0
DEFAULT_ALGORITHMS = ("RS256", "ES256")
# Asymmetric signatures only: a shared-secret (HS*) key in a JWKS would let anyone who can
# read the key set sign tokens.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                "ES256", "ES384", "ES512", "EdDSA"})


class AuthConfigError(ValueError):
    """The auth configuration cannot be used, with the reason."""


@dataclass(frozen=True)
class OidcConfig:
    """How bearer tokens are checked."""

    issuers: tuple[str, ...]
    audience: str
    jwks_url: str | None = None
    jwks_file: Path | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    leeway_s: float = DEFAULT_LEEWAY_S
    tenant_claim: str | None = None


@dataclass(frozen=True)
class AuthConfig:
    """Authentication is on: tokens and/or keys, and the tenants served (name: prefix;
    empty: the server's own topic prefix)."""

    oidc: OidcConfig | None = None
    api_keys: bool = True
    tenants: Mapping[str, str] = field(default_factory=dict)


def load_auth_config(path: Path) -> AuthConfig:
    """The configuration in ``path``; AuthConfigError when it cannot be used."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise AuthConfigError(f"{path} cannot be read as YAML or JSON: {exc}") from None
    return auth_config(document, path.parent)


def auth_config(document: object, base: Path) -> AuthConfig:
    """The configuration of a decoded document; relative files are read from ``base``."""
    if not isinstance(document, Mapping):
        raise AuthConfigError("the auth configuration must be a mapping")
    _only(document, {"oidc", "apiKeys", "tenants"}, "the auth configuration")
    oidc = None if document.get("oidc") is None else _oidc(document["oidc"], base)
    api_keys = document.get("apiKeys", True)
    if not isinstance(api_keys, bool):
        raise AuthConfigError("apiKeys must be true or false")
    if oidc is None and not api_keys:
        raise AuthConfigError("accept tokens (oidc), API keys (apiKeys), or both")
    tenants = document.get("tenants") or {}
    if not isinstance(tenants, Mapping) or not all(
            isinstance(name, str) and TENANT_NAME.fullmatch(name) and isinstance(prefix, str)
            and prefix for name, prefix in tenants.items()):
        raise AuthConfigError("tenants must map tenant names (A-Z a-z 0-9 _ -) to topic "
                              "prefixes")
    if len(set(tenants.values())) != len(tenants):
        raise AuthConfigError("two tenants share a topic prefix")
    return AuthConfig(oidc, api_keys, dict(tenants))


def _oidc(section: Any, base: Path) -> OidcConfig:
    if not isinstance(section, Mapping):
        raise AuthConfigError("oidc must be a mapping")
    _only(section, {"jwksUrl", "jwksFile", "issuers", "audience", "algorithms",
                    "leewaySeconds", "tenantClaim"}, "oidc")
    url, file = section.get("jwksUrl"), section.get("jwksFile")
    if (url is None) == (file is None):
        raise AuthConfigError("oidc needs one of jwksUrl and jwksFile")
    issuers = section.get("issuers")
    if isinstance(issuers, str):
        issuers = [issuers]
    if not isinstance(issuers, list) or not issuers or \
            not all(isinstance(i, str) and i for i in issuers):
        raise AuthConfigError("oidc.issuers must list the accepted issuers (iss)")
    audience = section.get("audience")
    if not isinstance(audience, str) or not audience:
        raise AuthConfigError("oidc.audience must name the audience (aud) tokens are for")
    algorithms = tuple(section.get("algorithms") or DEFAULT_ALGORITHMS)
    refused = set(algorithms) - ALLOWED_ALGORITHMS
    if refused:
        raise AuthConfigError(f"oidc.algorithms: {sorted(map(str, refused))} are not accepted; "
                              f"use asymmetric ones: {sorted(ALLOWED_ALGORITHMS)}")
    leeway = section.get("leewaySeconds", DEFAULT_LEEWAY_S)
    if not isinstance(leeway, int | float) or not 0 <= leeway <= 300:
        raise AuthConfigError("oidc.leewaySeconds must be between 0 and 300")
    claim = section.get("tenantClaim")
    if claim is not None and not isinstance(claim, str):
        raise AuthConfigError("oidc.tenantClaim must name a claim")
    return OidcConfig(tuple(issuers), audience, url if isinstance(url, str) else None,
                      None if file is None else base / str(file), algorithms, float(leeway),
                      claim)


def _only(section: Mapping[Any, Any], known: set[str], where: str) -> None:
    unknown = set(section) - known
    if unknown:
        raise AuthConfigError(f"{where} has unknown settings: "
                              f"{', '.join(sorted(map(str, unknown)))}")
