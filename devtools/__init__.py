"""Tools shared by the tests, the benchmarks and the scripts, and by nothing of the product:
driving the terminal UI with Pilot (`pilot`) and waiting on its state (`waiting`), real sshd
servers on loopback (`sshd`), fake agents and a hostile `ssh` (`agentfakes`,
`hostile_ssh`), the lab's qemu guest (`labguest`), and removing throwaway cgroup trees
(`cgroupdirs`).

It lives beside `ctrtui/`, `tests/` and `benchmarks/` at the top of the checkout and is not
installed: the tests find it from the checkout's root (pytest puts it on `sys.path`, as for
`tests`), the benchmarks and scripts put the root on `sys.path` themselves, so
`benchmarks/` and `scripts/` import nothing from `tests/`.
"""
