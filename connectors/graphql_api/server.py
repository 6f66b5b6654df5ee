"""One API instance: for each tenant (a ledger, by its topic prefix) the read model, the
results waiter, the command client and a card authorization engine on them, with its
clients when authentication is on; and uvicorn.

An instance holds no state of its own beyond what it can rebuild from Kafka, so any number
of instances can serve the same tenants side by side. ``start_server`` runs one in a background
thread (the demo and tests); ``ApiServer.serve_forever`` serves until SIGINT or SIGTERM
(``ledger api serve``). uvicorn always runs in a background thread, so it never installs
signal handlers of its own.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import uvicorn

from connectors.graphql_api.ach_gateway import AchGateway
from connectors.graphql_api.auth.config import AuthConfig
from connectors.graphql_api.auth.gate import Authenticator, OpenGate
from connectors.graphql_api.auth.store import AuthStore
from connectors.graphql_api.commands import CommandGateway
from connectors.graphql_api.context import Services
from connectors.graphql_api.http_app import GraphQLApp
from connectors.graphql_api.observability import ApiObservability, wait_for_topics
from connectors.graphql_api.read_model import ReadModel
from connectors.graphql_api.results import ResultWaiter
from connectors.graphql_api.schema import build_schema
from connectors.graphql_api.watermarks import SharedEnds, Watermarks
from streams.client import RESULT_TIMEOUT_S, LedgerClient
from streams.errors import LedgerError
from streams.observability import Readiness
from streams.topics import Topics

# connectors.cards builds on this package's consumer thread and results waiter: importing it
# while this package initialises would be circular, so it is imported where it is used.
if TYPE_CHECKING:
    from connectors.cards.runtime import HostedCardEngine

__all__ = ["ApiServer", "start_server"]

log = logging.getLogger(__name__)

CATCH_UP_TIMEOUT_S = 120.0
READ_TIMEOUT_S = 10.0
STARTED_TIMEOUT_S = 30.0
TOPICS_TIMEOUT_S = 120.0


class ApiServer:
    """A GraphQL API instance for one ledger or several (tenants), listening on ``url``.

    ``tenants`` maps tenant names to topic prefixes; without it (and without tenants in
    ``auth``) the one tenant is ``topics``, named after its prefix. ``auth`` turns
    authentication on. ``topics``, ``services`` and ``read_model`` are the first tenant's.
    The instance waits for its topics (not ready meanwhile, with ``observability``, whose
    requests are also measured) instead of failing without them: ``topics_timeout_s`` at
    most, or for as long as it takes with None. ``card_deadline_s`` is the card engine's
    deadline for a decision (``cards.postLithicTransaction``; None: the engine's own).
    ``ach_webhook_key`` signs ``ach.processFile``'s decisioning webhook calls (None: that
    field is refused).
    """

    def __init__(self, bootstrap: str, topics: Topics | None = None, host: str = "127.0.0.1",
                 port: int = 0, result_timeout_s: float = RESULT_TIMEOUT_S,
                 read_timeout_s: float = READ_TIMEOUT_S, auth: AuthConfig | None = None,
                 tenants: Mapping[str, str] | None = None,
                 observability: ApiObservability | None = None,
                 topics_timeout_s: float | None = TOPICS_TIMEOUT_S,
                 card_deadline_s: float | None = None,
                 ach_webhook_key: bytes | None = None) -> None:
        requested = topics or Topics()
        prefixes = dict((auth.tenants if auth is not None else None) or tenants
                        or {requested.prefix: requested.prefix})
        self.observability = observability
        wait_for_topics(bootstrap, [Topics(prefix=p) for p in prefixes.values()],
                        Readiness() if observability is None else observability.readiness,
                        topics_timeout_s)
        self.tenants: dict[str, Services] = {}
        self._cards: list[HostedCardEngine] = []
        try:
            for name, prefix in prefixes.items():
                self.tenants[name], cards = _services(
                    bootstrap, Topics(prefix=prefix, partitions=requested.partitions),
                    result_timeout_s, read_timeout_s, auth is not None, card_deadline_s,
                    ach_webhook_key)
                self._cards.append(cards)
        except BaseException:
            self._release()
            raise
        self.services = next(iter(self.tenants.values()))
        self.topics = self.services.topics
        self.read_model = self.services.read_model
        gate = OpenGate(list(self.tenants)) if auth is None else Authenticator(
            auth, {name: services.auth.table for name, services in self.tenants.items()
                   if services.auth is not None}, read_timeout_s)
        # IPPROTO_TCP, so that asyncio sets TCP_NODELAY on the connections it accepts: without
        # it every response on a kept-alive connection waits for the client's delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        app = GraphQLApp(build_schema(), self.tenants, gate, authenticated=auth is not None)
        self._uvicorn = uvicorn.Server(uvicorn.Config(
            app if observability is None else observability.metered(app),
            log_config=None, log_level="warning", access_log=False, lifespan="off", ws="none"))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The GraphQL endpoint."""
        return f"http://{self.host}:{self.port}/graphql"

    def _open(self) -> None:
        """Read each tenant's topics (and clients) to their current end, then start
        listening for results."""
        for services in self.tenants.values():
            services.read_model.start()
            if services.auth is not None:
                services.auth.table.start()
        for services in self.tenants.values():
            ends = services.watermarks.ends_blocking(services.read_model.parts())
            services.read_model.wait_for_blocking(ends, CATCH_UP_TIMEOUT_S)
            services.gateway.results.start()
        for cards in self._cards:
            cards.start(CATCH_UP_TIMEOUT_S)
        if self.observability is not None:
            self.observability.watch([(services.read_model, services.topics)
                                      for services in self.tenants.values()])

    def start(self) -> ApiServer:
        """Serve in a background thread; return once requests are accepted."""
        self._open()
        self._thread = threading.Thread(target=self._uvicorn.run,
                                        kwargs={"sockets": [self._socket]},
                                        name="api-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTED_TIMEOUT_S
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise LedgerError(f"the API did not start listening on {self.url}")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop cleanly (exit status 0 for the caller)."""
        stopping = threading.Event()
        handlers = {signum: signal.signal(signum, lambda _signum, _frame: stopping.set())
                    for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            log.info("serving the GraphQL API of ledger %r at %s", self.topics.prefix,
                     self.url)
            if len(self.tenants) > 1:
                log.info("tenants served: %s", ", ".join(
                    f"{name} ({services.topics.prefix})" for name, services in
                    self.tenants.items()))
            while not stopping.wait(0.5):
                pass
        finally:
            self.stop()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)

    def stop(self) -> None:
        """Stop serving and release everything."""
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self.observability is not None:
            self.observability.unwatch()
        self._release()
        self._socket.close()

    def _release(self) -> None:
        for cards in self._cards:
            cards.stop()
        for services in self.tenants.values():
            services.gateway.results.stop()
            services.read_model.stop()
            if services.auth is not None:
                services.auth.close()
            services.watermarks.close()
            services.ach.close()
            services.gateway.close()


def _services(bootstrap: str, requested: Topics, result_timeout_s: float,
              read_timeout_s: float, authenticated: bool, card_deadline_s: float | None,
              ach_webhook_key: bytes | None) -> tuple[Services, HostedCardEngine]:
    """What one tenant's requests work with, and the card engine among it, which the
    server starts and stops."""
    from connectors.cards.runtime import HostedCardEngine

    client = LedgerClient(bootstrap, requested, watch_results=False)
    # The partition count is the topics' own, whatever the caller assumed.
    topics = Topics(prefix=requested.prefix, partitions=client.partitions)
    read_model = ReadModel(bootstrap, topics)
    watermarks = Watermarks(bootstrap)
    results = ResultWaiter(bootstrap, topics)
    # The API names the cardholder's account, so the engine finds no card by PAN and needs
    # no PAN key.
    cards = HostedCardEngine(bootstrap, topics, client, results, deadline_s=card_deadline_s)
    return Services(topics=topics, read_model=read_model, watermarks=watermarks,
                    ends=SharedEnds(watermarks, read_model.parts()),
                    gateway=CommandGateway(client, results, result_timeout_s),
                    read_timeout_s=read_timeout_s, cards=cards.engine,
                    ach=AchGateway(bootstrap, topics.prefix, ach_webhook_key),
                    auth=AuthStore(bootstrap, topics, read_timeout_s) if authenticated
                    else None), cards


def start_server(bootstrap: str, topics: Topics | None = None, port: int = 0,
                 host: str = "127.0.0.1", result_timeout_s: float = RESULT_TIMEOUT_S,
                 auth: AuthConfig | None = None,
                 tenants: Mapping[str, str] | None = None,
                 card_deadline_s: float | None = None,
                 ach_webhook_key: bytes | None = None) -> ApiServer:
    """An API instance for the ledger at ``bootstrap``, serving in a background thread.

    ``port`` 0 picks a free port; the handle's ``url`` names the endpoint and ``stop()``
    stops it.
    """
    return ApiServer(bootstrap, topics, host=host, port=port,
                     result_timeout_s=result_timeout_s, auth=auth, tenants=tenants,
                     card_deadline_s=card_deadline_s, ach_webhook_key=ach_webhook_key).start()
