"""Properties over generated files: the builder's files always validate, add up and round-trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nacha import AchFile, generate, parse
from nacha.codes import is_credit
from tests.nacha.strategies import Spec, files


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
