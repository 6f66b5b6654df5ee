"""Validation: each rule passing on the corpus and failing on one broken field."""

from __future__ import annotations

import pytest

from iso8583_spec import LAYOUTS, FieldProblem, Message, Rule, problems, response_code_for

from .corpus import AMEX, ORIGINAL_DATA, PANS, VARIANTS, VISA, corpus, track_2

Found = list[tuple[int, Rule]]


def _found(message: Message) -> Found:
    return [(problem.field, problem.rule) for problem in problems(message)]


def _with(name: str, **changes: str | None) -> Message:
    message = corpus("ascii")[name]
    fields = dict(message.fields)
    for key, value in changes.items():
        number = key.removeprefix("f")
        if value is None:
            fields.pop(number, None)
        else:
            fields[number] = value
    return Message(message.mti, fields)


@pytest.mark.parametrize(("variant", "name"),
                         [(variant, name) for variant in VARIANTS for name in corpus(variant)])
def test_the_corpus_breaks_no_rule(variant: str, name: str) -> None:
    assert problems(corpus(variant)[name]) == []


def test_every_handled_mti_has_a_corpus_message() -> None:
    assert {message.mti for message in corpus("ascii").values()} == set(LAYOUTS)


@pytest.mark.parametrize("mti", sorted(LAYOUTS))
def test_each_mandatory_field_is_missed_when_absent(mti: str) -> None:
    message = next(message for message in corpus("ascii").values() if message.mti == mti)
    for number in LAYOUTS[mti].mandatory:
        fields = {key: value for key, value in message.fields.items() if key != str(number)}
        assert (number, Rule.MISSING_FIELD) in _found(Message(mti, fields))


def test_a_field_outside_the_layout_is_unexpected() -> None:
    assert _found(_with("authorization", f90=ORIGINAL_DATA)) == [(90, Rule.UNEXPECTED_FIELD)]
    assert _found(_with("echo", f4="000000000100")) == [(4, Rule.UNEXPECTED_FIELD)]
    assert _found(Message("0800", {"7": "0301093000", "11": "000001", "70": "301",
                                   "011": "000001"})) == [(0, Rule.UNEXPECTED_FIELD)]


def test_an_unhandled_mti_is_one_problem() -> None:
    found = problems(Message("0200", {"2": VISA}))
    assert found == [FieldProblem(0, Rule.UNSUPPORTED_MTI, "MTI '0200' is not handled")]


def test_an_authorization_needs_card_data() -> None:
    assert _found(_with("authorization", f2=None)) == [(2, Rule.CARD_DATA_MISSING)]
    assert _found(_with("authorization", f2=None, f35=track_2(VISA, "ascii"))) == []
    # a reversal finds its original by field 90 and need not repeat the card
    assert _found(_with("reversal", f2=None)) == []


@pytest.mark.parametrize(("value", "rule"), [
    ("0230093000", Rule.INVALID_DATE_TIME), ("1301093000", Rule.INVALID_DATE_TIME),
    ("0301243000", Rule.INVALID_DATE_TIME), ("0301096000", Rule.INVALID_DATE_TIME),
    ("030109300A", Rule.BAD_CHARACTERS), ("030109300", Rule.BAD_LENGTH),
])
def test_the_transmission_time_is_a_valid_mmddhhmmss(value: str, rule: Rule) -> None:
    assert _found(_with("authorization", f7=value)) == [(7, rule)]


def test_the_leap_day_is_a_valid_transmission_date() -> None:
    assert _found(_with("authorization", f7="0229235959", f13="0229")) == []


@pytest.mark.parametrize(("number", "value", "rule"), [
    (12, "240000", Rule.INVALID_TIME), (12, "235960", Rule.INVALID_TIME),
    (13, "0431", Rule.INVALID_DATE), (13, "0001", Rule.INVALID_DATE),
    (14, "2813", Rule.INVALID_EXPIRY), (14, "28A1", Rule.BAD_CHARACTERS),
])
def test_local_time_date_and_expiry(number: int, value: str, rule: Rule) -> None:
    assert _found(_with("authorization", **{f"f{number}": value})) == [(number, rule)]
    assert _found(_with("authorization", **{f"f{number}": None})) == []


def test_the_amount_is_numeric_and_not_zero_in_an_authorization() -> None:
    assert _found(_with("authorization", f4="00000000012A")) == [(4, Rule.BAD_CHARACTERS)]
    assert _found(_with("authorization", f4="000000000000")) == [(4, Rule.ZERO_AMOUNT)]
    assert _found(_with("authorization_repeat", f4="000000000000")) == [(4, Rule.ZERO_AMOUNT)]
    # an advice or a completion reports what happened, a zero included
    assert _found(_with("authorization_advice", f4="000000000000")) == []
    assert _found(_with("completion", f4="000000000000")) == []


@pytest.mark.parametrize("code", ["840", "978", "826", "392", "124"])
def test_known_currencies_pass(code: str) -> None:
    assert _found(_with("authorization", f49=code)) == []


def test_an_unknown_currency_is_named() -> None:
    found = problems(_with("authorization", f49="999"))
    assert [(problem.field, problem.rule) for problem in found] == [(49, Rule.UNKNOWN_CURRENCY)]
    assert "'999'" in found[0].text


@pytest.mark.parametrize(("value", "rule"), [
    (ORIGINAL_DATA[:-1], Rule.BAD_LENGTH),
    (ORIGINAL_DATA[:-1] + "X", Rule.BAD_CHARACTERS),
    ("0110" + ORIGINAL_DATA[4:], Rule.ORIGINAL_DATA_FORMAT),           # a response MTI
    ("0100000123" "0332093000" + ORIGINAL_DATA[20:], Rule.ORIGINAL_DATA_FORMAT),  # 32 March
    ("0100000123" "0301250000" + ORIGINAL_DATA[20:], Rule.ORIGINAL_DATA_FORMAT),  # 25 o'clock
])
def test_original_data_elements_must_be_well_formed(value: str, rule: Rule) -> None:
    assert len(ORIGINAL_DATA) == 42
    assert _found(_with("reversal", f90=value)) == [(90, rule)]
    assert _found(_with("completion", f90=value)) == [(90, rule)]


def test_a_completion_may_name_no_original() -> None:
    assert _found(_with("completion", f90=None)) == []


@pytest.mark.parametrize("value", [
    "00000000234500000000234500000000000000000X",   # a letter in the last fee
    "0000000023A5000000002345C00000000C00000000",   # a letter in the amount
    "000000002345000000002345X00000000C00000000",   # a sign that is neither C nor D
])
def test_replacement_amounts_must_be_well_formed(value: str) -> None:
    assert _found(_with("partial_reversal", f95=value)) == [
        (95, Rule.REPLACEMENT_AMOUNTS_FORMAT)]


def test_replacement_amounts_with_unsigned_zero_fees_pass() -> None:
    assert _found(_with("partial_reversal", f95="0" * 42)) == []


def test_a_replacement_above_the_original_amount_is_refused() -> None:
    assert _found(_with("partial_reversal",
                        f95="000000012346000000012346C00000000C00000000")) == [
        (95, Rule.REPLACEMENT_EXCEEDS_AMOUNT)]


def test_the_pan_has_a_length_and_a_check_digit() -> None:
    assert _found(_with("authorization", f2="4111111111111112")) == [(2, Rule.PAN_CHECK_DIGIT)]
    assert _found(_with("authorization", f2="41111111111")) == [(2, Rule.PAN_LENGTH)]
    assert _found(_with("authorization", f2="411111111111111A")) == [(2, Rule.BAD_CHARACTERS)]


@pytest.mark.parametrize(("value", "rule"), [
    (f"{AMEX}2812101", Rule.TRACK_2_FORMAT),            # no separator
    (f"{AMEX}=28=12101", Rule.TRACK_2_FORMAT),          # two
    ("37828224631=2812101", Rule.TRACK_2_FORMAT),       # a PAN too short
    (f"{AMEX}=2812", Rule.TRACK_2_FORMAT),              # no service code
    ("378282246310006=2812101", Rule.PAN_CHECK_DIGIT),
    (f"{AMEX}=2812X01", Rule.BAD_CHARACTERS),
])
def test_track_2_holds_a_valid_pan_then_expiry_and_service_code(value: str, rule: Rule) -> None:
    assert _found(_with("authorization_by_track_2", f35=value)) == [(35, rule)]


def test_the_network_management_code_is_known() -> None:
    assert _found(_with("echo", f70="999")) == [(70, Rule.UNKNOWN_NETWORK_CODE)]
    for code in ("001", "002", "301"):
        assert _found(_with("echo", f70=code)) == []


def test_text_fields_keep_their_character_sets() -> None:
    assert _found(_with("authorization", f37="40600912345-")) == [(37, Rule.BAD_CHARACTERS)]
    assert _found(_with("authorization", f41="TERM\x00001")) == [(41, Rule.BAD_CHARACTERS)]
    assert _found(_with("sign_off", f128="0123456789abcdef")) == [(128, Rule.BAD_CHARACTERS)]
    assert _found(_with("authorization", f41="TERM 0-1")) == []


def test_problems_come_by_field_number() -> None:
    found = _found(_with("authorization", f49="999", f7="9999999999", f11=None))
    assert found == [(7, Rule.INVALID_DATE_TIME), (11, Rule.MISSING_FIELD),
                     (49, Rule.UNKNOWN_CURRENCY)]


def test_the_response_code_follows_the_problems() -> None:
    with pytest.raises(ValueError, match="without problems"):
        response_code_for([])
    assert response_code_for(problems(_with("authorization", f4="0" * 12))) == "13"
    assert response_code_for(problems(_with("authorization", f2="4111111111111112"))) == "14"
    assert response_code_for(problems(_with("authorization", f4="0" * 12, f11=None))) == "30"


@pytest.mark.parametrize("pan", PANS)
def test_no_problem_text_holds_the_pan(pan: str) -> None:
    broken = [
        _with("authorization", f2=pan[:-1] + str((int(pan[-1]) + 1) % 10)),
        _with("authorization", f2=pan + "12345"),
        _with("authorization", f2=pan[:11]),
        _with("authorization", f2=None, f35=f"{pan}2812101"),
        _with("authorization", f35=f"{pan}=28"),
        _with("echo", f2=pan),
        _with("authorization", f102=pan * 2),
        Message("0200", {"2": pan}),
    ]
    for message in broken:
        found = problems(message)
        assert found
        for problem in found:
            assert pan not in problem.text and pan not in str(problem)
            assert pan[:-1] not in str(problem) and pan[1:] not in str(problem)
