"""A network's side of the ISO 8583 link: builds messages, sends them, matches the responses.

It is a real TCP client (the demo, the benchmark and the tests drive the server with it),
with many requests in flight on one connection: each response is matched to its request by
STAN (11) and RRN (37), as a network matches them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from iso8583_spec import framing
from iso8583_spec.codec import decode, encode
from iso8583_spec.message import Message, Undecodable

__all__ = ["Iso8583Client", "Purchase"]

RESPONSE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Purchase:
    """What a network knows of one card purchase: enough to build its messages."""

    pan: str
    stan: str  # 6 digits
    rrn: str  # 12 characters
    transmitted: datetime
    amount: Decimal  # major units, 2 decimals (USD)
    acquirer: str = "12345678901"
    terminal: str = "TERM0001"
    acceptor: str = "MERCHANT0000001"
    # Approved by the network in stand-in: its first message is the 0120 advice, which its
    # reversal and clearing name in field 90.
    stand_in: bool = False

    def _fields(self, amount: Decimal) -> dict[str, str]:
        return {"2": self.pan, "3": "000000", "4": _minor(amount),
                "7": self.transmitted.strftime("%m%d%H%M%S"), "11": self.stan,
                "22": "051", "32": self.acquirer, "37": self.rrn, "41": self.terminal,
                "42": self.acceptor, "49": "840"}

    def authorization(self, repeat: bool = False) -> Message:
        """The 0100 (0101 when ``repeat``) asking to hold the amount."""
        return Message("0101" if repeat else "0100", self._fields(self.amount))

    def advice(self, repeat: bool = False) -> Message:
        """The 0120 (0121) telling the issuer the network approved in stand-in."""
        return Message("0121" if repeat else "0120", {**self._fields(self.amount), "39": "00"})

    def _original(self) -> str:
        mti = "0120" if self.stand_in else "0100"
        return (f"{mti}{self.stan}{self.transmitted:%m%d%H%M%S}{self.acquirer:0>11}"
                f"{'':0>11}")

    def reversal(self, stan: str, remaining: Decimal | None = None,
                 repeat: bool = False) -> Message:
        """The 0400 (0401) of the authorization; ``remaining`` makes it partial (field 95)."""
        fields = {**self._fields(self.amount), "11": stan, "90": self._original()}
        del fields["2"], fields["22"]
        if remaining is not None:
            fields["95"] = f"{_minor(remaining)}{'':0>30}"
        return Message("0401" if repeat else "0400", fields)

    def clearing(self, stan: str, amount: Decimal, repeat: bool = False) -> Message:
        """The 0220 (0221) completing the authorization with the cleared ``amount``."""
        return Message("0221" if repeat else "0220",
                       {**self._fields(amount), "11": stan, "90": self._original()})


def _minor(amount: Decimal) -> str:
    cents = amount * 100
    if cents != cents.to_integral_value() or cents < 0:
        raise ValueError(f"{amount} is not a non-negative amount in cents")
    return f"{int(cents):012d}"


def echo(stan: str, transmitted: datetime) -> Message:
    """An 0800 echo test."""
    return Message("0800", {"7": transmitted.strftime("%m%d%H%M%S"), "11": stan, "70": "301"})


class Iso8583Client:
    """One connection to an ISO 8583 server."""

    def __init__(self, spec_name: str) -> None:
        self.spec_name = spec_name
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[tuple[str | None, str | None], asyncio.Future[Message]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.unmatched: list[Message | Undecodable] = []

    async def connect(self, host: str, port: int) -> None:
        """Open the connection and start matching responses."""
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self._listener = asyncio.ensure_future(self._listen())

    async def send(self, message: Message, timeout_s: float = RESPONSE_TIMEOUT_S) -> Message:
        """Send ``message``; its response."""
        return await self.send_raw(encode(message, self.spec_name), message.get(11),
                                   message.get(37), timeout_s)

    async def send_raw(self, payload: bytes, stan: str | None, rrn: str | None,
                       timeout_s: float = RESPONSE_TIMEOUT_S) -> Message:
        """Send any payload (bad ones too); the response carrying ``stan`` and ``rrn``."""
        assert self._writer is not None, "connect first"
        key = (stan, rrn)
        assert key not in self._waiting, f"a request with STAN/RRN {key} is already in flight"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        try:
            self._writer.write(framing.frame(payload))
            await self._writer.drain()
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._waiting.pop(key, None)

    async def _listen(self) -> None:
        assert self._reader is not None
        frames = framing.FrameReader()
        while data := await self._reader.read(65_536):
            for payload in frames.feed(data):
                if isinstance(payload, framing.RefusedFrame):
                    continue
                decoded = decode(payload, self.spec_name)
                key = (None, None) if isinstance(decoded, Undecodable) else \
                    (decoded.get(11), decoded.get(37))
                future = self._waiting.get(key)
                if future is None or future.done() or isinstance(decoded, Undecodable):
                    self.unmatched.append(decoded)
                else:
                    future.set_result(decoded)

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._listener
