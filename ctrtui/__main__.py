"""`python -m ctrtui` runs the command line."""

import os
import signal
import sys

# Before anything is imported: a Ctrl-C while Python loads the command line ends it with the
# shell's status for an interrupt and no traceback (ctrtui.main takes over from here).
signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))

from ctrtui.main import main  # noqa: E402 - after the handler, on purpose

sys.exit(main())
