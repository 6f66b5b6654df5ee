"""ISO 8583 (1987) messages for the card authorization server: specs, framing, decoding,
validation, typed reading, responses and masking. Pure: bytes in, values and bytes out.

It does no I/O and reads no clock (the current time, where one is needed, is an argument).
"""

from iso8583_spec.codec import EncodeFailedError, decode, encode
from iso8583_spec.codes import RESPONSE_CODES
from iso8583_spec.currencies import CURRENCIES, Currency, currency
from iso8583_spec.elements import OriginalData, ReplacementAmounts, original_data
from iso8583_spec.fields import FIELDS, Field, Format, Length
from iso8583_spec.framing import FRAME_SIZE_MAX, FrameReader, RefusedFrame, frame
from iso8583_spec.layouts import LAYOUTS, Layout
from iso8583_spec.masking import mask_pan, masked_hex
from iso8583_spec.message import Message, Undecodable
from iso8583_spec.mti import message_class, response_mti
from iso8583_spec.reading import (
    amount,
    card_number,
    currency_alpha,
    message_key,
    original_key,
    replacement_amount,
    transaction_currency,
    transmission_time,
)
from iso8583_spec.responses import format_error_response, response
from iso8583_spec.specs import SPEC_NAMES, Spec, SpecName, spec
from iso8583_spec.validation import FieldProblem, Rule, problems, response_code_for

__all__ = [
    "CURRENCIES", "FIELDS", "FRAME_SIZE_MAX", "LAYOUTS", "RESPONSE_CODES", "SPEC_NAMES",
    "Currency", "EncodeFailedError", "Field", "FieldProblem", "Format", "FrameReader", "Layout",
    "Length", "Message", "OriginalData", "RefusedFrame", "ReplacementAmounts", "Rule", "Spec",
    "SpecName", "Undecodable", "amount", "card_number", "currency", "currency_alpha", "decode",
    "encode", "format_error_response", "frame", "mask_pan", "masked_hex", "message_class",
    "message_key", "original_data", "original_key", "problems", "replacement_amount",
    "response", "response_code_for", "response_mti", "spec", "transaction_currency",
    "transmission_time",
]
