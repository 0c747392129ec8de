"""`python -m ctrtui` runs the command line."""

import sys

from ctrtui.cli import main

sys.exit(main())
