"""The journal file's lines and bytes: whole writes, directory syncs, lines read in blocks
forwards and backwards (memory: one block plus the longest line), and the rotation's copy.

Used by the store (`ctrtui.engine.journal`); knows nothing of what the records mean beyond
the batch id a rotation keeps them by.
"""

from __future__ import annotations

import os

from ctrtui.engine.owned import temp_name
from ctrtui.engine.records import BATCH_FIELD, BLOCK, MAX_LINE, VERSION, loads, now_iso
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["count_newlines", "fsync_dir", "last_newline", "lines_backward", "lines_forward", "names_sentence",
           "rotate_file", "write_all"]


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def names_sentence(path: str, links: int) -> str:
    return (f"the journal {display(path)} has {links} names (hard links), and two names of one journal would give "
            "two writers and two histories; keep one name (find the others with `find / -xdev -samefile "
            f"{display(path)}` and remove them), or give another file with --journal FILE")


def lines_forward(pread: Callable[[int, int], bytes], end: int) -> Iterator[bytes]:
    """The whole lines (each with its newline) in [0, end), oldest first: what a torn last
    piece leaves out is not a line."""
    pos, carry = 0, b""
    while pos < end:
        data = carry + pread(min(BLOCK * 16, end - pos), pos)
        if not data or len(data) == len(carry):
            break
        pos += len(data) - len(carry)
        lines = data.split(b"\n")
        carry = lines.pop()
        for line in lines:
            yield line + b"\n"


def last_newline(pread: Callable[[int, int], bytes], size: int) -> int:
    """Offset of the last b'\\n' before `size`, or -1: read backwards in blocks (constant memory)."""
    pos = size
    while pos > 0:
        n = min(BLOCK, pos)
        pos -= n
        i = pread(n, pos).rfind(b"\n")
        if i >= 0:
            return pos + i
    return -1


def count_newlines(pread: Callable[[int, int], bytes], end: int) -> int:
    count, pos = 0, 0
    while pos < end:
        n = min(BLOCK * 16, end - pos)
        count += pread(n, pos).count(b"\n")
        pos += n
    return count


def lines_backward(pread: Callable[[int, int], bytes], end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line without its newline) of the lines in [0, end), newest first; `end` is 0
    or just past a newline. Memory: one block plus the longest line."""
    pos = end
    carry = b""  # the start of a line that began before `pos`; it ends at pos + len(carry)
    first = True
    while pos > 0:
        n = min(BLOCK, pos)
        pos -= n
        data = pread(n, pos) + carry
        parts = data.split(b"\n")
        if first:
            parts.pop()  # the empty piece after the final newline
            first = False
        carry = parts[0]
        offsets = []
        off = pos + len(carry) + 1
        for part in parts[1:]:
            offsets.append(off)
            off += len(part) + 1
        for i in range(len(parts) - 1, 0, -1):
            yield offsets[i - 1], parts[i]
        if len(carry) > MAX_LINE + 1:
            yield pos, carry  # too long: validation says so
            return
    if carry:
        yield 0, carry



def rotate_file(path: str, fd: int, size: int, keep: set[str]) -> int:
    """Write the lines of the batches in `keep` (from the journal open as `fd`, `size` bytes)
    under a header to a new file, locked, synced, and give it the journal's name; the old
    file stays as PATH.1. Returns the new file's fd, open for append and locked (the caller
    closes the old one); OSError (nothing renamed, the temp file removed) when it fails."""
    import fcntl

    tmp = temp_name(path)
    out = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new, so ours at once; held when it takes the name
        # the header's kept_bytes is padded so that it can be filled in in place
        header = b'{"kind": "header", "version": %d, "time": "%s", "kept_bytes": 0%s}\n' % (
            VERSION, now_iso().encode(), b" " * 20)
        write_all(out, header)
        kept = _copy_kept(fd, size, keep, out)
        filled = b'{"kind": "header", "version": %d, "time": "%s", "kept_bytes": %d' % (
            VERSION, now_iso().encode(), kept)
        os.pwrite(out, filled.ljust(len(header) - 2) + b"}\n", 0)  # before O_APPEND, which pwrite obeys
        os.fsync(out)
        old = path + ".1"
        try:
            os.unlink(old)
        except FileNotFoundError:
            pass
        try:
            os.link(path, old)
        except OSError:
            pass  # no backup where hard links are refused; the kept batches are in the new file
        os.replace(tmp, path)
        fsync_dir(os.path.dirname(path) or ".")
    except OSError:
        os.close(out)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fcntl.fcntl(out, fcntl.F_SETFL, fcntl.fcntl(out, fcntl.F_GETFL) | os.O_APPEND)
    return out


def _copy_kept(fd: int, size: int, keep: set[str], out: int) -> int:
    """Append to `out` the lines of `fd` (up to `size`) whose batch is in `keep`, in order, in
    writes of about BLOCK bytes; the bytes copied."""
    body: list[bytes] = []
    total = kept = 0
    for line in lines_forward(lambda n, off: os.pread(fd, n, off), size):
        # every line was validated by the scan that chose `keep`: only its batch id is needed
        m = BATCH_FIELD.search(line)
        bid = m.group(1).decode() if m is not None else loads(line).get("batch")
        if bid in keep:
            body.append(line)
            total += len(line)
            kept += len(line)
            if total > BLOCK:
                write_all(out, b"".join(body))
                body.clear()
                total = 0
    write_all(out, b"".join(body))
    return kept
