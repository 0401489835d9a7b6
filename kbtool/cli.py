"""The `kbtool` command line: one Typer app, one module per command in kbtool/commands/."""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer import _click as click

from kbtool import __version__
from kbtool.console import err_console
from kbtool.errors import KbtoolError

# help shows an argument's metavar (INPUT), not a Python type beside it (<list[str]>)
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]

# command -> (module in kbtool.commands, function, short help for the command list: Click cuts
# longer ones with "..."). A command's module is imported when that command runs, not for every
# command: the analysis commands' libraries (scipy.stats, statsmodels) cost ~0.7 s of start-up.
_COMMANDS = {
    "zscore": ("zscore", "zscore", "WHO z-scores, flags and statuses for every row."),
    "import": ("importer", "import_", "Add registers to the local store."),
    "sources": ("importer", "sources", "List the imports in the store."),
    "prevalence": ("prevalence", "prevalence", "Stunting prevalence by place and period."),
    "quality": ("quality", "quality", "Data quality and plausibility per group."),
    "trend": ("trend", "trend", "Prevalence by year against a target: on track?"),
    "report": ("report", "report", "One HTML report: where to act, trend, data quality."),
    "audit": ("audit", "audit", "Do the register's own z-scores agree with WHO?"),
    "compare": ("compare", "compare", "Programme units against the others: DiD."),
    "skdn": ("skdn", "skdn", "SKDN per posyandu and month; --list: who to follow up."),
    "growth": ("growth", "growth", "Stunting onset and recovery by place and year."),
    "store": ("store", "SUBCOMMANDS", "Check or repair the store."),
}


HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class _Commands(typer.core.TyperGroup):
    """kbtool's command group, loading a command's module only when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*_COMMANDS, *super().list_commands(ctx)]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # the list from _COMMANDS: `kbtool --help` imports no command's module
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in _COMMANDS.items()])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, function, short = _COMMANDS[cmd_name]
        loaded = importlib.import_module(f"kbtool.commands.{module}")
        found = getattr(loaded, function)
        if isinstance(found, dict):  # a group of commands: kbtool store check|repair
            group = typer.Typer(
                name=cmd_name,
                help=loaded.HELP,
                no_args_is_help=True,
                context_settings=HELP_OPTIONS,
                rich_markup_mode=None,
            )
            for name, (command, help_text) in found.items():
                group.command(name, short_help=help_text)(reporting_errors(command))
            return typer.main.get_group(group)
        info = typer.models.CommandInfo(
            name=cmd_name, callback=reporting_errors(found), short_help=short
        )
        return typer.main.get_command_from_info(
            info, pretty_exceptions_short=True, rich_markup_mode=None
        )

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Typer suggests a name among the commands loaded so far: suggest among all of them
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as err:
            close = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if close and "Did you mean" not in err.message:
                named = ", ".join(repr(name) for name in close)
                err.message = f"{err.message.rstrip('.')}. Did you mean {named}?"
            raise


app = typer.Typer(
    cls=_Commands,
    name="kbtool",
    context_settings=HELP_OPTIONS,
    help="Stunting analysis for posyandu registers: WHO-exact z-scores (WHO Child Growth "
    "Standards 2006), a private local store, prevalence by kelurahan and year.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}

F = TypeVar("F", bound=Callable[..., Any])


DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]


def reporting_errors(command: F) -> F:
    """Turn kbtool's errors into one line on stderr and their exit code (1 data, 2 usage); a
    bug too, as an internal error. --debug (before or after the command) shows the traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        _state["debug"] = _state["debug"] or debug
        try:
            return command(*args, **kwargs)
        except KbtoolError as err:
            if _state["debug"]:
                raise
            err_console.print(f"kbtool: error: {err}", markup=False)
            raise typer.Exit(err.exit_code) from err
        except KeyboardInterrupt:
            err_console.print("kbtool: interrupted", markup=False)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise  # Click prints a bad option value with the usage, exit code 2
        except Exception as err:
            if _state["debug"]:
                raise
            err_console.print(
                f"kbtool: internal error: {type(err).__name__}: {err} "
                "(run with --debug for the traceback and please report it)",
                markup=False,
            )
            raise typer.Exit(1) from err

    # the command's own options plus --debug, as Typer reads them from the signature
    signature = inspect.signature(command, eval_str=True)
    debug = inspect.Parameter(
        "debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOption
    )
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), debug]
    )
    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        print(f"kbtool {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: DebugOption = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options that apply to every command."""
    _state["debug"] = debug


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kbtool")
    sys.exit(0)
