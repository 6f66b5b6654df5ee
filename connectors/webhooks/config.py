"""The webhook sink's configuration file: subscriptions and delivery settings.

The file is validated once, where it enters; every error names the field that is wrong and
never repeats the value it holds (a wrong value may be a signing secret).
"""

import base64
import binascii
import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from streams.errors import LedgerError

SECRET_PREFIX = "whsec_"


class ConfigError(LedgerError):
    """The webhook configuration file cannot be used as it is."""


class EventType(StrEnum):
    """The events a subscription may ask for."""

    BALANCE_UPDATED = "balance.updated"
    TRANSACTION_POSTED = "transaction.posted"
    TRANSACTION_VOIDED = "transaction.voided"
    RESULT_REJECTED = "result.rejected"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(_Strict):
    """How long an event is tried before it goes to the dead-letter topic."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    max_age_seconds: float = Field(default=3600.0, gt=0)
    initial_backoff_seconds: float = Field(default=0.5, gt=0)
    max_backoff_seconds: float = Field(default=60.0, gt=0)
    # A Retry-After longer than this is shortened to it: a receiver cannot park a key for
    # longer than the operator allows.
    max_retry_after_seconds: float = Field(default=600.0, gt=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)


class Subscription(_Strict):
    """One endpoint and the events it receives."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    name: str | None = None
    url: str = Field(pattern=r"^https?://[^\s]+$")
    secret: SecretStr
    events: tuple[EventType, ...] = Field(min_length=1)
    accounts: frozenset[UUID] = frozenset()
    journals: frozenset[UUID] = frozenset()
    # Where a subscription that has never run starts reading: the events that are new from
    # now on, or every event the topics still hold.
    start: Literal["latest", "earliest"] = "latest"

    @model_validator(mode="before")
    @classmethod
    def _secret_from_environment(cls, data: Any) -> Any:
        if isinstance(data, dict) and "secret_env" in data:
            data = dict(data)
            name = data.pop("secret_env")
            if "secret" in data:
                raise ValueError("give secret or secret_env, not both")
            if not isinstance(name, str) or name not in os.environ:
                raise ValueError("secret_env names an environment variable that is not set")
            data["secret"] = os.environ[name]
        return data

    @model_validator(mode="after")
    def _check(self) -> "Subscription":
        signing_key(self.secret)
        if EventType.RESULT_REJECTED in self.events and (self.accounts or self.journals):
            raise ValueError("result.rejected carries no account or journal: a subscription "
                             "that filters by accounts or journals cannot receive it")
        return self

    @property
    def key(self) -> bytes:
        """The HMAC key: the secret's base64 part, decoded."""
        return signing_key(self.secret)


class WebhookConfig(_Strict):
    """The whole file."""

    subscriptions: tuple[Subscription, ...] = Field(min_length=1)
    retry: RetryPolicy = RetryPolicy()
    # Events read but not yet delivered or dead-lettered, per subscription: past it the
    # subscription's partitions are paused until half of them are done.
    max_pending_events: int = Field(default=10_000, ge=1)
    # HTTP requests in flight at once, per subscription.
    max_concurrent_requests: int = Field(default=64, ge=1, le=10_000)

    @model_validator(mode="after")
    def _unique_ids(self) -> "WebhookConfig":
        ids = [s.id for s in self.subscriptions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"subscription ids must be unique: {', '.join(duplicates)}")
        return self

    def subscription(self, subscription_id: str) -> Subscription:
        """The subscription with ``subscription_id``."""
        for subscription in self.subscriptions:
            if subscription.id == subscription_id:
                return subscription
        known = ", ".join(s.id for s in self.subscriptions)
        raise ConfigError(f"no subscription {subscription_id!r} in the configuration "
                          f"(it has: {known})")


def signing_key(secret: SecretStr) -> bytes:
    """The key of a ``whsec_<base64>`` secret; ValueError (without the secret) otherwise."""
    text = secret.get_secret_value()
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(f"the secret must start with {SECRET_PREFIX} and then be base64")
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the secret after {SECRET_PREFIX} is not valid base64") from None
    if len(key) < 16:
        raise ValueError("the secret must hold at least 16 bytes (24 base64 characters)")
    return key


def parse_config(document: Any, source: str) -> WebhookConfig:
    """Validate a parsed document; ConfigError names every problem by field."""
    try:
        return WebhookConfig.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "the file"
            problems.append(f"{where}: {error['msg']}")
        raise ConfigError(f"{source} is not a valid webhook configuration: "
                          + "; ".join(problems)) from None


def load_config(path: Path) -> WebhookConfig:
    """Read and validate the YAML (or JSON) configuration file at ``path``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = "" if mark is None else f" (line {mark.line + 1})"
        raise ConfigError(f"{path} is not valid YAML{where}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path} must hold one mapping with a subscriptions list")
    return parse_config(document, str(path))
