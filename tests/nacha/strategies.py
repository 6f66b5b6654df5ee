"""Hypothesis strategies for NACHA files the builder makes: forward entries of every SEC code
it originates, in batches, with their specs to check the file against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hypothesis import strategies as st

from nacha import AchFile, FileBuilder, addenda, check_digit
from nacha.codes import is_credit, is_zero_amount

NACHA_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=22)
LIVE_CODES = [22, 27, 32, 37, 42, 47, 52, 55]
ZERO_CODES = [23, 28, 33, 38, 43, 48, 53]
FORWARD_SEC = ["PPD", "CCD", "WEB", "TEL", "CTX"]


@dataclass(frozen=True)
class Spec:
    code: int
    routing: str
    amount: int
    account: str
    name: str
    notes: tuple[str, ...]


@st.composite
def entries(draw: st.DrawFn, sec: str) -> Spec:
    codes = [code for code in LIVE_CODES + ZERO_CODES if sec != "TEL" or not is_credit(code)]
    code = draw(st.sampled_from(codes))
    prefix = draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    amount = 0 if is_zero_amount(code) else draw(st.integers(1, 9_999_999_999))
    account = draw(NACHA_TEXT.filter(str.strip).map(lambda text: text[:17]))
    name = draw(NACHA_TEXT.filter(str.strip))
    most = {"CTX": 4, "TEL": 0}.get(sec, 1)
    notes = draw(st.lists(NACHA_TEXT, max_size=most))
    return Spec(code, prefix + str(check_digit(prefix)), amount, account, name, tuple(notes))


@st.composite
def files(draw: st.DrawFn, immediate_origin: str = "1234567890",
          min_batches: int = 0) -> tuple[AchFile, list[Spec]]:
    """A file and the spec of each of its entries, in the order they were added."""
    made = FileBuilder(immediate_destination="076401251", immediate_origin=immediate_origin,
                       created=draw(st.datetimes(datetime(2000, 1, 1), datetime(2068, 12, 31))),
                       file_id_modifier=draw(st.sampled_from("AZ09")))
    specs: list[Spec] = []
    for _ in range(draw(st.integers(min_batches, 3))):
        sec = draw(st.sampled_from(FORWARD_SEC))
        batch = made.batch(sec, originating_dfi="07640125",
                           effective_entry_date=draw(st.dates(date(2000, 1, 1),
                                                              date(2068, 12, 31))),
                           company_name=draw(NACHA_TEXT.filter(str.strip)).strip()[:16] or "X",
                           company_identification="1234567890",
                           company_entry_description="PAYMENT")
        name_field = "receiving_company_name" if sec in {"CCD", "CTX"} else "individual_name"
        for spec in draw(st.lists(entries(sec), min_size=1, max_size=6)):
            batch.entry(spec.code, spec.routing, spec.amount, dfi_account_number=spec.account,
                        **{name_field: spec.name[:16]},
                        addenda=[addenda("05", payment_related_information=note)
                                 for note in spec.notes])
            specs.append(spec)
    return made.build(), specs
