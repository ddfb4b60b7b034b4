"""The ``ispyrender`` command line: one module per command, shared options in ``common``.

Every user error arrives as an IspyError and is printed as one line with a non-zero exit code,
without a traceback.
"""

from __future__ import annotations

import typer

from ispyrender.cli.animate import animate
from ispyrender.cli.figure import figure
from ispyrender.cli.gallery import gallery
from ispyrender.cli.info import inspect, sample, selections, styles
from ispyrender.cli.render import render

app = typer.Typer(
    name="ispyrender",
    help="Headless CMS event displays from NanoAOD and iSpy files: PNGs, figures, movies, 3D.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from ispyrender import __version__

        typer.echo(f"ispyrender {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Headless CMS event displays from NanoAOD and iSpy files: PNGs, figures, movies, 3D."""


for command in (render, figure, animate, gallery, inspect, sample, styles, selections):
    app.command()(command)


def main() -> None:
    app()


__all__ = ["app", "main"]
