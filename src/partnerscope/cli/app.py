"""The typer application, its global options and its error handling."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from partnerscope import __version__
from partnerscope.errors import ConfigError, PartnerscopeError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class UsageError(PartnerscopeError, ValueError):
    """A command-line value that is not valid."""


class State:
    """What the global options decided; kept in ``ctx.obj``."""

    def __init__(self, workspace: Path | None, debug: bool) -> None:
        self.workspace_dir = workspace
        self.debug = debug

    def workspace(self) -> Any:
        from partnerscope.workspace import Workspace

        return Workspace.open(self.workspace_dir)


class _Group(TyperGroup):
    """Turns partnerscope's own errors into one red line and exit code 1 (--debug: traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PartnerscopeError as exc:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            if state is not None and state.debug:
                raise
            # messages quote file names, cells and keys: never read them as markup, and keep
            # each on one line (the terminal wraps it, a log keeps it whole)
            if isinstance(exc, ConfigError):
                err_console.print(f"[bold red]Error:[/] {escape(exc.path)}", soft_wrap=True)
                for problem in exc.problems:
                    err_console.print(f"  [red]-[/] {escape(problem)}", soft_wrap=True)
            else:
                err_console.print(f"[bold red]Error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print(
                "[bold red]Interrupted.[/] Nothing was changed by the interrupted command."
            )
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    help="partnerscope: channel-partner metrics, scorecards, tiers, payouts and decisions.",
)


def _version(value: bool) -> None:
    if value:
        console.print(f"partnerscope {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="PARTNERSCOPE_WORKSPACE",
            help="Workspace folder (default: the current folder).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = State(workspace, debug)


#: ``--by``: who makes a change (the actor the audit log records).
By = Annotated[
    str | None,
    typer.Option("--by", help="Who makes the change (default: $PARTNERSCOPE_USER or your login)."),
]


def actor(by: str | None = None) -> str:
    """``--by``, else ``$PARTNERSCOPE_USER``, else the login name."""
    from partnerscope.decisions.service import current_user

    return by or current_user()


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if isinstance(obj, State):
        return obj
    return State(
        Path(os.environ["PARTNERSCOPE_WORKSPACE"])
        if os.environ.get("PARTNERSCOPE_WORKSPACE")
        else None,
        False,
    )


def program() -> str:
    """The command that runs this partnerscope from the user's shell, for hints to quote:
    ``partnerscope`` when that is on PATH, else the running executable's path (e.g.
    ``.venv/bin/partnerscope`` in a virtual environment that is not activated)."""
    on_path = shutil.which("partnerscope")
    script = Path(sys.argv[0]).absolute()
    if script.name != "partnerscope":  # `python -m partnerscope`, or a test runner
        if on_path:
            return "partnerscope"
        return f"{_shown(Path(sys.executable))} -m partnerscope"
    if on_path and Path(on_path).resolve() == script.resolve():
        return "partnerscope"
    return _shown(script)


def _shown(path: Path) -> str:
    """``path`` as typed from the current folder: relative below it, absolute elsewhere."""
    absolute = path.absolute()
    try:
        return shlex.quote(str(absolute.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(absolute))


def main() -> None:
    app()
