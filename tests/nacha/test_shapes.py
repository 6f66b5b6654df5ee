"""The shortcuts of validation: a line of its layout's shape, and check digits summed in C."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nacha import Field, check_digit, parse
from nacha.records import LAYOUTS
from tests.nacha.test_samples import SAMPLES

PATTERNED = [spec for layout in LAYOUTS for spec in layout.fields if spec.pattern is not None]


@st.composite
def field_texts(draw: st.DrawFn) -> tuple[Field, str]:
    """A field and a text of its width: digits, blanks or NACHA's characters, with perhaps one
    character from elsewhere, so that near misses are tried."""
    spec = draw(st.sampled_from(PATTERNED))
    alphabet = draw(st.sampled_from(["0123456789", " ", " AZ09~", spec.constant or "0"]))
    text = draw(st.text(alphabet=alphabet, min_size=spec.width, max_size=spec.width))
    at = draw(st.integers(0, spec.width - 1))
    odd = draw(st.sampled_from(["", " ", "0", "A", "\t", "\x7f", "\u00c4", "\u0661"]))
    return spec, text[:at] + odd + text[at + len(odd):]


@given(field_texts())
def test_text_a_field_pattern_matches_breaks_none_of_its_rules(drawn: tuple[Field, str]) -> None:
    spec, text = drawn
    assert spec.pattern is not None
    if re.fullmatch(spec.pattern, text):
        assert spec.check(text) is None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_record_of_a_valid_file_has_its_layouts_shape(name: str) -> None:
    records = parse(SAMPLES[name]).file.records()
    assert [record.line for record in records
            if not record.layout.shape.fullmatch(record.text)] == []


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_check_digits_are_the_weighted_sum_of_the_digits(routing: str) -> None:
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(digit) * weight for digit, weight in zip(routing, weights, strict=True))
    assert check_digit(routing) == (10 - total % 10) % 10
