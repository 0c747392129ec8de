"""The command line: `ctrtui SUBCOMMAND` scripts the same engine as the terminal UI.

- parser.py: the one argparse parser (`build_parser`);
- common.py: what every command shares (exit codes, escaping, `UsageError`, the backend and
  engine the options name, `resolve` of `HIERARCHY:/path`, JSON output, signals);
- listing.py: `hierarchies`, `ls`, `ls --stats`, `tasks`;
- moves.py: `move`, `undo`, `log`;
- cgroups.py: `mkdir`, `rmdir`, `freeze`, `thaw`;
- history.py: `record`, `where`, `diff` (and `--at`, opened in common.py);
- hosts.py: any of them on remote hosts (`--host`);
- completion.py: shell completion (argcomplete);
- guard.py: the output guard and the interrupt handling around every command;
- entry.py: the dispatch (`run`). The program's entry point, which also starts the terminal
  UI, is ctrtui/main.py (above both).

Importing any of these must stay cheap: Textual is never imported here, and the backends and
the engine only when a subcommand needs them.
"""
