"""The `kbtool` command line: one Typer app, one module per command in kbtool/commands/."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from kbtool import __version__
from kbtool.console import err_console
from kbtool.errors import KbtoolError

# help shows an argument's metavar (INPUT), not a Python type beside it (<list[str]>)
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]

app = typer.Typer(
    name="kbtool",
    context_settings={"help_option_names": ["-h", "--help"]},
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
    """Turn kbtool's errors into one line on stderr and their exit code (1 data, 2 usage).

    With --debug (before or after the command's name) the traceback is shown instead. Anything
    unexpected is a bug: it is reported the same way, as an internal error, rather than as a
    traceback users cannot act on.
    """

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
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options that apply to every command."""
    _state["debug"] = debug


def _register() -> None:
    from kbtool.commands import (
        audit,
        compare,
        growth,
        importer,
        prevalence,
        quality,
        report,
        skdn,
        store,
        trend,
        zscore,
    )

    # short help for the command list: Click cuts longer ones with "..."
    for name, command, short in (
        ("zscore", zscore.zscore, "WHO z-scores, flags and statuses for every row."),
        ("import", importer.import_, "Add registers to the local store."),
        ("sources", importer.sources, "List the imports in the store."),
        ("prevalence", prevalence.prevalence, "Stunting prevalence by place and period."),
        ("quality", quality.quality, "Data quality and plausibility per group."),
        ("trend", trend.trend, "Prevalence by year against a target: on track?"),
        ("report", report.report, "One HTML report: where to act, trend, data quality."),
        ("audit", audit.audit, "Do the register's own z-scores agree with WHO?"),
        ("compare", compare.compare, "Programme units against the others: DiD."),
        ("skdn", skdn.skdn, "SKDN per posyandu and month; --list: who to follow up."),
        ("growth", growth.growth, "Stunting onset and recovery by place and year."),
    ):
        app.command(name, short_help=short)(reporting_errors(command))
    store.app.command("check", short_help="Check every store file.")(reporting_errors(store.check))
    store.app.command("repair", short_help="Set damaged files aside.")(
        reporting_errors(store.repair)
    )
    app.add_typer(store.app, name="store", short_help="Check or repair the store.")


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kbtool")
    sys.exit(0)
