"""Signing, retry decisions, Retry-After, offsets and the configuration, without Kafka."""

import base64
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from connectors.webhooks import signing
from connectors.webhooks.config import ConfigError, load_config, parse_config
from connectors.webhooks.events import webhook_id
from connectors.webhooks.offsets import PartitionOffsets
from connectors.webhooks.retry import Verdict, backoff, retry_after, verdict
from tests.webhooks.receiver import new_secret

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789").decode()


def _subscription(**overrides: object) -> dict[str, object]:
    return {"id": "app", "url": "https://example.test/hooks", "secret": SECRET,
            "events": ["balance.updated"], **overrides}


@given(body=st.binary(max_size=2000), event_id=st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40))
def test_signatures_verify_with_the_standard_webhooks_library(body: bytes,
                                                              event_id: str) -> None:
    """The library checks our signature over any body and id."""
    secret = new_secret()
    config = parse_config({"subscriptions": [_subscription(secret=secret)]}, "test")
    now = int(datetime.now(UTC).timestamp())
    text = body.decode("latin-1").encode()
    headers = signing.headers(config.subscriptions[0].key, event_id, now, text)
    Webhook(secret).verify(text, headers, json_parse=False)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    """The oracle can fail: a wrong key does not verify."""
    from standardwebhooks.webhooks import WebhookVerificationError

    config = parse_config({"subscriptions": [_subscription()]}, "test")
    headers = signing.headers(config.subscriptions[0].key, "msg_1",
                              int(datetime.now(UTC).timestamp()), b"{}")
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(b"{}", headers)


def test_the_webhook_id_depends_on_the_event_only() -> None:
    """Same subscription and record position, same id; anything else differs."""
    first = webhook_id("app", "ledger.balances", 3, 41)
    assert first == webhook_id("app", "ledger.balances", 3, 41)
    assert len({first, webhook_id("other", "ledger.balances", 3, 41),
                webhook_id("app", "ledger.balances", 3, 42),
                webhook_id("app", "ledger.results", 3, 41)}) == 4


@pytest.mark.parametrize(("status", "expected"), [
    (200, Verdict.DELIVERED), (204, Verdict.DELIVERED), (None, Verdict.RETRY),
    (500, Verdict.RETRY), (503, Verdict.RETRY), (429, Verdict.RETRY), (408, Verdict.RETRY),
    (410, Verdict.DISABLE), (400, Verdict.DEAD_LETTER), (404, Verdict.DEAD_LETTER),
    (301, Verdict.DEAD_LETTER)])
def test_verdicts(status: int | None, expected: Verdict) -> None:
    """2xx delivered, 410 disables, 429/408/5xx/no answer retried, other refusals given up."""
    assert verdict(status) is expected


def test_backoff_grows_exponentially_within_its_cap_with_jitter() -> None:
    """Full jitter: uniform below min(cap, initial * 2^(n-1))."""
    rng = random.Random(5)
    for attempt in range(1, 30):
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        waits = [backoff(attempt, 0.5, 30.0, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2
    assert len({backoff(3, 0.5, 30.0, rng) for _ in range(20)}) > 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    """Both forms of the header; unreadable or absent is None; the past is no wait."""
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after(" 120 ", now) == 120.0
    assert retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_offsets_commit_only_below_the_lowest_event_not_done() -> None:
    """Out-of-order completions never let the committed offset pass an open event."""
    offsets = PartitionOffsets()
    assert offsets.committable is None
    for offset in (10, 11, 13, 14):
        offsets.read(offset)
    assert offsets.committable == 10
    offsets.done(11)
    offsets.done(14)
    assert offsets.committable == 10
    offsets.done(10)
    assert offsets.committable == 13
    offsets.done(13)
    assert (offsets.committable, offsets.outstanding) == (15, 0)


@given(st.permutations(list(range(30))))
def test_offsets_in_any_completion_order(order: list[int]) -> None:
    """After each completion, everything below the committable offset is done."""
    offsets = PartitionOffsets()
    for offset in range(30):
        offsets.read(offset)
    done: set[int] = set()
    for offset in order:
        offsets.done(offset)
        done.add(offset)
        committable = offsets.committable
        assert committable is not None
        assert set(range(committable)) <= done
        assert committable == 30 or committable not in done
    assert offsets.committable == 30


def test_a_bad_secret_is_named_without_being_repeated(tmp_path: Path) -> None:
    """The error says which field is wrong and never shows the value."""
    path = tmp_path / "webhooks.yaml"
    path.write_text("subscriptions:\n  - id: app\n    url: https://example.test/h\n"
                    "    secret: whsec_not*base64*supersecretvalue\n"
                    "    events: [balance.updated]\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "subscriptions.0" in message and "base64" in message
    assert "supersecretvalue" not in message


@pytest.mark.parametrize(("change", "expected"), [
    ({"events": ["balance.moved"]}, "subscriptions.0.events.0"),
    ({"events": []}, "subscriptions.0.events"),
    ({"url": "ftp://example.test"}, "subscriptions.0.url"),
    ({"accounts": ["not-a-uuid"]}, "subscriptions.0.accounts"),
    ({"events": ["result.rejected"], "journals": ["822cb59f-ce51-4837-8391-2af3b7a5fc51"]},
     "result.rejected carries no account or journal"),
    ({"secret": "whsec_" + base64.b64encode(b"short").decode()}, "at least 16 bytes"),
    ({"colour": "blue"}, "subscriptions.0.colour"),
])
def test_config_errors_name_the_field(change: dict[str, object], expected: str) -> None:
    """Each bad field gives one ConfigError that names it."""
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        parse_config({"subscriptions": [_subscription(**change)]}, "webhooks.yaml")


def test_duplicate_ids_and_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    """Two subscriptions with one id; a file that is not YAML; a file that is missing."""
    with pytest.raises(ConfigError, match="unique: app"):
        parse_config({"subscriptions": [_subscription(), _subscription()]}, "x")
    bad = tmp_path / "bad.yaml"
    bad.write_text("subscriptions: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_the_secret_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """secret_env names a variable; the secret never shows in the model's repr."""
    monkeypatch.setenv("APP_WEBHOOK_SECRET", SECRET)
    subscription = dict(_subscription())
    del subscription["secret"]
    config = parse_config({"subscriptions": [{**subscription,
                                              "secret_env": "APP_WEBHOOK_SECRET"}]}, "x")
    assert config.subscriptions[0].key == b"0123456789abcdef0123456789"
    assert SECRET not in repr(config) and SECRET.removeprefix("whsec_") not in repr(config)
    with pytest.raises(ConfigError, match="not set"):
        parse_config({"subscriptions": [{**subscription, "secret_env": "NOT_SET_ANYWHERE"}]},
                     "x")
