"""The Textual terminal UI (the only package that imports textual).

Modules:

- `app` — `CtrtuiApp`: the state every part reads (hosts, snapshot, hierarchy, view flags),
  notifications, the driver, the worker-message handlers; it is the helpers' `ScreenSide`.
- `screenside` — `ScreenSide`: what the helpers may ask of the screen side (tell the person,
  run a named worker, the panes, the other helpers), as typed interfaces; no helper imports
  the app.
- `session` — `Session`: what is shown (the host's reader, mover, service (this machine's)
  and cgroup ops, the hierarchy, the snapshot, the view flags), handed to the helpers; the app's attributes of
  those names are the session's.
- `mainscreen` — `MainScreen`, the app's default screen: the layout and its keys, each
  handed to the helper that does it.
- `live` — `LiveView`: the refresh cycle (snapshot worker, merge, diff, patch, markers,
  auto-refresh timer, pause).
- `moves` — `Moves`: cut/put, the target picker, drag and drop, plan, confirm (with
  `ctrtui.engine.risk`), apply, undo, the move log.
- `detailfeed` — `DetailFeed`: what the detail line shows and when it is read.
- `statsfeed` — `StatsFeed`: the tree's figure columns and the meters line, read in workers.
- `cgroupactions` — `CgroupActions`: n, N, D, z (create, remove, freeze, thaw cgroups).
- `navigate` — `Navigator`: switching hierarchy, go to a cgroup, find a PID.
- `messages` — what the thread workers post back (`SnapshotTaken`, `Planned`, `BatchDone`…).
- `hostviews`, `hostmovers`, `hosts`, `hostfeed` — several hosts (`ctrtui --host`): what a
  host is to the UI (`HostView`, `Link`: a Reader, a `Mover` and cgroup ops), the `Mover`
  interface (`LocalMover` wraps this machine's `LocalService`), a remote host (`RemoteMover` moves
  through the host's `RemoteService`), and the
  hosts of one session reached, probed and switched in thread workers (docs/architecture.md,
  "Hosts in the terminal UI").
- `commands` — the command palette's entries.
- `widgets/` — one widget (or a small family) per module: `tree` (over `treefigures`, its
  figure columns), `tasklist` (over `tasklines`, its rows and their drawing), `detail`,
  `status`, `filterbox`, `linelist`, `fuzzypaths`, `footer` (`?` and `q` first).
- `screens/` — one modal screen per module, each a `dialog.Dialog`: `picker`, `confirm`, `movelog`, `goto`,
  `findpid`, `switch`, `keys` (every key, grouped by pane), `hosts` (the host switcher),
  `findhosts` (find a PID or a command on every host).
- `rows`, `fuzzy`, `start`, `layout`, `taskdetails`, `treelabels`, `snapshotpatch` — pure
  logic without Textual: the task list's columns, sort and filter text, members of a subtree;
  the fuzzy path matcher (one hierarchy, or `HIER:/path` of all: `RefMatcher`); where the UI
  opens; how the panes share the width; the task list's details (cached, wanted, read); what
  a tree line says; the first snapshot, merge and reshape.
- `reportstyle` — plans, reports and errors on screen: the words of `ctrtui.report` (shared with
  the command line) as styled Content.
- `untrusted`, `styles`, `gcfreeze` — escaping of untrusted text into Content/Text, cached
  component styles, `gc.freeze` after a big load (full collections kept off key presses).

Handler style: messages are handled by `@on(MessageClass[, selector])` methods with private
names, never by `on_<namespace>_<message>` naming; Textual's own events (mount, resize,
mouse, focus) keep their `on_<event>` methods. Workers are named methods of the object whose
job they are, started through `ScreenSide.run_named(job, *args, name=..., group=...)` (a
thread worker whose description is the method's name, never a lambda; those of widgets and
dialogs are `@work` methods) and post their results as messages addressed to the helper's
method that handles them (`WorkerResult.to`; the app's one `@on(WorkerResult)` calls it);
one `@on(Worker.StateChanged)` handler in the app turns any worker failure into a
notification (and re-arms the refresh after a failed snapshot).

The path of one keypress-move (`x` in the task list, `p` in the tree): `MainScreen.action_cut`
-> `Moves.cut_selection` remembers PIDs and start times; `action_put` -> `Moves.put` ->
a `plan` worker (the shown host's `Mover.plan`) -> `Planned` -> `Moves.planned` ->
`confirm_and_apply` (`ctrtui.engine.risk.assess`; `ConfirmMove` when it finds risks) ->
a `move` worker (`Mover.apply`) -> `BatchDone` -> `Moves.batch_done` (notification,
move log) -> `action_refresh`.

The path of one refresh: the timer (`LiveView.arm`) or `r` -> `LiveView.refresh` -> a
`snapshot` worker (`Backend.snapshot` of the shown hierarchy, `task_details` of the rows on
screen) -> `SnapshotTaken` -> `LiveView.snapshot_taken`: merged with the other hierarchies'
last snapshots, diffed (`diff_hierarchy`), `CgroupTree.update` and `TaskList.show(diff=…)`
patch the panes, markers of new cgroups are read in a `markers` worker, the detail line is
drawn again, the next refresh is armed.
"""
