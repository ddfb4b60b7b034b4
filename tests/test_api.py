"""The Python API: the README's examples run as they are, and the API gives the same bytes as
the command line for files, awkward records and coffea NanoEvents."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import ispyrender
from ispyrender.cli import app
from ispyrender.errors import SelectionError, UsageError

README = Path(__file__).parents[1] / "README.md"
SMALL = {"canvas__width": 320, "canvas__height": 180}


def readme_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Python API") : text.index("## Styles")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_has_api_examples() -> None:
    assert len(readme_examples()) >= 3


@pytest.mark.parametrize("number", range(3))
def test_readme_example_runs(number: int, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coffea's notes about the sample's branches
        exec(compile(readme_examples()[number], f"README example {number}", "exec"), {})
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written, "the example wrote nothing"
    for png in tmp_path.glob("*.png"):
        assert Image.open(png).size[0] >= 320


def test_api_picture_is_the_cli_picture(tmp_path: Path) -> None:
    src = ispyrender.open()
    img = ispyrender.render(src.event(run=1, lumi=1, event=1003), style="outreach", **SMALL)
    img.save(tmp_path / "api.png")
    result = CliRunner().invoke(
        app,
        ["render", "--ids", "1:1:1003", "--style", "outreach", "-o", str(tmp_path / "cli"),
         "--set", "canvas.width=320", "--set", "canvas.height=180", "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "api.png").read_bytes() == (tmp_path / "cli" / "1_1_1003.png").read_bytes()
    assert img._repr_png_() == (tmp_path / "api.png").read_bytes()


def test_awkward_and_coffea_events_draw_as_the_file_does(shared_data: Path) -> None:
    import uproot

    path = shared_data / "nanoaod" / "nano_dimuon.root"
    from_file = ispyrender.render(ispyrender.open(path)[5], **SMALL).array
    arrays = uproot.open(path)["Events"].arrays()
    assert np.array_equal(ispyrender.render(arrays[5], **SMALL).array, from_file)

    from coffea.nanoevents import NanoAODSchema, NanoEventsFactory

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events = NanoEventsFactory.from_root(
            {str(path): "Events"}, schemaclass=NanoAODSchema, mode="eager"
        ).events()
    assert np.array_equal(ispyrender.render(events[5], **SMALL).array, from_file)


def test_api_on_ispy_and_its_errors(shared_data: Path, tmp_path: Path) -> None:
    src = ispyrender.open(shared_data / "ig" / "Hto4l_120-130GeV.ig")
    assert len(src) == 11 and src[-1].id == src[10].id
    ev = src.event(run=199319, event=1203594102)
    assert ev.index == 1
    ispyrender.figure(ev, figure__panels=[{"view": "rho_phi"}], figure__columns=1).save(
        tmp_path / "fig.svg"
    )
    assert "<svg" in (tmp_path / "fig.svg").read_text()[:500]
    with pytest.raises(SelectionError, match="--where reads NanoAOD branches"):
        src.select(where="nMuon > 1")
    with pytest.raises(UsageError, match="export writes"):
        ispyrender.export(ev, tmp_path / "x.png")
    with pytest.raises(IndexError):
        src[11]


def test_the_api_as_a_notebook_user_meets_it(tmp_path: Path) -> None:
    """dir() and help() show the public functions; events slice like a list; pictures and
    figures have short reprs; a picture saves by its suffix; a wrong index is a TypeError."""
    import pydoc

    from ispyrender.errors import UsageError

    assert {"open", "render", "figure", "export", "animate", "Picture"} <= set(dir(ispyrender))
    assert "render(" in pydoc.render_doc(ispyrender, renderer=pydoc.plaintext)
    events = ispyrender.open()
    two = events[2:4]
    assert [e.index for e in two] == [2, 3] and events[-1].index == len(events) - 1
    with pytest.raises(TypeError, match="entry number or a slice"):
        events["2"]  # type: ignore[call-overload]
    picture = ispyrender.render(events[0], canvas__width=320, canvas__height=180)
    assert repr(picture) == "<Picture 320x180 run 1 event 1001>"
    for suffix, kind in ((".png", "PNG"), (".jpg", "JPEG"), (".webp", "WEBP")):
        with Image.open(picture.save(tmp_path / f"event{suffix}")) as im:
            assert im.format == kind and im.size == (320, 180)
    with pytest.raises(UsageError, match=r"\.png, \.jpg"):
        picture.save(tmp_path / "event.bmp")
    assert len(repr(ispyrender.figure(events[0]))) < 200


def test_api_mistakes_are_said_in_the_api_s_words() -> None:
    """A misspelt keyword is named as the keyword it was, not as a --set; a style that is not
    a name, path or Style is a TypeError saying what is expected."""
    from ispyrender.errors import StyleError

    event = ispyrender.open()[0]
    with pytest.raises(StyleError, match=r"keyword canvas__widht=960: .*did you mean 'width'"):
        ispyrender.render(event, canvas__widht=960)
    with pytest.raises(TypeError, match="preset name, a style file's path or a Style"):
        ispyrender.render(event, style=123)  # type: ignore[arg-type]


@pytest.mark.parametrize("scale", [1e6, 100, 0, -1])
def test_render_refuses_a_scale_outside_the_size_limit(scale: float) -> None:
    """render(scale=1e6) aborted the interpreter in the GL ("stack smashing detected"),
    scale=100 took 8.7 GB and scale=0 gave 16x16: now each is one UsageError with what fits."""
    from ispyrender.errors import UsageError

    with pytest.raises(UsageError, match=r"at most 4 \(pictures are at most 7680x4320\)"):
        ispyrender.render(ispyrender.open()[0], scale=scale)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: ispyrender.open(5), "open() takes file paths or URLs"),
        (lambda: ispyrender.open([1, 2]), "open() takes file paths or URLs"),
        (lambda: ispyrender.open().select(where=123), "select(where=...) takes text"),
        (lambda: ispyrender.open().select(max_events="3"), "takes a whole number"),
    ],
)
def test_wrong_types_are_type_errors_that_say_what_is_taken(call, says) -> None:  # type: ignore[no-untyped-def]
    """Before, these ended in a raw AttributeError or TypeError from deep inside."""
    with pytest.raises(TypeError, match=re.escape(says)):
        call()
