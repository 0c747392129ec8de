"""PID parsing: ctrtui accepts only what the kernel would read as the very same PID."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ctrtui.engine.parse import INT_MAX, PidParseError, kernel_parse, parse_pid
from ctrtui.errors import CtrtuiError
from ctrtui.sources.simkernel.rules import kstrtoint

PID_MAX = 32768


@pytest.mark.parametrize("text, pid", [
    ("1", 1), ("15616", 15616), ("32767", 32767), (" 42\n", 42), ("\t7 ", 7), (42, 42),
])
def test_canonical_decimal_is_accepted(text, pid):
    assert parse_pid(text, PID_MAX) == pid


@pytest.mark.parametrize("text, errno, words", [
    ("015616", None, "octal, PID 7054"),
    ("0x1f", None, "hexadecimal, PID 31"),
    ("0X1F", None, "hexadecimal, PID 31"),
    ("09", "EINVAL", "octal and refuse"),
    ("+5", None, "no sign"),
    ("-5", "EINVAL", "never negative"),
    ("-1", "EINVAL", "never negative"),
    ("0", None, "the writer itself"),
    ("00", None, "the writer itself"),
    ("-0", None, "the writer itself"),
    ("2147483648", "EINVAL", "larger than 2147483647"),
    ("99999999999999999999999", "EINVAL", "larger than"),
    ("32768", "ESRCH", "pid_max (32768)"),
    ("40000", "ESRCH", "pid_max"),
    ("abc", "EINVAL", "only decimal digits"),
    ("123abc", "EINVAL", "only decimal digits"),
    ("1 2", "EINVAL", "only decimal digits"),
    ("", "EINVAL", "blank"),
    ("   ", "EINVAL", "blank"),
    ("1_000", "EINVAL", "only decimal digits"),
    ("\u0663", "EINVAL", "only decimal digits"),  # ARABIC-INDIC DIGIT THREE: int() would take it
    ("5\x00", "EINVAL", "only decimal digits"),
    (-5, "EINVAL", "never negative"),
    (0, None, "the writer itself"),
    (True, "EINVAL", "not a PID"),
])
def test_rejections_say_why(text, errno, words):
    with pytest.raises(PidParseError) as info:
        parse_pid(text, PID_MAX)
    e = info.value
    assert isinstance(e, CtrtuiError)
    assert e.errno == errno
    assert words in e.reason, e.reason
    assert e.advice
    assert "\n" not in str(e)


def test_pid_max_is_respected():
    assert parse_pid("40000", 4194304) == 40000
    with pytest.raises(PidParseError):
        parse_pid("4194304", 4194304)


@pytest.mark.parametrize("data, value", [
    (b"015616", 7054), (b"0x1f", 31), (b"+5", 5), (b" 12 \n", 12), (b"0", 0), (b"-0", 0),
    (b"5\n", 5), (b"5\x00junk", 5), (b"\xa05\xa0", 5), (b"2147483647", INT_MAX),
    (b"-1", None), (b"2147483648", None), (b"abc", None), (b"", None), (b"1 2", None),
    (b"0x", None), (b"09", None), (b"+-5", None), (b"-+5", None), (b"1" * 4097, None),
])
def test_kernel_model(data, value):
    assert kernel_parse(data) == value


text_like = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789+-xX \t\n\r\v\fabcdefABCDEF_", max_size=14),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.integers(min_value=0, max_value=PID_MAX + 5).map(lambda n: f"{n:o}").map(lambda s: "0" + s),
)


@settings(max_examples=3000, deadline=None)
@given(text_like)
@example("015616")
@example("0x7fff")
@example(" +12\n")
@example("32767")
@example("0000000")
def test_any_text_is_rejected_cleanly_or_is_exactly_what_the_kernel_reads(text):
    """For any string: a clean rejection, or exactly the PID the kernel would take."""
    try:
        pid = parse_pid(text, PID_MAX)
    except PidParseError as e:
        assert e.reason and e.advice and "\n" not in e.reason
        return
    data = text.encode("utf-8", "surrogatepass")
    assert kernel_parse(data) == pid
    assert kstrtoint(data) == pid  # the simulated kernel agrees
    assert 1 <= pid < PID_MAX


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=1, max_value=PID_MAX - 1))
def test_every_valid_pid_round_trips(n):
    assert parse_pid(str(n), PID_MAX) == n
    assert kernel_parse(str(n).encode()) == n


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=24))
def test_kernel_model_matches_the_simulated_kernel(data):
    """Two independent models of kstrtoint(strstrip(buf), 0) agree on every byte string
    (ours also applies `pid < 0` -> EINVAL, which the simulated kernel does after)."""
    ours, sim = kernel_parse(data), kstrtoint(data)
    if sim is not None and sim < 0:
        sim = None
    assert ours == sim
