"""The fake agents and the hostile `ssh` moved to devtools/agentfakes.py (benchmarks/remote.py
uses them too); these names stay here for the tests that still import them from
`tests.agentfakes`."""

from devtools.agentfakes import HELLO as HELLO  # moved: devtools.agentfakes
from devtools.agentfakes import fake_agent as fake_agent  # moved: devtools.agentfakes
from devtools.agentfakes import fake_ssh as fake_ssh  # moved: devtools.agentfakes
from devtools.agentfakes import gone as gone  # moved: devtools.agentfakes
from devtools.agentfakes import parent_of as parent_of  # moved: devtools.agentfakes
