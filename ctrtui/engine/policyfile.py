"""Reading the policy file: only the user's own regular file, bounded in size, and never
silently missing (a default file that is there but cannot be read, or a dangling symlink on
the way to it, is a CtrtuiError; only a default file that is not there means no policy)."""

from __future__ import annotations

import os

from ctrtui.engine.owned import NotOwned, open_owned
from ctrtui.errors import CtrtuiError, os_error_text

__all__ = ["MAX_POLICY_BYTES", "read_policy_file"]

MAX_POLICY_BYTES = 1 << 20
"""A policy file larger than this is refused (a list of rules, not a data set)."""


def read_policy_file(path: str, default: bool) -> bytes | None:
    """The bytes of the policy file at `path`. `default`: it is the default path, where no file
    means no policy (None) -- but a file that is there and cannot be read, a dangling symlink
    on the way to it, or something that is not a regular file is always a CtrtuiError."""
    what = ("check the permissions of the file and of every directory above it, or give another file with "
            "--policy" if default else "check the path given to --policy and its permissions")
    try:
        # no link, the user's own file, and a FIFO must not block
        fd = open_owned(path, os.O_RDONLY, "policy file", "--policy FILE", env="XDG_CONFIG_HOME")
    except NotOwned as e:
        if default and not os.path.lexists(path):
            return None  # no file, in a directory that is not the user's: no policy, nothing to trust
        raise CtrtuiError(str(e)) from None
    except FileNotFoundError as e:
        if default:
            dangling = _dangling_link(path)
            if dangling is None:
                return None
            raise CtrtuiError(f"cannot read policy file {path}: {dangling} is a symlink to "
                              f"{_readlink(dangling)!r}, which does not exist; point it at the policy file "
                              "or remove it (no policy file means no policy)") from None
        raise CtrtuiError(f"cannot read policy file {path}: {os_error_text(e)}; {what}") from None
    except NotADirectoryError:
        if default:
            return None  # a file where a directory on the way should be: there is no policy file
        raise CtrtuiError(f"cannot read policy file {path}: a part of the path is not a directory; {what}") \
            from None
    except OSError as e:
        raise CtrtuiError(f"cannot read policy file {path}: {os_error_text(e)}; {what}") from None
    try:
        st = os.fstat(fd)  # a regular file of the user's (open_owned checked it)
        if st.st_size > MAX_POLICY_BYTES:
            raise CtrtuiError(f"policy file {path} is {st.st_size} bytes, more than a policy can be "
                              f"({MAX_POLICY_BYTES}); give the right file")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_POLICY_BYTES:
                raise CtrtuiError(f"policy file {path} is more than {MAX_POLICY_BYTES} bytes; give the right file")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise CtrtuiError(f"cannot read policy file {path}: {os_error_text(e)}; {what}") from None
    finally:
        os.close(fd)


def _dangling_link(path: str) -> str | None:
    """The first component of `path` that is a symlink to nothing, or None."""
    parts = os.path.abspath(path).split("/")
    for i in range(2, len(parts) + 1):
        p = "/".join(parts[:i])
        if os.path.islink(p) and not os.path.exists(p):
            return p
    return None


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
