"""Answers: the response to a request or advice, and the format error for unreadable bytes.

A response echoes what the network matches it on and never the card data: field 2 and
field 35 stay out, the STAN and the RRN are enough.
"""

from __future__ import annotations

from iso8583_spec import codes
from iso8583_spec.fields import FIELDS
from iso8583_spec.message import Message, Undecodable
from iso8583_spec.mti import message_class, response_mti

# Processing code, amount, transmission time, STAN, acquirer, RRN, terminal, acceptor,
# currency: what a network matches a response on.
ECHOED = (3, 4, 7, 11, 32, 37, 41, 42, 49)
# An 0810 says which network management request it answers.
NETWORK_ECHOED = (7, 11, 32, 33, 70)
_APPROVAL_CODE, _RESPONSE_CODE = FIELDS[38], FIELDS[39]


def _alphanumeric(text: str, size: int) -> bool:
    return len(text) == size and text.isascii() and text.isalnum()


def response(request: Message, response_code: str,
             approval_code: str | None = None) -> Message:
    """The answer to ``request`` with ``response_code`` (39) and, when given, the approval
    code (38). Raises ValueError when ``request`` is not a request or advice, or when a code
    is not alphanumeric of its field's length (2 for 39, 6 for 38)."""
    mti = response_mti(request.mti)
    if mti is None:
        raise ValueError(f"MTI {request.mti[:4]!r} is not a request or an advice")
    if not _alphanumeric(response_code, _RESPONSE_CODE.size):
        raise ValueError("a response code is 2 letters or digits")
    if approval_code is not None and not _alphanumeric(approval_code, _APPROVAL_CODE.size):
        raise ValueError("an approval code is 6 letters or digits")
    echoed = NETWORK_ECHOED if message_class(mti) == "network" else ECHOED
    fields = {str(number): value for number in echoed
              if (value := request.get(number)) is not None}
    if approval_code is not None:
        fields["38"] = approval_code
    fields["39"] = response_code
    return Message(mti=mti, fields=fields)


def format_error_response(undecodable: Undecodable) -> Message | None:
    """A format error (30) for bytes that were not a message, echoing the STAN and RRN when
    they could be read; None when no request or advice MTI could be read, as then there is
    nothing the sender could match an answer to."""
    mti = response_mti(undecodable.mti) if undecodable.mti is not None else None
    if mti is None:
        return None
    fields = {"11": undecodable.stan, "37": undecodable.rrn, "39": codes.FORMAT_ERROR}
    return Message(mti=mti, fields={key: value for key, value in fields.items()
                                    if value is not None})
