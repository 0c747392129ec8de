"""ctrtui.text: untrusted text shown escaped, and the shown form read back exactly."""

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrtui import text
from ctrtui.text import display, parse, parse_bytes, scrub, tail


#: What may never appear in a shown form: C0, DEL, C1, surrogates, line separators, bidi.
def _unsafe(c: str) -> bool:
    n = ord(c)
    return (n < 0x20 or 0x7F <= n <= 0x9F or 0xD800 <= n <= 0xDFFF or n in (0x2028, 0x2029)
            or n in text.BIDI)


def test_examples_like_systemd_cgls():
    assert display("x\x1b[2Jy") == "x\\x1b[2Jy"
    assert display("\x1b]0;PWNED\x07") == "\\x1b]0;PWNED\\x07"
    assert display("a\\b") == "a\\b"  # a backslash that starts no escape is shown as it is
    assert display("back\\x1b-slash") == "back\\\\x1b-slash"  # doubled: it would read as ESC
    assert display(b"caf\xff\xfe") == "caf\\xff\\xfe"
    assert display("\x85") == "\\u0085"  # C1 (valid UTF-8 c2 85), not the byte 0x85
    assert display("abc\u202eevil") == "abc\\u202eevil"
    assert display("tab\there\nnl\x7f") == "tab\\x09here\\x0anl\\x7f"
    assert display("[b]x[/] [@click=app.quit]q 漢字 e\u0301") == "[b]x[/] [@click=app.quit]q 漢字 e\u0301"
    assert display(None) == ""


def test_parse_examples():
    assert parse("x\\x1b[2J") == "x\x1b[2J"
    assert parse("a\\\\b") == "a\\b"
    assert parse("\\xff") == "\udcff"
    assert parse_bytes("caf\\xff") == b"caf\xff"
    assert parse("\\u202e") == "\u202e"
    assert parse("\\U0000202e") == "\u202e"
    # a backslash that starts none of ctrtui's escapes (never for a printable character) is itself
    for literal in ("a\\", "a\\q", "\\x1", "\\u12", "\\U00110000", "\\U0001f600", "\\x41", "\\x2d", "\\x2e"):
        assert parse(literal) == literal


def test_systemd_escapes_are_shown_and_typed_as_systemd_shows_them():
    """systemd names hold its own escapes (`\\x2d` for `-`): ctrtui shows them with one
    backslash, as systemd-cgls and systemctl do, and reads them back as typed."""
    for name in ("system-serial\\x2dgetty.slice", "dev-disk-by\\x2duuid-1234\\x2dabcd.swap",
                 "run-user-1000.mount", "systemd-fsck@dev-disk-by\\x2dlabel-BOOT.service",
                 "sys-devices-platform-serial8250-tty-ttyS1.device", "a\\x5cb"):
        assert display(name) == name
        assert parse(name) == name
    # a name that holds a control right after a backslash keeps both readable
    assert display("x\\\x1b") == "x\\\\\\x1b"
    assert parse(display("x\\\x1b")) == "x\\\x1b"


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_display_of_any_str_is_safe_and_reversible(s):
    shown = display(s)
    assert not any(_unsafe(c) for c in shown)
    assert not any(unicodedata.category(c) == "Cc" for c in shown)
    assert parse(shown) == s
    shown.encode("utf-8")  # always encodable: no lone surrogate left for a terminal


@given(st.binary(max_size=300))
def test_display_of_any_bytes_is_safe_and_reversible(raw):
    shown = display(raw)
    assert not any(_unsafe(c) for c in shown)
    assert parse_bytes(shown) == raw
    assert display(raw.decode("utf-8", "surrogateescape")) == shown


@given(st.text(), st.text(), st.text())
def test_display_is_per_character_but_for_backslashes(a, b, c):
    """A message that quotes a name shows the name exactly as the name alone is shown; only
    whether a backslash is doubled depends on what follows it."""
    whole, parts = display(a + b + c), display(a) + display(b) + display(c)
    if "\\" in a + b + c:
        assert whole.replace("\\", "") == parts.replace("\\", "")
    else:
        assert whole == parts


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(lambda c: c != "\\")))
def test_printable_ascii_without_backslash_is_untouched(s):
    assert display(s) == s == parse(s)


def test_json_keeps_the_exact_name_as_valid_ascii_json():
    """`--json` writes json.dump(ensure_ascii) output: a non-UTF-8 byte becomes the escape of
    its surrogateescape code point (\\udcff), still valid JSON, read back exactly."""
    name = b"x\x1b[2J\xff".decode("utf-8", "surrogateescape")
    out = json.dumps({"path": name})
    assert out.isascii() and "\x1b" not in out
    assert "\\udcff" in out and "\\u001b" in out
    back = json.loads(out)["path"]
    assert back == name and back.encode("utf-8", "surrogateescape") == b"x\x1b[2J\xff"


@pytest.mark.parametrize("s,w,want", [
    ("/d0/d1/d2/d3", 20, "/d0/d1/d2/d3"),
    ("/" + "/".join(f"d{i}" for i in range(60)), 12, "…/d58/d59"),
    ("abcdefghij", 5, "…ghij"),
    ("abc", 0, ""),
    ("abc", 1, "…"),
])
def test_tail_keeps_the_end(s, w, want):
    assert tail(s, w) == want


@given(st.text(), st.integers(min_value=0, max_value=200))
def test_tail_fits_and_ends_like_the_text(s, w):
    t = tail(s, w)
    assert len(t) <= w
    if len(s) <= w:
        assert t == s
    elif w >= 2:
        assert t.startswith("…") and s.endswith(t[1:])


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_scrub_makes_any_message_safe_and_leaves_shown_names_alone(s):
    scrubbed = scrub(s)
    assert not any(_unsafe(c) for c in scrubbed)
    assert scrub(scrubbed) == scrubbed
    assert scrub(display(s)) == display(s)
    if "\\" not in s:
        assert scrubbed == display(s)
    assert scrub(f"moved to '{display(s)}'.") == f"moved to '{display(s)}'."


@pytest.mark.parametrize("s,n,want", [("root", 6, "root  "), ("名前ユーザー", 10, "名前ユーザ"), ("名前", 3, "名 "),
                                      ("ze\u0301ro", 5, "ze\u0301ro ")])
def test_fit_counts_cells(s, n, want):
    assert text.fit(s, n) == want
