"""A webhook receiver on loopback for the tests: an aiohttp server on its own thread that
verifies every request with the ``standardwebhooks`` library (an independent
implementation of the signature), records what it accepted, and misbehaves on demand."""

import asyncio
import base64
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook


def new_secret() -> str:
    """A random ``whsec_`` secret."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass(frozen=True)
class Received:
    """One request the receiver verified."""

    path: str
    webhook_id: str
    type: str
    data: dict[str, Any]
    attempt: int
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """What to do with one request: a status (with headers), after a delay, or drop it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False
    # Hold the request open until this is true (at most a minute).
    hold: Callable[[], bool] | None = None


# (path, webhook-id, attempt number for that id, the event) -> what to answer
Behaviour = Callable[[str, str, int, dict[str, Any]], Answer]


def always_ok(_path: str, _id: str, _attempt: int, _event: dict[str, Any]) -> Answer:
    """Answer 200 at once."""
    return Answer()


class Receiver:
    """The server; ``url(path)`` is an endpoint, ``secrets[path]`` its secret."""

    def __init__(self, behaviour: Behaviour = always_ok) -> None:
        self.behaviour = behaviour
        self.secrets: dict[str, str] = {}
        self.received: list[Received] = []
        self.unverified: list[str] = []
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test receiver did not start")

    def endpoint(self, path: str) -> tuple[str, str]:
        """A new endpoint with its own secret: (url, secret)."""
        secret = self.secrets[path] = new_secret()
        return f"http://127.0.0.1:{self.port}/{path}", secret

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/{path}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        body = await request.read()
        headers = dict(request.headers)
        try:
            event = Webhook(self.secrets[path]).verify(body, headers)
        except Exception as exc:
            with self._lock:
                self.unverified.append(f"{path}: {type(exc).__name__}: {exc}")
            return web.Response(status=400)
        webhook_id = headers["webhook-id"]
        with self._lock:
            self.attempts[webhook_id] += 1
            attempt = self.attempts[webhook_id]
        answer = self.behaviour(path, webhook_id, attempt, event)
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        for _ in range(1200):
            if answer.hold is None or answer.hold():
                break
            await asyncio.sleep(0.05)
        if answer.drop:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        if 200 <= answer.status < 300:
            with self._lock:
                self.received.append(Received(path, webhook_id, event["type"], event["data"],
                                              attempt, answer.status, body, headers))
        return web.Response(status=answer.status, headers=answer.headers)

    def accepted(self, path: str) -> list[Received]:
        """What ``path`` accepted, in arrival order."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        """Stop the server."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
