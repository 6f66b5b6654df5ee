"""The ISO 8583 authorization server: framed messages over TCP, decided by the engine.

Each connection carries many messages in flight: every frame is handled in its own task,
and its response is written whenever its decision is ready, so a slow decision never holds
up the ones behind it. The network matches responses to requests by STAN (11) and RRN (37).
A frame that breaks a rule is answered with ``30`` (format error) when its MTI can be read,
and is logged with its bytes, card data masked; the connection goes on either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from connectors.cards.events import (
    CardEvent,
    CardEventKind,
    Decider,
    Decision,
    DecisionCode,
    UnansweredError,
)
from iso8583_spec import codes, framing, mti
from iso8583_spec.codec import EncodeFailedError, decode, encode
from iso8583_spec.masking import masked_hex
from iso8583_spec.message import Message, Undecodable
from iso8583_spec.reading import (
    amount,
    card_number,
    currency_alpha,
    message_key,
    original_key,
    replacement_amount,
)
from iso8583_spec.responses import format_error_response, response
from iso8583_spec.validation import problems, response_code_for
from ledger_core.iso8583_configs import Iso8583Config

__all__ = ["RESPONSE_CODES", "Iso8583Server"]

log = logging.getLogger(__name__)

READ_CHUNK = 65_536

RESPONSE_CODES: Mapping[DecisionCode, str] = {
    DecisionCode.APPROVED: codes.APPROVED,
    DecisionCode.INSUFFICIENT_FUNDS: codes.INSUFFICIENT_FUNDS,
    DecisionCode.UNKNOWN_CARD: codes.INVALID_CARD_NUMBER,
    DecisionCode.CARD_LOCKED: codes.RESTRICTED_CARD,
    DecisionCode.ACCOUNT_LOCKED: codes.DO_NOT_HONOR,
    DecisionCode.AMOUNT_INVALID: codes.INVALID_AMOUNT,
    DecisionCode.FORMAT_ERROR: codes.FORMAT_ERROR,
    DecisionCode.SYSTEM_ERROR: codes.SYSTEM_MALFUNCTION,
    DecisionCode.LEDGER_TIMEOUT: codes.ISSUER_UNAVAILABLE,
}
# By MTI without its repeat digit: a repeat is the same event, found by the same key.
_KINDS: Mapping[str, CardEventKind] = {
    mti.AUTHORIZATION_REQUEST[:3]: CardEventKind.AUTHORIZATION,
    mti.AUTHORIZATION_ADVICE[:3]: CardEventKind.ADVICE,
    mti.REVERSAL_REQUEST[:3]: CardEventKind.REVERSAL,
    mti.REVERSAL_ADVICE[:3]: CardEventKind.REVERSAL,
    mti.FINANCIAL_ADVICE[:3]: CardEventKind.CLEARING,
}


class Iso8583Server:
    """Serves one spec variant ("ascii" or "binary") on a TCP port. With ``config`` (an
    ``iso8583.createConfig``), the bookings go to its journal and settlement account."""

    def __init__(self, decider: Decider, spec_name: str, host: str = "127.0.0.1",
                 port: int = 0, config: Iso8583Config | None = None) -> None:
        self.decider = decider
        self.spec_name = spec_name
        self.config = config
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen; ``port`` is the bound port afterwards (0 picks a free one)."""
        self._server = await asyncio.start_server(self._connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("ISO 8583 (%s) server listening on %s:%d", self.spec_name, self.host, self.port)

    async def stop(self) -> None:
        """Stop accepting, and let the messages in flight be answered."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        frames = framing.FrameReader()
        write_lock = asyncio.Lock()
        try:
            while data := await reader.read(READ_CHUNK):
                for payload in frames.feed(data):
                    if isinstance(payload, framing.RefusedFrame):
                        log.warning("ISO 8583 %s: %s", peer, payload.reason)
                        continue
                    task = asyncio.ensure_future(self._answer(payload, writer, write_lock))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("ISO 8583 %s: connection ended: %s", peer, exc)
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()

    async def _answer(self, payload: bytes, writer: asyncio.StreamWriter,
                      write_lock: asyncio.Lock) -> None:
        try:
            answer = await self.respond(payload)
        except UnansweredError as unanswered:
            # Silence, not a 91 that could not be kept: the network repeats or reverses.
            log.warning("ISO 8583: not answered: %s", unanswered)
            return
        except Exception:  # one message must never end the connection or the server
            log.exception("ISO 8583: a message could not be answered: %s", masked_hex(payload))
            return
        if answer is None or writer.is_closing():
            return
        async with write_lock:
            with contextlib.suppress(ConnectionError):
                writer.write(framing.frame(answer))
                await writer.drain()

    async def respond(self, payload: bytes) -> bytes | None:
        """The response payload to one request payload; None when there is nobody to answer
        (no MTI could be read, or the message takes no response)."""
        decoded = decode(payload, self.spec_name)
        if isinstance(decoded, Undecodable):
            log.warning("ISO 8583: undecodable frame (%s): %s", decoded.reason,
                        masked_hex(payload))
            answer = format_error_response(decoded)
            return None if answer is None else self._encoded(answer)
        found = problems(decoded)
        if found:
            log.warning("ISO 8583: %s refused: %s", decoded.mti,
                        "; ".join(str(problem) for problem in found))
            return self._encoded(response(decoded, response_code_for(found)))
        if decoded.mti[:3] == mti.NETWORK_REQUEST[:3]:
            return self._encoded(response(decoded, codes.APPROVED))
        decision = await self.decider.decide(self._event(decoded))
        return self._encoded(response(decoded, RESPONSE_CODES[decision.code],
                                      _approval(decoded, decision)))

    def _encoded(self, message: Message) -> bytes | None:
        try:
            return encode(message, self.spec_name)
        except EncodeFailedError as exc:
            log.error("ISO 8583: the %s response cannot be encoded: %s", message.mti, exc)
            return None

    def _event(self, message: Message) -> CardEvent:
        kind = _KINDS[message.mti[:3]]
        key = message_key(message)
        has_card = message.get(2) is not None or message.get(35) is not None
        return CardEvent(
            kind=kind, key=key, hold_key=original_key(message) or key,
            amount=amount(message), currency=currency_alpha(message),
            pan=card_number(message) if has_card else None,
            replacement_amount=replacement_amount(message) if message.get(95) else None,
            # A 0220 below what is held may be one of several (a split shipment): it releases
            # its own amount, and the rest stays held for the clearings or reversal to come.
            final=False,
            journal_id=None if self.config is None else self.config.journal_id,
            settlement_account_id=None if self.config is None
            else self.config.settlement_account_id,
        )


def _approval(message: Message, decision: Decision) -> str | None:
    if message.mti[:3] != mti.AUTHORIZATION_REQUEST[:3]:
        return None
    return decision.approval_code
