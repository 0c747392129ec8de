"""The sshd lab moved to devtools/sshd.py (the benchmarks start sshd hosts too); these names
stay here for the tests that still import them from `tests.sshd`."""

from devtools.sshd import SSHD_OK as SSHD_OK  # moved: devtools.sshd
from devtools.sshd import SSHD_WHY as SSHD_WHY  # moved: devtools.sshd
from devtools.sshd import SshdError as SshdError  # moved: devtools.sshd
from devtools.sshd import SshHost as SshHost  # moved: devtools.sshd
from devtools.sshd import SshLab as SshLab  # moved: devtools.sshd
from devtools.sshd import gone as gone  # moved: devtools.sshd
