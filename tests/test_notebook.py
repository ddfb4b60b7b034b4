"""The notebook user's path, through a real Jupyter kernel (nbclient and ipykernel): the
README's Python API examples as the cells of a notebook, then what a notebook user looks at,
a picture's rich display, short reprs, help() and tab completion, and a mistake shown as one
line rather than a crash of the kernel."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from PIL import Image
from test_api import readme_examples

LOOK = [
    # What a notebook shows for a picture: the PNG itself (IPython's rich display).
    "import ispyrender\nev = ispyrender.open()[0]\n"
    "ispyrender.render(ev, canvas__width=320, canvas__height=180)",
    # Short reprs, slicing, and the public functions where help() and tab completion look.
    "src = ispyrender.open()\nprint(repr(src[2:4]))\nprint(repr(src[0]))\n"
    "print(sorted(n for n in dir(ispyrender) if not n.startswith('_')))",
    # A wrong key: one line naming it and the nearest, as an exception the cell shows.
    "try:\n    ispyrender.render(ev, canvas__widht=960)\nexcept ValueError as exc:\n"
    "    print('refused:', exc)",
]


def test_the_readme_examples_run_in_a_jupyter_kernel(tmp_path: Path) -> None:
    cells = [nbformat.v4.new_code_cell(code) for code in [*readme_examples(), *LOOK]]
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # a cell that raises fails the test with its traceback
    outputs = [cell.outputs for cell in notebook.cells]
    # The README's examples wrote their files where the notebook runs.
    assert {"event.png", "event.pdf", "event.glb", "turn.gif", "dimuon.png"} <= {
        p.name for p in tmp_path.iterdir()
    }
    shown, listed, refused = outputs[-3:]
    (result,) = [o for o in shown if o.output_type == "execute_result"]
    png = Image.open(io.BytesIO(base64.b64decode(result.data["image/png"])))
    assert png.size == (320, 180)
    text = "".join(o.get("text", "") for o in listed)
    sliced, one = text.splitlines()[:2]
    assert sliced.startswith("[<Event 1:1:1003 ") and sliced.count("<Event ") == 2, sliced
    assert one.startswith("<Event 1:1:1001 ") and len(one) < 120  # short, not an array
    for name in ("render", "figure", "open", "animate", "export"):
        assert f"'{name}'" in text, name
    said = "".join(o.get("text", "") for o in refused)
    assert said.startswith("refused: ") and "canvas__widht" in said and "width" in said, said
    assert len(said.strip().splitlines()) == 1
