"""Authentication and authorization on the real broker, processor and API.

Tokens are signed by an RSA key made here, its JWKS in a file (and, for one test, served
over HTTP on loopback). Each client lets in one issuer, so each test's token names the
issuer of the client whose policies it exercises.
"""

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from confluent_kafka.admin import AdminClient  # type: ignore[attr-defined]
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from connectors.graphql_api import run_tutorial
from connectors.graphql_api.auth.admin import ADMINISTRATOR, create_api_key, create_client
from connectors.graphql_api.auth.config import AuthConfig, OidcConfig
from streams.client import read_partition
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.topics import Topics, ensure_topics
from tests.api.conftest import LiveApi, fresh_ledger, live_api

ISSUER = "https://idp.test/"
AUDIENCE = "ledger-api"
KID = "test-key-1"
READER_A, DENIED_POSTER, ACCOUNTS_ONLY, MANAGED = (
    f"{ISSUER}{name}" for name in ("reader-a", "denied-poster", "accounts-only", "managed"))
EVERYTHING = ["SELECT", "INSERT", "UPDATE", "DELETE"]

CREATE_JOURNAL = "mutation J($input: JournalInput!) { createJournal(input: $input) { journalId } }"
CREATE_ACCOUNT = "mutation A($input: AccountInput!) { createAccount(input: $input) { accountId } }"
CREATE_TRAN_CODE = """
mutation T($input: TranCodeInput!) { createTranCode(input: $input) { tranCodeId } }
"""
POST = """
mutation P($id: UUID!, $code: String!, $params: JSON) {
  postTransaction(input: {transactionId: $id, tranCode: $code, params: $params}) { journalId }
}
"""
TRANSACTION = "query T($id: UUID!) { transaction(id: $id) { transactionId journalId } }"
BALANCE = """
query B($account: UUID!, $journal: UUID!) {
  account(id: $account) {
    name balance(journalId: $journal) { settled { normalBalance { units } } }
  }
}
"""
TRANSACTIONS = """
query L($where: TransactionFilterInput) {
  transactions(index: {name: TRANSACTION_ID}, where: $where, first: 10) {
    nodes { transactionId }
  }
}
"""
ENTRIES = """
query E($account: UUID!) {
  account(id: $account) { entries(first: 50) { nodes { journalId units } } }
}
"""


def rsa_key() -> RSAPrivateKey:
    """A fresh RSA signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(key: RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    """The JWKS that publishes ``key``'s public half."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}


@dataclass
class Signer:
    """Makes tokens with the test key."""

    key: RSAPrivateKey

    def token(self, issuer: str, audience: str = AUDIENCE, expires_in: float = 300,
              key: RSAPrivateKey | None = None, kid: str = KID, **claims: Any) -> str:
        """A signed token; ``key`` signs it instead of the published key when given."""
        now = int(time.time())
        body = {"iss": issuer, "aud": audience, "sub": "someone", "iat": now,
                "exp": now + int(expires_in), **claims}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})


@dataclass
class Ledgers:
    """Two journals with one posting each on one customer account."""

    code: str
    customer: uuid.UUID
    journal_a: uuid.UUID
    journal_b: uuid.UUID
    posted_a: uuid.UUID
    posted_b: uuid.UUID


@dataclass
class AuthApi:
    """An authenticated API on a ledger, its signer and an administrator's key."""

    live: LiveApi
    signer: Signer
    admin_key: str
    ledgers: Ledgers

    def call(self, credential: str | None, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """POST a request with ``credential`` as its bearer (none: no Authorization)."""
        sent = dict(headers or {})
        if credential is not None:
            sent["authorization"] = f"Bearer {credential}"
        return self.live.http.post(self.live.server.url, headers=sent,
                                   json={"query": query, "variables": variables or {}})

    def data(self, credential: str, query: str,
             variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request that must succeed; its data."""
        response = self.call(credential, query, variables)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.json()
        data: dict[str, Any] = response.json()["data"]
        return data

    def errors(self, credential: str, query: str,
               variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A request answered 200 with errors; the errors."""
        response = self.call(credential, query, variables)
        assert response.status_code == 200, response.text
        errors: list[dict[str, Any]] = response.json()["errors"]
        return errors


def commands_sent(live: LiveApi) -> int:
    """How many records the ledger's command topics hold."""
    topics = live.ledger.topics
    return len(live.ledger.read(topics.commands)) + len(live.ledger.read(topics.catalog_commands))


def open_ledgers(api: AuthApi) -> Ledgers:
    """Journals A and B, a tran code that posts into the journal a param names, a customer,
    and a deposit in each journal; all through the API with the administrator's key."""
    key = api.admin_key
    journal_a, journal_b, house, customer = (uuid.uuid4() for _ in range(4))
    for journal, name in ((journal_a, "A"), (journal_b, "B")):
        api.data(key, CREATE_JOURNAL, {"input": {"journalId": str(journal), "name": name}})
    api.data(key, CREATE_ACCOUNT, {"input": {"accountId": str(house), "code": f"H.{house.hex[:8]}",
                                             "name": "House", "normalBalanceType": "DEBIT"}})
    api.data(key, CREATE_ACCOUNT, {"input": {"accountId": str(customer),
                                             "code": f"C.{customer.hex[:8]}",
                                             "name": "Customer"}})
    code = f"DEPOSIT_{uuid.uuid4().hex[:6].upper()}"
    api.data(key, CREATE_TRAN_CODE, {"input": {
        "tranCodeId": str(uuid.uuid4()), "code": code,
        "params": [{"name": "account", "type": "UUID"}, {"name": "amount", "type": "DECIMAL"},
                   {"name": "journal", "type": "UUID"}],
        "transaction": {"journalId": "params.journal"},
        "entries": [{"accountId": f"uuid('{house}')", "units": "params.amount",
                     "currency": "'USD'", "direction": "DEBIT"},
                    {"accountId": "params.account", "units": "params.amount",
                     "currency": "'USD'", "direction": "CREDIT"}]}})
    posted = []
    for journal, amount in ((journal_a, "1.25"), (journal_b, "7.50")):
        transaction_id = uuid.uuid4()
        api.data(key, POST, {"id": str(transaction_id), "code": code, "params": {
            "account": str(customer), "amount": amount, "journal": str(journal)}})
        posted.append(transaction_id)
    return Ledgers(code, customer, journal_a, journal_b, posted[0], posted[1])


def oidc(jwks_file: Path | None = None, jwks_url: str | None = None,
         tenant_claim: str | None = None) -> OidcConfig:
    """The test issuers' token checks."""
    return OidcConfig(issuers=(READER_A, DENIED_POSTER, ACCOUNTS_ONLY, MANAGED, ISSUER),
                      audience=AUDIENCE, jwks_file=jwks_file, jwks_url=jwks_url,
                      algorithms=("RS256",), leeway_s=5, tenant_claim=tenant_claim)


@pytest.fixture(scope="module")
def auth_api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthApi]:
    """An API with authentication on (JWKS from a file) over a ledger of two journals."""
    home = tmp_path_factory.mktemp("auth")
    signer = Signer(rsa_key())
    (home / "jwks.json").write_text(json.dumps(jwks(signer.key)))
    ledger = fresh_ledger(kafka_bootstrap, home)
    for live in live_api(ledger, auth=AuthConfig(oidc=oidc(home / "jwks.json"))):
        admin_key, _ = create_api_key(kafka_bootstrap, ledger.topics, ledger.topics.prefix,
                                      "administrator", ADMINISTRATOR)
        api = AuthApi(live, signer, admin_key, Ledgers("", *(uuid.uuid4(),) * 5))
        api.ledgers = open_ledgers(api)
        yield api


def test_a_request_without_credentials_is_401(auth_api: AuthApi) -> None:
    """No Authorization, another scheme, or a key that is not one: 401 unauthenticated."""
    for headers in ({}, {"authorization": "Basic dXNlcjpwYXNz"},
                    {"authorization": "Bearer lk.nope"}):
        response = auth_api.live.http.post(auth_api.live.server.url, headers=headers,
                                           json={"query": "{ journal { code } }"})
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["errors"][0]["extensions"]["rule"] == "unauthenticated"
    assert auth_api.data(auth_api.admin_key, "{ journal { code } }") == {
        "journal": {"code": "DEFAULT"}}


def test_expired_wrong_issuer_wrong_audience_and_bad_signature_are_401(
    auth_api: AuthApi,
) -> None:
    """Each failed check is 401 with its reason and never the token; a good token passes."""
    live, signer = auth_api.live, auth_api.signer
    create_client(live.ledger.bootstrap, live.ledger.topics, ISSUER, "everyone",
                  [{"effect": "ALLOW", "actions": ["SELECT"], "resources": ["*"]}])
    good = signer.token(ISSUER)
    assert auth_api.data(good, "{ journal { code } }") == {"journal": {"code": "DEFAULT"}}
    refused = {
        "expired": signer.token(ISSUER, expires_in=-60),
        "issuer": signer.token("https://elsewhere.test/"),
        "this API": signer.token(ISSUER, audience="another-api"),
        "signature": signer.token(ISSUER, key=rsa_key()),
        "not in the JWKS": signer.token(ISSUER, kid="unknown"),
        "not valid yet": signer.token(ISSUER, nbf=int(time.time()) + 600),
    }
    for reason, token in refused.items():
        response = auth_api.call(token, "{ journal { code } }")
        assert response.status_code == 401, (reason, response.text)
        error = response.json()["errors"][0]
        assert error["extensions"]["rule"] == "unauthenticated"
        assert reason in error["message"]
        assert token not in response.text
    unknown_issuer = auth_api.call(signer.token(MANAGED), "{ journal { code } }")
    assert unknown_issuer.status_code == 401  # accepted issuer, but no client holds it yet


def test_a_reader_of_journal_a_cannot_see_journal_b(auth_api: AuthApi) -> None:
    """Transactions, balances and entries are served only where their journalId is A."""
    live, ledgers = auth_api.live, auth_api.ledgers
    in_a = f"context.document.journalId == '{ledgers.journal_a}'"
    create_client(live.ledger.bootstrap, live.ledger.topics, READER_A, "reader of A", [
        {"effect": "ALLOW", "actions": ["SELECT"],
         "resources": ["financial.Account", "financial.Journal"]},
        {"effect": "ALLOW", "actions": ["SELECT"],
         "resources": ["financial.Transaction", "financial.Balance", "financial.Entry"],
         "assertions": {"journalA": in_a}}])
    reader = auth_api.signer.token(READER_A)
    seen = auth_api.data(reader, TRANSACTION, {"id": str(ledgers.posted_a)})
    assert seen["transaction"]["journalId"] == str(ledgers.journal_a)
    hidden = auth_api.errors(reader, TRANSACTION, {"id": str(ledgers.posted_b)})
    assert [e["extensions"]["rule"] for e in hidden] == ["forbidden"]
    balance = {"account": str(ledgers.customer)}
    assert auth_api.data(reader, BALANCE, {**balance, "journal": str(ledgers.journal_a)})[
        "account"]["balance"]["settled"]["normalBalance"]["units"] == "1.25"
    other = auth_api.call(reader, BALANCE, {**balance, "journal": str(ledgers.journal_b)}).json()
    assert other["errors"][0]["extensions"]["rule"] == "forbidden"
    assert other["data"]["account"] == {"name": "Customer", "balance": None}
    entries = auth_api.data(reader, ENTRIES, balance)["account"]["entries"]["nodes"]
    assert entries == [{"journalId": str(ledgers.journal_a), "units": "1.25"}]
    admin_entries = auth_api.data(auth_api.admin_key, ENTRIES, balance)
    assert len(admin_entries["account"]["entries"]["nodes"]) == 2
    ids = sorted([str(ledgers.posted_a), str(ledgers.posted_b)])
    listed = {"where": {"transactionId": {"between": {"begin": ids[0], "end": ids[1]}}}}
    assert auth_api.data(reader, TRANSACTIONS, listed)["transactions"]["nodes"] == [
        {"transactionId": str(ledgers.posted_a)}]
    assert len(auth_api.data(auth_api.admin_key, TRANSACTIONS, listed)["transactions"][
        "nodes"]) == 2


def test_a_read_only_key_cannot_post_and_nothing_is_written(auth_api: AuthApi) -> None:
    """A key allowed SELECT only reads; its posting is forbidden and sends no command."""
    live, ledgers = auth_api.live, auth_api.ledgers
    key, _ = create_api_key(live.ledger.bootstrap, live.ledger.topics, live.ledger.topics.prefix,
                            "read only", [{"effect": "ALLOW", "actions": ["SELECT"],
                                           "resources": ["*"]}])
    assert auth_api.data(key, TRANSACTION, {"id": str(ledgers.posted_b)})["transaction"]
    before = commands_sent(live)
    attempt = uuid.uuid4()
    for document in (POST, POST.replace("postTransaction", "first: postTransaction", 1)):
        errors = auth_api.errors(key, document, {"id": str(attempt), "code": ledgers.code,
                                                 "params": {"account": str(ledgers.customer),
                                                            "amount": "1.00",
                                                            "journal": str(ledgers.journal_a)}})
        assert [e["extensions"]["rule"] for e in errors] == ["forbidden"]
        assert errors[0]["extensions"]["action"] == "INSERT"
        assert errors[0]["extensions"]["resource"] == "financial.Transaction"
    both = ("mutation($j: JournalInput!) { queries { journal { code } } "
            "createJournal(input: $j) { journalId } }")
    errors = auth_api.errors(key, both, {"j": {"journalId": str(uuid.uuid4()), "name": "X"}})
    assert errors[0]["extensions"]["rule"] == "forbidden"
    assert commands_sent(live) == before
    assert auth_api.data(auth_api.admin_key, TRANSACTION, {"id": str(attempt)}) == {
        "transaction": None}


def test_deny_beats_allow_and_no_matching_allow_is_forbidden(auth_api: AuthApi) -> None:
    """ALLOW everything with DENY INSERT on transactions cannot post but reads; a client
    allowed accounts only cannot read a balance."""
    live, ledgers = auth_api.live, auth_api.ledgers
    create_client(live.ledger.bootstrap, live.ledger.topics, DENIED_POSTER, "denied poster", [
        {"effect": "ALLOW", "actions": EVERYTHING, "resources": ["*"]},
        {"effect": "DENY", "actions": ["INSERT"], "resources": ["financial.Transaction"]}])
    create_client(live.ledger.bootstrap, live.ledger.topics, ACCOUNTS_ONLY, "accounts only", [
        {"effect": "ALLOW", "actions": ["SELECT"], "resources": ["financial.Account"]}])
    denied = auth_api.signer.token(DENIED_POSTER)
    before = commands_sent(live)
    errors = auth_api.errors(denied, POST, {"id": str(uuid.uuid4()), "code": ledgers.code,
                                            "params": {"account": str(ledgers.customer),
                                                       "amount": "2.00",
                                                       "journal": str(ledgers.journal_a)}})
    assert [e["extensions"]["rule"] for e in errors] == ["forbidden"]
    assert commands_sent(live) == before
    assert auth_api.data(denied, TRANSACTION, {"id": str(ledgers.posted_a)})["transaction"]
    accounts = auth_api.signer.token(ACCOUNTS_ONLY)
    name = "query N($id: UUID!) { account(id: $id) { name } }"
    assert auth_api.data(accounts, name, {"id": str(ledgers.customer)}) == {
        "account": {"name": "Customer"}}
    errors = auth_api.errors(accounts, BALANCE, {"account": str(ledgers.customer),
                                                 "journal": str(ledgers.journal_a)})
    assert [(e["extensions"]["rule"], e["extensions"]["resource"]) for e in errors] == [
        ("forbidden", "financial.Balance")]


CREATE_CLIENT = """
mutation C($input: ClientInput!) {
  auth { createClient(input: $input) { principal name policies { effect actions resources } } }
}
"""
UPDATE_CLIENT = """
mutation U($principal: String!, $input: ClientUpdateInput!) {
  auth { updateClient(principal: $principal, input: $input) { name } }
}
"""
DELETE_CLIENT = """
mutation D($principal: String!) { auth { deleteClient(principal: $principal) { principal } } }
"""
CLIENTS = "{ auth { clients { principal name } } }"


def test_client_management_works_and_is_itself_authorized(auth_api: AuthApi) -> None:
    """The administrator creates, lists, updates and deletes a client, each change holding
    at once; a client without rights on system.Client can do none of it."""
    admin = auth_api.admin_key
    token = auth_api.signer.token(MANAGED)
    created = auth_api.data(admin, CREATE_CLIENT, {"input": {
        "principal": MANAGED, "name": "managed",
        "policies": [{"effect": "ALLOW", "actions": ["SELECT"],
                      "resources": ["financial.Journal"]}]}})
    assert created["auth"]["createClient"] == {
        "principal": MANAGED, "name": "managed",
        "policies": [{"effect": "ALLOW", "actions": ["SELECT"],
                      "resources": ["financial.Journal"]}]}
    assert auth_api.data(token, "{ journal { code } }") == {"journal": {"code": "DEFAULT"}}
    listed = auth_api.data(admin, CLIENTS)["auth"]["clients"]
    assert {"principal": MANAGED, "name": "managed"} in listed
    assert all("lk." not in json.dumps(client) for client in listed)
    for document, variables in (
            (CLIENTS, None),
            (CREATE_CLIENT, {"input": {"principal": "https://x.test/", "name": "x",
                                       "policies": []}}),
            (DELETE_CLIENT, {"principal": MANAGED})):
        errors = auth_api.errors(token, document, variables)
        assert [e["extensions"]["rule"] for e in errors] == ["forbidden"]
    auth_api.data(admin, UPDATE_CLIENT, {"principal": MANAGED, "input": {
        "name": "managed, no rights", "policies": []}})
    errors = auth_api.errors(token, "{ journal { code } }")
    assert errors[0]["extensions"]["rule"] == "forbidden"
    duplicate = auth_api.errors(admin, CREATE_CLIENT, {"input": {
        "principal": MANAGED, "name": "again", "policies": []}})
    assert duplicate[0]["extensions"]["rule"] == "client_exists"
    auth_api.data(admin, DELETE_CLIENT, {"principal": MANAGED})
    assert auth_api.call(token, "{ journal { code } }").status_code == 401


def test_the_auth_topic_holds_no_secret(auth_api: AuthApi) -> None:
    """Keys are on the topic as salted hashes only."""
    live = auth_api.live
    secret = auth_api.admin_key.rsplit(".", 1)[1]
    records = read_partition(live.ledger.bootstrap, f"{live.ledger.topics.prefix}.auth", 0)
    assert records
    values = b"".join(record.value() or b"" for record in records)
    assert secret.encode() not in values
    assert auth_api.admin_key.encode() not in values


def test_ledger_auth_create_key_prints_a_key_that_is_accepted(auth_api: AuthApi) -> None:
    """The CLI's key works at once against the running API, with its policies."""
    ledger = auth_api.live.ledger
    policy = ledger.home / "journals.yaml"
    policy.write_text("policies:\n  - effect: ALLOW\n    actions: [SELECT]\n"
                      "    resources: [financial.Journal]\n")
    made = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "auth", "create-key", "--json", "--name", "cli",
         "--policy-file", str(policy), "--bootstrap-servers", ledger.bootstrap,
         "--topic-prefix", ledger.topics.prefix], capture_output=True, text=True, timeout=120,
        check=False)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    assert auth_api.data(key, "{ journal { code } }") == {"journal": {"code": "DEFAULT"}}
    errors = auth_api.errors(key, TRANSACTION, {"id": str(auth_api.ledgers.posted_a)})
    assert errors[0]["extensions"]["rule"] == "forbidden"


def test_the_tutorial_runs_with_an_administrator_s_key_and_not_without(
    auth_api: AuthApi,
) -> None:
    """What the demo does against an authenticating API: its documents, as a key's."""
    url = auth_api.live.server.url
    with pytest.raises(LedgerError, match="401"):
        run_tutorial(url)
    balances = {b.code: b.normal for b in run_tutorial(url, auth_api.admin_key)}
    assert balances["ERNIE.CHECKING"] == "5.25"


class _JwksHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def tenants_api(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[AuthApi, Topics]]:
    """An API serving two tenants (the second ledger's topics made without a processor),
    tokens checked against a JWKS served over HTTP on loopback, the tenant in a claim."""
    signer = Signer(rsa_key())
    handler = type("Handler", (_JwksHandler,), {"body": json.dumps(jwks(signer.key)).encode()})
    jwks_server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=jwks_server.serve_forever, daemon=True).start()
    ledger = fresh_ledger(kafka_bootstrap, tmp_path)
    other = Topics(prefix=f"b{uuid.uuid4().hex[:10]}", partitions=4)
    ensure_topics(AdminClient(kafka_config(kafka_bootstrap)), other)
    url = f"http://127.0.0.1:{jwks_server.server_address[1]}/jwks.json"
    config = AuthConfig(oidc=oidc(jwks_url=url, tenant_claim="tenant"),
                        tenants={"alpha": ledger.topics.prefix, "beta": other.prefix})
    try:
        for live in live_api(ledger, auth=config):
            key, _ = create_api_key(kafka_bootstrap, ledger.topics, "alpha", "admin",
                                    ADMINISTRATOR)
            yield AuthApi(live, signer, key, Ledgers("", *(uuid.uuid4(),) * 5)), other
    finally:
        jwks_server.shutdown()
        jwks_server.server_close()


def test_a_tenant_s_tokens_and_keys_never_reach_another_tenant(
    tenants_api: tuple[AuthApi, Topics],
) -> None:
    """A token (keys from the HTTP JWKS) reads its own tenant; the same issuer's token for
    the other tenant, where no client holds it, is 401; a key with another tenant's header
    is 403; each tenant sees its own ledger."""
    api, other = tenants_api
    live = api.live
    create_client(live.ledger.bootstrap, live.ledger.topics, ISSUER, "alpha readers",
                  [{"effect": "ALLOW", "actions": ["SELECT"], "resources": ["*"]}])
    alpha = api.signer.token(ISSUER, tenant="alpha")
    assert api.data(alpha, "{ journal { code } }") == {"journal": {"code": "DEFAULT"}}
    beta = api.signer.token(ISSUER, tenant="beta")
    assert api.call(beta, "{ journal { code } }").status_code == 401
    assert api.call(api.signer.token(ISSUER, tenant="gamma"), "{ journal { code } }"
                    ).status_code == 401
    assert api.call(api.signer.token(ISSUER), "{ journal { code } }").status_code == 401
    crossing = api.call(api.admin_key, "{ journal { code } }",
                        headers={"x-twisp-account-id": "beta"})
    assert crossing.status_code == 403
    assert crossing.json()["errors"][0]["extensions"]["rule"] == "forbidden"
    create_client(live.ledger.bootstrap, other, ISSUER, "beta readers",
                  [{"effect": "ALLOW", "actions": ["SELECT"], "resources": ["*"]}])
    journal = uuid.uuid4()
    api.data(api.admin_key, CREATE_JOURNAL, {"input": {"journalId": str(journal),
                                                       "name": "alpha's"}})
    named = "query J($id: UUID!) { journal(id: $id) { name } }"
    assert api.data(alpha, named, {"id": str(journal)}) == {"journal": {"name": "alpha's"}}
    assert api.data(beta, named, {"id": str(journal)}) == {"journal": None}
    beta_key, _ = create_api_key(live.ledger.bootstrap, other, "beta", "beta admin",
                                 ADMINISTRATOR)
    assert api.data(beta_key, named, {"id": str(journal)}) == {"journal": None}
    assert {c["name"] for c in api.data(beta_key, CLIENTS)["auth"]["clients"]} == {
        "beta readers", "beta admin"}
    assert "alpha readers" in {c["name"] for c in api.data(api.admin_key, CLIENTS)["auth"][
        "clients"]}
