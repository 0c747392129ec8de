"""The modal screens the main app pushes, one per module: target picker, confirm, move log,
go to cgroup, find PID, switch hierarchy. Each is a `Dialog` (ctrtui/ui/screens/dialog.py):
the shared look and keys are written once there."""

from ctrtui.ui.screens.confirm import ConfirmMove
from ctrtui.ui.screens.findpid import FindPid
from ctrtui.ui.screens.goto import GoToCgroup
from ctrtui.ui.screens.movelog import MoveLog
from ctrtui.ui.screens.picker import TargetPicker
from ctrtui.ui.screens.switch import SwitchHierarchy

__all__ = ["ConfirmMove", "FindPid", "GoToCgroup", "MoveLog", "SwitchHierarchy", "TargetPicker"]
