"""ispyrender: headless CMS event displays from NanoAOD and iSpy files.

The package is layered so that data flows one way: sources -> selection -> physics -> scene ->
render -> export / figures, with jobs on top and the CLI and the Python API as thin faces.
Only ``render`` imports pyvista; only ``figures`` imports matplotlib; only ``cli`` imports typer
and rich.

The Python API (see :mod:`ispyrender.api`)::

    import ispyrender
    src = ispyrender.open("events.root")
    ispyrender.render(src[0], style="outreach").save("event.png")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ispyrender.api import (
        Event,
        Events,
        FigureImage,
        Picture,
        animate,
        export,
        figure,
        open,
        render,
    )

__all__ = [
    "Event",
    "Events",
    "FigureImage",
    "Picture",
    "__version__",
    "animate",
    "export",
    "figure",
    "open",
    "render",
]


def __dir__() -> list[str]:
    # help(ispyrender) and tab completion list the API, which __getattr__ brings in lazily.
    return sorted(__all__)


def __getattr__(name: str) -> Any:
    # The API is imported on first use, so that 'import ispyrender' (and 'ispyrender --help')
    # stays instant.
    if name in __all__ and name != "__version__":
        from ispyrender import api

        return getattr(api, name)
    raise AttributeError(f"module 'ispyrender' has no attribute {name!r}")
