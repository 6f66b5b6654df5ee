"""Properties over generated files: the builder's files always validate, add up and round-trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from nacha import AchFile, FileBuilder, addenda, check_digit, generate, parse
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
def files(draw: st.DrawFn) -> tuple[AchFile, list[Spec]]:
    made = FileBuilder(immediate_destination="076401251", immediate_origin="1234567890",
                       created=draw(st.datetimes(datetime(2000, 1, 1), datetime(2068, 12, 31))),
                       file_id_modifier=draw(st.sampled_from("AZ09")))
    specs: list[Spec] = []
    for _ in range(draw(st.integers(0, 3))):
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


@settings(deadline=None)  # building and parsing whole files is slow on a busy machine
@given(files())
def test_built_files_validate_strictly_and_round_trip(made: tuple[AchFile, list[Spec]]) -> None:
    ach_file, _ = made
    text = generate(ach_file)
    assert parse(text, origination=True).ok
    assert parse(text).file == ach_file
    assert generate(parse(text).file) == text
    assert len(text.splitlines()) % 10 == 0


@settings(deadline=None)  # building and parsing whole files is slow on a busy machine
@given(files())
def test_the_controls_add_up_the_entries(made: tuple[AchFile, list[Spec]]) -> None:
    ach_file, specs = made
    control = ach_file.control
    assert control is not None
    credits = sum(spec.amount for spec in specs if is_credit(spec.code))
    debits = sum(spec.amount for spec in specs if not is_credit(spec.code))
    assert control.number("total_credit_entry_dollar_amount") == credits
    assert control.number("total_debit_entry_dollar_amount") == debits
    assert control.number("entry_addenda_count") == sum(1 + len(spec.notes) for spec in specs)
    assert control.number("entry_hash") == sum(int(spec.routing[:8]) for spec in specs) % 10**10
    assert control.number("batch_count") == len(ach_file.batches)


@settings(deadline=None)  # building and parsing whole files is slow on a busy machine
@given(files(), st.data())
def test_lenient_mode_reads_any_damage_without_raising(made: tuple[AchFile, list[Spec]],
                                                       data: st.DataObject) -> None:
    text = generate(made[0])
    at = data.draw(st.integers(0, len(text) - 1))
    damaged = text[:at] + data.draw(st.text(max_size=3)) + text[at + 1:]
    parsed = parse(damaged, lenient=True)
    if parsed.ok:
        assert generate(parsed.file) == damaged
