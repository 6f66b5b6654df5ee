"""The Lithic ASA responder: an aiohttp server in front of the authorization engine.

``POST /lithic/asa`` reads the raw body (at most ``BODY_MAX`` bytes), checks Lithic's
signature over it, validates it, has the ``Decider`` decide the card event and answers in
Lithic's format. ``GET /healthz`` answers ``{"status": "ok"}``.

Lithic waits only a few seconds for an answer, so the decider gets ``deadline_s``. A
decision still running then is answered as a decline (LEDGER_TIMEOUT) but never
cancelled: the engine voids a hold that it books after the answer went out, and a
cancellation could interrupt it between the booking and the void. Such decisions are kept
until they end, and ``stop`` waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from aiohttp import web
from pydantic import ValidationError

from connectors.cards.engine import DEADLINE_S
from connectors.cards.events import Decider, Decision, DecisionCode, UnansweredError
from connectors.cards.lithic import AsaRequest, event_from, response_for
from connectors.webhooks.signing import SignatureError, verify_signature

__all__ = ["ASA_PATH", "BODY_MAX", "HEALTH_PATH", "AsaServer", "make_app"]

log = logging.getLogger(__name__)

ASA_PATH: Final = "/lithic/asa"
HEALTH_PATH: Final = "/healthz"
BODY_MAX: Final = 64 * 1024  # real ASA requests are a few KiB
_READ_CHUNK = 16 * 1024
# How long stop() lets decisions that missed their deadline finish.
_DRAIN_S = 30.0


def _error(status: int, message: str, **detail: str) -> web.Response:
    return web.json_response({"error": message, **detail}, status=status)


class _Responder:
    """The ASA handler and the decisions that outlived their request."""

    def __init__(self, decider: Decider, key: bytes, deadline_s: float) -> None:
        self.decider = decider
        self.key = key
        self.deadline_s = deadline_s
        self.late: set[asyncio.Task[Decision]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Whatever goes wrong in one request becomes a JSON error, never a dropped connection.
        try:
            return await self._handle(request)
        except Exception:
            log.exception("lithic asa: the request failed")
            return _error(500, "internal error")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        body = await self._body(request)
        if body is None:
            return _error(413, "request body too large", limit=str(BODY_MAX))
        try:
            verify_signature(self.key, request.headers, body, time.time())
        except SignatureError as error:
            log.warning("lithic asa: refused a request: %s", error)
            return _error(401, "invalid signature")
        try:
            asa = AsaRequest.model_validate_json(body)
        except ValidationError as error:
            return _error(400, "invalid request", field=_field(error))
        try:
            decision = await self._decide(asa)
        except UnansweredError as unanswered:
            # No decision is safe to give: Lithic treats a failed request by its own rules
            # (its stand-in), and a retry of the token is decided again.
            log.warning("lithic asa token=%s: not answered: %s", asa.token, unanswered)
            return _error(503, "no decision could be made in time")
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info("lithic asa token=%s decision=%s elapsed_ms=%.1f", asa.token,
                 decision.code.value, elapsed_ms)
        return web.json_response(response_for(asa, decision))

    async def _body(self, request: web.Request) -> bytes | None:
        """The raw body, or None when it is larger than allowed (read no further then)."""
        if request.content_length is not None and request.content_length > BODY_MAX:
            return None
        chunks: list[bytes] = []
        size = 0
        # Chunked bodies announce no length: count while reading.
        while chunk := await request.content.read(_READ_CHUNK):
            size += len(chunk)
            if size > BODY_MAX:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _decide(self, asa: AsaRequest) -> Decision:
        event = event_from(asa)
        if isinstance(event, Decision):
            return event
        task = asyncio.create_task(self.decider.decide(event))
        # asyncio.wait never cancels what it waits for: a late decision carries on.
        done, _ = await asyncio.wait({task}, timeout=self.deadline_s)
        if not done:
            self.late.add(task)
            task.add_done_callback(lambda late: self._finished_late(asa.token, late))
            return Decision(DecisionCode.LEDGER_TIMEOUT,
                            f"no decision within {self.deadline_s} s")
        try:
            return task.result()
        except UnansweredError:
            raise
        except Exception:
            log.exception("lithic asa token=%s: the decider failed", asa.token)
            return Decision(DecisionCode.SYSTEM_ERROR, "the decider failed")

    def _finished_late(self, token: str, task: asyncio.Task[Decision]) -> None:
        self.late.discard(task)
        if task.cancelled():
            log.warning("lithic asa token=%s: a late decision was cancelled", token)
        elif (error := task.exception()) is not None:
            log.error("lithic asa token=%s: a late decision failed", token, exc_info=error)
        else:
            log.info("lithic asa token=%s late decision=%s (answered %s)", token,
                     task.result().code.value, DecisionCode.LEDGER_TIMEOUT.value)

    async def drain(self, timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) for the decisions that missed their deadline."""
        if self.late:
            await asyncio.wait(set(self.late), timeout=timeout_s)


def _field(error: ValidationError) -> str:
    """Where the first problem is, as a dotted path: names only, never the value sent."""
    first = error.errors(include_input=False, include_url=False)[0]
    if first["loc"]:
        return ".".join(str(part) for part in first["loc"])
    return str(first.get("ctx", {}).get("field", "body"))


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


_RESPONDER: Final = web.AppKey("lithic_responder", _Responder)


def make_app(decider: Decider, key: bytes, deadline_s: float = DEADLINE_S) -> web.Application:
    """The ASA application; ``key`` is the HMAC key (``lithic.secret_key`` of the secret)."""
    if not key:
        raise ValueError("the signing key is empty")
    if deadline_s <= 0:
        raise ValueError("the deadline must be positive")
    responder = _Responder(decider, key, deadline_s)
    # Our reader bounds the body; aiohttp's own limit only has to stay out of its way.
    app = web.Application(client_max_size=BODY_MAX + 1)
    app[_RESPONDER] = responder
    app.router.add_post(ASA_PATH, responder.handle)
    app.router.add_get(HEALTH_PATH, _health)
    return app


class AsaServer:
    """The application on a TCP port; ``port`` 0 picks a free one (read ``port`` after
    ``start``)."""

    def __init__(self, decider: Decider, key: bytes, *, host: str = "127.0.0.1",
                 port: int = 0, deadline_s: float = DEADLINE_S) -> None:
        self.host = host
        self.port = port
        self.app = make_app(decider, key, deadline_s)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The ASA endpoint."""
        return f"http://{self.host}:{self.port}{ASA_PATH}"

    async def start(self) -> AsaServer:
        """Listen; return once requests are accepted."""
        # One log line per decision is ours; an access log would only repeat it.
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]  # the port bound when 0 was asked for
        log.info("serving Lithic ASA at %s (deadline %.2f s)", self.url,
                 self.app[_RESPONDER].deadline_s)
        return self

    async def stop(self, drain_s: float = _DRAIN_S) -> None:
        """Stop listening, then let decisions that missed their deadline finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.app[_RESPONDER].drain(drain_s)

    @property
    def late_decisions(self) -> int:
        """Decisions answered as timed out that are still running."""
        return len(self.app[_RESPONDER].late)

