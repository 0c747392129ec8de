"""State only the user owns: the checks made before ctrtui opens one of its own files.

The journal, `last-hierarchy` and the policy file decide what ctrtui moves and undoes, so,
as OpenSSH's StrictModes does for `~/.ssh`, each must be

- a regular file, not a symbolic link (every open uses O_NOFOLLOW, so a link planted after
  the check is refused by the kernel too), owned by the effective user and not writable by
  group or others;
- in a directory that only the user (or root) can change: every directory from `/` down to
  the file's must be owned by the effective user or root and not writable by group or
  others, unless it has the sticky bit (`/tmp`: nobody else can rename or replace what is
  ours there). A symbolic link on the way must be owned by the user or root, and the
  directories of its target are checked the same way.

Otherwise `NotOwned` is raised, one sentence naming the file, what is wrong and what to do.
A file of root's in another user's home (`sudo -E`, `su` without `-`, a shared `--journal`)
is refused that way: whoever owns a directory on the way could swap the file, point a link
to another of root's files, or write a batch that root would then "undo".

Temporary files are created with O_EXCL|O_NOFOLLOW and named `NAME.tmpPID`; those of a
process that is gone are removed by `remove_stale_temps`. Plain Python, no Textual.
"""

from __future__ import annotations

import errno
import os
import re
import stat

from ctrtui.errors import CtrtuiError
from ctrtui.text import display

__all__ = ["NotOwned", "check_dir", "check_fd", "check_file", "make_dir", "open_owned", "read_owned",
           "remove_stale_temps", "temp_name", "write_owned"]

_MAX_LINKS = 40
"""Symbolic links followed on the way to one directory (the kernel's own limit, MAXSYMLINKS)."""


class NotOwned(CtrtuiError):
    """A state or policy file (or a directory above it) that someone else could change: the
    message is the sentence to show; `path` is the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def _who(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _fix(path: str, uid: int, option: str) -> str:
    return (f"make it yours (chown {uid} {display(path)}; chmod go-w {display(path)}), remove it, or "
            + (f"give another with {option}" if option else "set XDG_STATE_HOME to a directory of yours"))


def check_fd(fd: int, path: str, what: str, option: str = "") -> os.stat_result:
    """The stat of the open file `fd` (of `path`, a `what`: "journal", "policy file"), or
    `NotOwned` unless it is a regular file owned by the effective user and not writable by
    group or others."""
    st = os.fstat(fd)
    _check_st(st, path, what, option)
    return st


def _check_st(st: os.stat_result, path: str, what: str, option: str) -> None:
    euid = os.geteuid()
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory (EISDIR)" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise NotOwned(path, f"the {what} {display(path)} is {kind}; "
                       + (f"give a regular file with {option}" if option else "remove it"))
    if st.st_uid != euid:
        raise NotOwned(path, f"the {what} {display(path)} is owned by {_who(st.st_uid)}, not by you ({_who(euid)}), "
                       f"and ctrtui uses only files its user owns; {_fix(path, euid, option)}")
    if st.st_mode & 0o022:
        raise NotOwned(path, f"the {what} {display(path)} is writable by group or others (mode "
                       f"{stat.S_IMODE(st.st_mode):04o}), and ctrtui uses only files no one else can change; "
                       f"{_fix(path, euid, option)}")


def check_dir(directory: str, what: str, path: str, option: str = "", env: str = "XDG_STATE_HOME") -> None:
    """`NotOwned` unless every directory from `/` down to `directory` (those that exist; the
    rest ctrtui makes itself) is owned by the effective user or root and not writable by
    group or others (or has the sticky bit). `path`, `what`: the file it is for, named in
    the sentence; `env`: the variable that moves it elsewhere."""
    problem = _dir_problem(os.path.abspath(directory), os.geteuid(), 0)
    if problem is not None:
        raise NotOwned(path, f"the {what} {display(path)} lies under {problem}, so someone else could replace it; "
                       f"set {env} to a directory of yours"
                       + (f", or give another file with {option}" if option else ""))


def _dir_problem(path: str, euid: int, links: int) -> str | None:
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        p = "/".join(parts[:i]) or "/"
        if i > 1 and not parts[i - 1]:
            continue  # a trailing or doubled slash
        try:
            st = os.lstat(p)
        except OSError:
            return None  # missing (made by ctrtui) or not a directory: the open says so
        if stat.S_ISLNK(st.st_mode):
            if st.st_uid not in (0, euid):
                return f"{display(p)}, a symbolic link owned by {_who(st.st_uid)}"
            if links >= _MAX_LINKS:
                return f"{display(p)}, a chain of more than {_MAX_LINKS} symbolic links"
            problem = _dir_problem(os.path.realpath(p), euid, links + 1)
            if problem is not None:
                return problem
            continue
        if not stat.S_ISDIR(st.st_mode):
            return None
        if st.st_uid not in (0, euid):
            return f"{display(p)}, a directory owned by {_who(st.st_uid)}"
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return (f"{display(p)}, a directory writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}, "
                    "without the sticky bit)")
    return None


def _link_sentence(path: str, what: str, option: str) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    gone = "" if os.path.exists(path) else ", which does not exist"
    return (f"the {what} {display(path)} is a symbolic link (to '{display(target)}'{gone}), and ctrtui does not "
            "follow links to its own files (whoever can change the link decides what is written); replace the "
            "link by the file itself" + (f", or give the file's real path with {option}" if option else ""))


def check_file(path: str, what: str, option: str = "") -> bool:
    """Check `path` and its directories without opening it: False when it does not exist,
    True when it is fine, `NotOwned` otherwise (a symbolic link, even dangling, included)."""
    check_dir(os.path.dirname(path) or ".", what, path, option)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # the open says what is wrong (EACCES, ENOTDIR)
    if stat.S_ISLNK(st.st_mode):
        raise NotOwned(path, _link_sentence(path, what, option))
    _check_st(st, path, what, option)
    return True


def open_owned(path: str, flags: int, what: str, option: str = "", mode: int = 0o600,
               env: str = "XDG_STATE_HOME") -> int:
    """`os.open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)` after `check_dir`, then
    `check_fd` (the file opened is the one checked); `NotOwned` for a link or a file that is
    not the user's, OSError as `os.open` raises it. O_NONBLOCK keeps a FIFO from hanging us;
    the fd is made blocking again."""
    check_dir(os.path.dirname(path) or ".", what, path, option, env)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as e:
        if e.errno == errno.ELOOP and os.path.islink(path):  # ELOOP: the last component is a link
            raise NotOwned(path, _link_sentence(path, what, option)) from None
        raise
    try:
        check_fd(fd, path, what, option)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_owned(path: str, what: str, limit: int, option: str = "") -> bytes | None:
    """The content of `path` (None when it does not exist), checked as `open_owned` does;
    OSError when it cannot be read, ValueError when it is longer than `limit` bytes."""
    try:
        fd = open_owned(path, os.O_RDONLY, what, option)
    except FileNotFoundError:
        return None
    try:
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise ValueError(f"the {what} {display(path)} is more than {limit} bytes")
            chunks.append(chunk)
    finally:
        os.close(fd)


def make_dir(directory: str) -> None:
    """Make `directory` and what is missing above it, each only for the user (0700, as the
    XDG base directory spec asks), whatever the umask lets others have: a directory ctrtui
    made must pass its own checks. OSError as `os.mkdir` raises it."""
    missing = []
    d = os.path.abspath(directory)
    while not os.path.lexists(d):
        missing.append(d)
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass


def temp_name(path: str) -> str:
    """The temporary file a rewrite of `path` goes through: `PATH.tmpPID`."""
    return f"{path}.tmp{os.getpid()}"


def write_owned(path: str, data: bytes, what: str, option: str = "") -> None:
    """Replace `path` by a file holding `data` (mode 0600), through `PATH.tmpPID` created
    with O_EXCL|O_NOFOLLOW, after the checks of `check_file`. NotOwned or OSError."""
    directory = os.path.dirname(path) or "."
    check_file(path, what, option)
    make_dir(directory)
    remove_stale_temps(path)
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_stale_temps(path: str) -> list[str]:
    """Remove the `PATH.tmpPID` files whose process is gone (a rewrite killed half-way),
    when they are the user's own regular files; return their names."""
    directory = os.path.dirname(path) or "."
    prefix = os.path.basename(path) + ".tmp"
    pattern = re.compile(re.escape(prefix) + r"([0-9]{1,10})\Z")
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    euid = os.geteuid()
    for name in names:
        m = pattern.match(name)
        if m is None or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        full = os.path.join(directory, name)
        try:
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode) and st.st_uid == euid:
                os.unlink(full)
                removed.append(full)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # never a process of ours: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: someone's process is alive under that PID
    return True

