"""OIDC bearer tokens: a JWT's signature, issuer, audience and times, checked with PyJWT.

The signing keys come from a JWKS: a URL (fetched when a token names a key id not yet
known, then cached; PyJWT's ``PyJWKClient``) or a file read at start. A token is accepted
when its signature verifies with the key its header names, its algorithm is one the
configuration allows, ``iss`` is one of the configured issuers, ``aud`` holds the
configured audience, and ``exp`` (required), ``nbf`` and ``iat`` hold within the leeway.
Refusals name the check that failed, never the token.
"""

from __future__ import annotations

import json
from typing import Any

import jwt

from connectors.graphql_api.auth.config import OidcConfig

__all__ = ["TokenError", "TokenVerifier"]

# How long the JWKS fetched from a URL is kept before it is fetched again.
JWKS_CACHE_S = 300.0
JWKS_FETCH_TIMEOUT_S = 10.0


class TokenError(Exception):
    """The token is not accepted; the message says which check failed."""


class TokenVerifier:
    """Checks bearer tokens against one OIDC configuration."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if config.jwks_url is not None:
            self._client = jwt.PyJWKClient(config.jwks_url, cache_keys=True,
                                           lifespan=JWKS_CACHE_S, timeout=JWKS_FETCH_TIMEOUT_S)
        else:
            assert config.jwks_file is not None
            try:
                self._keys = jwt.PyJWKSet.from_dict(json.loads(config.jwks_file.read_text()))
            except (OSError, ValueError, jwt.PyJWKSetError) as exc:
                raise TokenError(f"the JWKS file {config.jwks_file} cannot be read: "
                                 f"{type(exc).__name__}") from None

    @property
    def fetches(self) -> bool:
        """Whether verifying may fetch the JWKS over the network (run it off the loop)."""
        return self._client is not None

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once every check passed; TokenError otherwise."""
        config = self.config
        try:
            key = self._signing_key(token)
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=list(config.algorithms), audience=config.audience,
                issuer=config.issuers, leeway=config.leeway_s,
                options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("the token is not valid yet (nbf or iat)") from None
        except jwt.InvalidIssuerError:
            raise TokenError("the token's issuer is not accepted") from None
        except jwt.InvalidAudienceError:
            raise TokenError("the token is not for this API (aud)") from None
        except jwt.InvalidSignatureError:
            raise TokenError("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token has no {exc.claim} claim") from None
        except jwt.PyJWKClientError:
            raise TokenError("the token's signing key is not in the JWKS") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"the token is not accepted ({type(exc).__name__})") from None
        return claims

    def _signing_key(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None and len(self._keys.keys) == 1:
            return self._keys.keys[0]
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError("no such key")
