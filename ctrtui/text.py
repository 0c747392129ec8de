"""Untrusted text -> display text: the one place where names become something safe to show.

Everything ctrtui shows may be chosen by someone else: cgroup names (anyone with a delegated
subtree, every container runtime), a process's comm and command line, user names, policy
and journal contents, and what is typed. None of it may reach a terminal raw (an `ESC[2J`
wipes the screen, an `ESC]0;…BEL` renames the window) or be read as markup by the UI.

`display()` makes a string safe and visible, the way systemd-cgls shows names:

- C0 controls and DEL are shown as `\\xNN` (`ESC` -> `\\x1b`);
- bytes that are not UTF-8 (a cgroup name is bytes; Python reads it with `surrogateescape`,
  so byte 0xff arrives as U+DCFF) are shown as `\\xNN` too: ctrtui's `\\xNN` always means
  the byte NN, and is never used for a printable character;
- C1 controls (U+0080-U+009F), other surrogates, line/paragraph separators and the
  bidirectional controls (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069) as `\\uNNNN`;
- a backslash is shown as it is -- systemd's own escapes (`system-serial\\x2dgetty.slice`)
  look exactly as systemd-cgls and systemctl show them -- and doubled (`\\\\`) only where it
  would otherwise read as one of ctrtui's escapes (followed by a backslash, or by `x1b`,
  `xff`, `u202e`...), so the shown form stays reversible.

Everything else (letters of any script, wide CJK, combining marks, brackets, `@`) is kept as
it is. Messages (sentences quoting names) go through `scrub()`, which escapes the same
characters but leaves backslashes alone: a message puts each name in with `display()`.
`parse()` reads a shown form back into the exact name, so a name can be typed as it
is shown (`ctrtui move PID --to 'freezer:/x\\x1b[2J'`). This module imports nothing of
Textual or Rich: the CLI uses it too; the UI wraps its result in `Content`/`Text` built from
plain text (never markup).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing and re are not imported at run time (start-up)
if TYPE_CHECKING:
    import re

__all__ = ["BIDI", "display", "display_bytes", "fit", "parse", "parse_bytes", "scrub", "tail"]

BIDI = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
"""Bidirectional formatting characters: they reorder what follows them on the line."""


def _escape_char(c: str) -> str:
    n = ord(c)
    if n < 0x20 or n == 0x7F:
        return f"\\x{n:02x}"
    if 0xDC80 <= n <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{n - 0xDC00:02x}"
    return f"\\u{n:04x}"


_TABLE: dict[int, str] = {}


def _table() -> dict[int, str]:
    """Code point -> its escape, for every character `display` escapes (built once)."""
    if not _TABLE:
        unsafe = [*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000), 0x2028, 0x2029, *BIDI]
        _TABLE.update((n, _escape_char(chr(n))) for n in unsafe)
    return _TABLE


def _escaped(kind: str, n: int) -> bool:
    """Whether `\\` + kind + hex digits of value n is one of ctrtui's own escapes (which are
    never for a printable character): `\\xNN` for a control or a byte that is not UTF-8,
    `\\uNNNN` / `\\UNNNNNNNN` for a character `display` escapes. `\\x2d` is not one: it is
    systemd's escape of `-`, shown and typed as it is."""
    if kind == "x":
        return n >= 0x80 or n in _table()
    return n in _table()


def display(text: str | bytes | None) -> str:
    """`text` with every character that must not reach a terminal escaped, and a backslash
    doubled where it would otherwise read as one of ctrtui's escapes (followed by a
    backslash or by one of them), so the shown form reads back exactly; any other backslash
    (systemd's own `\\x2d`) is shown as it is. Bytes are decoded as UTF-8 with
    surrogateescape first. None shows as the empty string."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if text.isprintable() and "\\" not in text:
        return text  # the common case: two C-level scans, no copy (every escaped character is unprintable)
    table = _table()
    if "\\" not in text:
        return text.translate(table)
    parts = [part.translate(table) for part in text.split("\\")]
    out = [parts[0]]
    for i, after in enumerate(parts[1:], 1):
        follows = after or ("\\" if i + 1 < len(parts) else "")
        out.append("\\\\" if _reads_as_escape(follows) else "\\")
        out.append(after)
    return "".join(out)


def _reads_as_escape(follows: str) -> bool:
    """Whether a backslash followed by the shown text `follows` would read as an escape."""
    if follows[:1] == "\\":
        return True
    m = _escape_re().match("\\" + follows)
    return m is not None and _escape_value(m) is not None


_MESSAGE_TABLE: dict[int, str] = {}


def scrub(message: str | None) -> str:
    """A message (a sentence that quotes names) made safe to show: what `display` escapes,
    except that backslashes stay as they are. Names inside a message are put there with
    `display()` by whoever words it, so a shown name reads the same in a message as in a
    list, and scrubbing a message twice changes nothing; a name a message quotes raw (a
    hook's reason) still cannot emit a control character."""
    if message is None:
        return ""
    if message.isprintable():
        return message
    if not _MESSAGE_TABLE:
        _MESSAGE_TABLE.update(_table())
    return message.translate(_MESSAGE_TABLE)


def display_bytes(raw: bytes) -> str:
    """The shown form of a name given as bytes (the same as `display(raw)`)."""
    return display(raw)


_ESCAPE: re.Pattern[str] | None = None


def _escape_re() -> re.Pattern[str]:
    """A backslash and what follows it that may make an escape: group 1-3 the hex digits of
    `\\x`, `\\u`, `\\U` (an escape only when `_escaped`), group 4 a second backslash."""
    global _ESCAPE
    if _ESCAPE is None:
        import re

        _ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(\\))")
    return _ESCAPE


def _escape_value(m: re.Match[str]) -> str | None:
    """The character an escape match stands for, or None when it is no ctrtui escape (then
    its backslash is a plain backslash)."""
    x, u, big, backslash = m.groups()
    if backslash is not None:
        return "\\"
    if x is not None:
        n = int(x, 16)
        if not _escaped("x", n):
            return None
        return chr(n) if n < 0x80 else chr(0xDC00 + n)
    n = int(u or big, 16)
    return chr(n) if n <= 0x10FFFF and _escaped("u", n) else None


def parse(shown: str) -> str:
    """The exact name (a str, non-UTF-8 bytes as surrogateescape) of a shown form: `\\\\`
    -> `\\`, `\\xNN` -> the byte NN and `\\uNNNN` / `\\UNNNNNNNN` -> that code point where
    that is one of ctrtui's escapes (a control, a byte that is not UTF-8, a character
    `display` escapes); any other backslash is itself, so systemd's `\\x2d` is typed as
    systemd shows it. Never raises for a shown form (ValueError is kept for callers)."""
    if "\\" not in shown:
        return shown
    out: list[str] = []
    pos = 0
    while True:
        i = shown.find("\\", pos)
        if i < 0:
            break
        out.append(shown[pos:i])
        m = _escape_re().match(shown, i)
        value = None if m is None else _escape_value(m)
        if m is None or value is None:
            out.append("\\")
            pos = i + 1
        else:
            out.append(value)
            pos = m.end()
    out.append(shown[pos:])
    return "".join(out)


def parse_bytes(shown: str) -> bytes:
    """The exact name of a shown form as bytes (what the kernel holds)."""
    return parse(shown).encode("utf-8", "surrogateescape")


def tail(text: str, width: int, sep: str = "/") -> str:
    """`text` cut to at most `width` characters keeping its END (`…/d58/d59`): the end of a
    path says the most. Cut at a `sep` when that keeps at least half of the room."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return "…"
    keep = text[len(text) - (width - 1):]
    cut = keep.find(sep)
    if 0 <= cut < (width - 1) // 2:
        keep = keep[cut:]
    return "…" + keep


def fit(text: str, cells: int) -> str:
    """`text` cut or padded to `cells` terminal cells (wide CJK characters take two,
    combining marks none): for the command line's columns, which Rich does not lay out."""
    if text.isascii():
        return text[:cells].ljust(cells)
    import unicodedata

    out, used = [], 0
    for c in text:
        w = 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if used + w > cells:
            break
        out.append(c)
        used += w
    return "".join(out) + " " * (cells - used)
