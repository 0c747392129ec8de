"""The parts of the simulated kernel (`ctrtui.sources.simulated.SimKernel` is made of them).

`objects` holds its tasks, cgroups and hierarchies; `rules` the checks that mirror the real
kernel's (what a write may do, and its errno); `state` the tree and the task placement with
their snapshot caches; `world` the builder calls (hierarchies, tasks, the clock, churn);
`reading` the Reader side (snapshots, cgroup and task facts); `usage` the stats files;
`writing` the write entry points (membership files, cgroup files, mkdir and rmdir), which
apply the rules and change the state.

These modules never travel to a remote host (only the modules at the top of
`ctrtui.sources` do): the agent reads the host's real cgroups.
"""
