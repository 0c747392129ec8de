"""The lab's guest (building, caching and booting the Debian image) moved to
devtools/labguest.py (benchmarks/lab.py boots it too; `python -m devtools.labguest build`);
these names stay here for the lab tests that still import them from `tests.lab.guest`."""

from devtools.labguest import LAB_OK as LAB_OK  # moved: devtools.labguest
from devtools.labguest import LAB_WHY as LAB_WHY  # moved: devtools.labguest
from devtools.labguest import VENV as VENV  # moved: devtools.labguest
from devtools.labguest import Guest as Guest  # moved: devtools.labguest
from devtools.labguest import LabError as LabError  # moved: devtools.labguest
from devtools.labguest import image as image  # moved: devtools.labguest
