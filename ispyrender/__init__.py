"""ispyrender: headless CMS NanoAOD event displays.

The package is organised so that data flows one way:
reading -> selection -> objects -> scene -> render -> outputs.
Only ``render`` imports pyvista; only ``cli`` imports typer and rich.
"""

__version__ = "0.1.0"
