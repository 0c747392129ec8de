"""`python3 -m ctrtui.agent`: the agent on stdin/stdout, where ctrtui is installed (the hello
comes first; docs/remote.md). The local side normally starts it through the stub instead."""

import sys

from ctrtui.agent import serve

sys.exit(serve())
