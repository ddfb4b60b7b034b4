"""Hostile input, by class: name templates, names too long (or not UTF-8), numbers past 64 bits
in --where/--ids/--events, styles built to hurt (alias bombs, control characters, deep
nesting, .inf/.nan, a whole file quoted back), math text in labels, and rich markup or emoji
codes in paths.

Every case ends in one line ``error: ...`` on stderr with a non-zero exit code and nothing
written, or in a correct result; never a traceback, a hang or unbounded memory. The command
line cases run as real processes under a 2 GiB address-space limit and a timeout, two at a
time; the parsing cases, generated in bulk, run in-process.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import string
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from limited import limited_command

from ispyrender.config.loader import load_style
from ispyrender.config.messages import properties, schema
from ispyrender.config.style import NAME_MAX, TEMPLATE_FIELDS
from ispyrender.errors import SelectionError, StyleError
from ispyrender.outputs.files import encode_png, printable
from ispyrender.outputs.targets import STEM_RESERVE, format_name
from ispyrender.selection.entries import parse_events, parse_ids
from ispyrender.selection.where import evaluate, parse_where
from ispyrender.sources.nanoaod import Column
from ispyrender.sources.sample import sample_path

MEMORY = 2 << 30  # bytes of address space a command may use
TIMEOUT = 60  # seconds; every case here takes a few
SMALL = [
    "--set",
    "canvas.width=160",
    "--set",
    "canvas.height=90",
    "--set",
    "canvas.anti_aliasing=none",
]
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

Arg = str | bytes | Path


def run_cli(args: list[Arg], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``python -m ispyrender ARGS`` in ``cwd``, with bounded memory and time; arguments may
    be bytes (file names that are not UTF-8)."""
    env = {**os.environ, "COLUMNS": "60"}  # a narrow terminal must not wrap the error line
    return subprocess.run(
        [*limited_command(MEMORY), *(os.fsencode(a) for a in args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )


def text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


def files_in(folder: Path) -> list[str]:
    """Every entry below ``folder`` (hidden and temporary files included)."""
    if not folder.exists():
        return []
    return sorted(os.fsdecode(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line(message: str) -> str:
    """A refusal's message: one line, short, starting with 'error:' (CLI) or not (API)."""
    assert "Traceback" not in message, message
    assert "\n" not in message.strip(), message
    assert len(message) < 600, message  # an excerpt of the offending text, not all of it
    return message


def assert_refused(proc: subprocess.CompletedProcess[bytes], work: Path, says: str) -> None:
    err = text(proc.stderr)
    assert proc.returncode != 0, err
    one_line(err)
    assert err.startswith("error: "), err
    assert says in err, err
    assert text(proc.stdout) == ""
    # Nothing in the output folder, nothing beside it (no probe, no temporary file, no build
    # folder of a gallery).
    assert files_in(work) == [], files_in(work)


# ---- the command line cases ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A command run in an empty folder ``work`` whose ``out`` it may write."""

    name: str
    args: Callable[[Path, Path], list[Arg]]  # (fixtures, work) -> arguments
    says: str | None  # text of the one error line; None: the command must succeed
    check: Callable[[Path, str], None] | None = None  # (work, stderr) for a success


LONG = "a" * 300
BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]"
            for p, n in zip("abcdefgh", "bcdefghi", strict=False)
        ),
    ]
)
BAD_LABELS = ["$\\frac{$", "$x^^2$", "$$", "$\\foo$", "cost $5", "$" + "{" * 200 + "}" * 200 + "$"]


def make_fixtures(folder: Path) -> None:
    sample = sample_path()
    shutil.copy(sample, folder / "sample.root")
    shutil.copy(sample, folder / os.fsdecode(b"bad\xff name.root"))
    shutil.copy(sample, folder / "in:x:[red].root")
    shutil.copy(sample, folder / ("s" * 232 + ".root"))  # {source}: a name of 232 bytes
    (folder / "bomb.yaml").write_text(BOMB + "\n")
    (folder / "long.yaml").write_text(("x" * 79 + " ") * 500 + "\n")  # one YAML scalar
    (folder / "binary.yaml").write_bytes(bytes(range(256)) * 10)
    (folder / "control.yaml").write_bytes(b"canvas:\n  width: 320\nlabels: {experiment: a\x01b}\n")
    (folder / "deep_flow.yaml").write_text("labels: " + "[" * 5000 + "]" * 5000 + "\n")
    (folder / "deep_block.yaml").write_text("".join(" " * i + "k:\n" for i in range(200)))
    (folder / "recursive.yaml").write_text("labels: &r {experiment: [*r]}\n")
    (folder / "big_int.yaml").write_text("canvas: {width: " + "9" * 5000 + "}\n")
    (folder / "date.yaml").write_text("labels: {experiment: 2024-13-45}\n")
    (folder / "infinite.yaml").write_text("camera: {zoom: .inf}\n")
    labels = {
        "base": "paper",
        "labels": {"experiment": BAD_LABELS[0], "simulation_text": BAD_LABELS[1]},
        "collections": {"muons": {"label": BAD_LABELS[2]}, "jets": {"label": BAD_LABELS[3]}},
        "figure": {
            "energy": BAD_LABELS[4],
            "recorded": BAD_LABELS[5],
            "table": "right",
            "panels": [{"view": "3d", "title": "$p_T$"}, {"view": "rho_phi", "title": "$"}],
            "masses": [{"collection": "muons", "label": "$m_{\\mu\\mu$"}],
        },
    }
    (folder / "labels.yaml").write_text(yaml.safe_dump(labels))


def _template(stem_bytes: int) -> str:
    """A template whose names have ``stem_bytes`` bytes before .png (run is 1 in the sample)."""
    return "output.name_template=" + "a" * (stem_bytes - 9) + "{run:09d}.png"


def _png_text_has_escaped_name(work: Path, err: str) -> None:
    from PIL import Image

    (png,) = (work / "out").iterdir()
    with Image.open(png) as im:
        assert im.text["ispyrender.input"].endswith("bad\\xff name.root")


def _wrote_one(work: Path, err: str) -> None:
    assert len(files_in(work / "out")) == 1, files_in(work)


def _says_literally(expected: str) -> Callable[[Path, str], None]:
    def check(work: Path, err: str) -> None:
        assert expected in err, err

    return check


CASES = [
    # 1. name templates: refused when the style is read, before anything is made
    *(
        Case(
            f"template-{i}",
            lambda f, w, t=t: [
                "render",
                f / "sample.root",
                "-o",
                w / "out",
                *SMALL,
                "--set",
                f"output.name_template={t}",
            ],
            "output.name_template",
        )
        for i, t in enumerate(["{run:>{event}}.png", "{run:s}.png", "{run!x}.png", "{lumi!r}.png"])
    ),
    # 2. names too long or not UTF-8
    Case(
        "out-name-too-long",
        lambda f, w: ["render", f / "sample.root", "-o", w / "out" / LONG, "--events", "0"],
        "255 bytes per name",
    ),
    Case(
        "out-path-too-long",
        lambda f, w: [
            "render",
            f / "sample.root",
            "-o",
            w.joinpath("out", *["b" * 200] * 21),
            "--events",
            "0",
        ],
        "bytes per path",
    ),
    *(
        Case(
            f"file-name-too-long-{label}",
            lambda f, w, command=command, extra=extra: [
                command,
                f / "sample.root",
                "-o",
                w / "out",
                "--events",
                "0",
                *SMALL,
                *extra,
                "--set",
                _template(NAME_MAX - STEM_RESERVE + 1),
            ],
            "is too long",
        )
        for label, command, extra in [
            ("render", "render", []),
            ("phoenix", "render", ["--format", "phoenix"]),
            ("batch", "render", ["--jobs", "1"]),
            ("figure", "figure", ["--format", "png,pdf"]),
            ("movie", "animate", ["--set", "animation.format=webm"]),
            ("gallery", "gallery", ["--animate"]),
        ]
    ),
    Case(
        "file-name-longest-allowed",
        lambda f, w: [
            "render",
            f / "sample.root",
            "-o",
            w / "out",
            "--events",
            "0",
            *SMALL,
            "--set",
            _template(NAME_MAX - STEM_RESERVE),
        ],
        None,
        _wrote_one,
    ),
    Case(
        "source-name-too-long",
        lambda f, w: [
            "render",
            f / ("s" * 232 + ".root"),
            "-o",
            w / "out",
            "--events",
            "0",
            "--set",
            "output.name_template={source}_{event}.png",
        ],
        "the input file's name",
    ),
    Case(
        "input-not-utf8",
        lambda f, w: [
            "render",
            f / os.fsdecode(b"bad\xff name.root"),
            "-o",
            w / "out",
            "--events",
            "0",
            *SMALL,
        ],
        None,
        _png_text_has_escaped_name,
    ),
    # 3. numbers past 64 bits
    Case(
        "where-overflow",
        lambda f, w: ["render", "--where", "run - 4294967296 * 4294967296 > 0", "-o", w / "out"],
        "integer overflow",
    ),
    Case(
        "where-digits",
        lambda f, w: ["render", "--where", "nMuon > " + "9" * 5000, "-o", w / "out"],
        "5000-digit",
    ),
    Case(
        "where-index",
        lambda f, w: ["render", "--where", "Muon_pt[9223372036854775808] > 0", "-o", w / "out"],
        "64-bit range",
    ),
    Case(
        "ids-event",
        lambda f, w: ["render", "--ids", "315267:205:99999999999999999999999", "-o", w / "out"],
        "out of range",
    ),
    Case("events-digits", lambda f, w: ["render", "--events", "9" * 5000], "out of range"),
    Case("ids-file-endless", lambda f, w: ["render", "--ids-file", "/dev/zero"], "larger than"),
    # 4. styles built to hurt
    Case("alias-bomb", lambda f, w: ["styles", "--show", f / "bomb.yaml"], "aliases"),
    Case(
        "alias-bomb-set",
        lambda f, w: [
            "render",
            "-o",
            w / "out",
            "--set",
            "animation.keyframes=" + BOMB.replace("\n", ", ").join("{}"),
        ],
        "aliases",
    ),
    Case("recursive-alias", lambda f, w: ["styles", "--show", f / "recursive.yaml"], "alias"),
    Case(
        "whole-file", lambda f, w: ["render", "--style", f / "long.yaml"], "... (39999 characters)"
    ),
    Case("binary-file", lambda f, w: ["render", "--style", f / "binary.yaml"], "not a UTF-8"),
    Case("control-character", lambda f, w: ["render", "--style", f / "control.yaml"], "line 3"),
    Case("deep-flow", lambda f, w: ["render", "--style", f / "deep_flow.yaml"], "nested deeper"),
    Case("deep-block", lambda f, w: ["render", "--style", f / "deep_block.yaml"], "nested deeper"),
    Case("big-number", lambda f, w: ["render", "--style", f / "big_int.yaml"], "too long"),
    Case("bad-date", lambda f, w: ["render", "--style", f / "date.yaml"], "month"),
    Case("infinite", lambda f, w: ["render", "--style", f / "infinite.yaml"], "finite number"),
    Case("passwd", lambda f, w: ["render", "--style", "/etc/passwd"], "style error"),
    Case(
        "math-labels",
        lambda f, w: [
            "figure",
            f / "sample.root",
            "--style",
            f / "labels.yaml",
            "-o",
            w / "out",
            "--events",
            "0",
            "--set",
            "canvas.width=480",
            "--set",
            "canvas.height=270",
        ],
        None,
        _wrote_one,
    ),
    # 5. markup and emoji codes in paths
    Case(
        "markup-in-missing-input",
        lambda f, w: ["render", f / "no:x:[red]z[/].root", "-o", w / "out"],
        "no:x:[red]z[/].root",
    ),
    Case(
        "markup-in-out",
        lambda f, w: ["render", f / "sample.root", "-o", w / "out:x:[bold]", "--events", "0"],
        None,
        _says_literally("/out:x:[bold]\n"),
    ),
]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-fixtures")
    make_fixtures(folder)
    return folder


@pytest.fixture(scope="module")
def runs(
    fixtures: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[subprocess.CompletedProcess[bytes], Path]]:
    """Every case as a real process, two at a time (the machine has two cores)."""
    root = tmp_path_factory.mktemp("hostile-runs")

    def one(case: Case) -> tuple[subprocess.CompletedProcess[bytes], Path]:
        work = root / case.name
        work.mkdir()
        return run_cli(case.args(fixtures, work), work), work

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([c.name for c in CASES], pool.map(one, CASES), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_command_line(case: Case, runs: dict[str, Any]) -> None:
    proc, work = runs[case.name]
    if case.says is not None:
        assert_refused(proc, work, case.says)
        return
    err = text(proc.stderr)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert case.check is not None
    case.check(work, err)


def test_input_name_over_the_limit(tmp_path: Path) -> None:
    proc = run_cli(["render", tmp_path / ("i" * 300 + ".root"), "-o", tmp_path / "out"], tmp_path)
    assert_refused(proc, tmp_path, "File name too long")


@pytest.mark.parametrize("length", [250, 300])
def test_sample_name_over_the_limit(tmp_path: Path, length: int) -> None:
    proc = run_cli(["sample", "--out", tmp_path / ("i" * (length - 5) + ".root")], tmp_path)
    assert_refused(proc, tmp_path, "")


def test_width_on_a_missing_lumi_names_it_na(tmp_path: Path, shared_data: Path) -> None:
    """{lumi:05d} on a file without luminosityBlock: the lumi is "na", not a crash."""
    source = shared_data / "nanoaod" / "missing_luminosityBlock.root"
    template = "output.name_template={lumi:05d}_{event:03d}.png"
    proc = run_cli(
        ["render", source, "-o", tmp_path / "out", "--events", "0", *SMALL, "--set", template],
        tmp_path,
    )
    assert proc.returncode == 0, text(proc.stderr)
    (name,) = files_in(tmp_path / "out")
    assert name.startswith("na_") and name.endswith(".png")


def test_inspect_prints_markup_and_emoji_codes_as_they_are(fixtures: Path) -> None:
    proc = subprocess.run(
        [*limited_command(MEMORY), "inspect", "in:x:[red].root"],
        cwd=fixtures,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "in:x:[red].root" in text(proc.stdout)


# ---- 1. name templates, in bulk ----------------------------------------------------------------


def _template_error(template: str) -> str | None:
    try:
        load_style(None, [f"output.name_template={template}"])
    except StyleError as exc:
        return one_line(str(exc))
    return None


REFUSED_TEMPLATES = [
    *(f"{{{f}!{c}}}.png" for f in TEMPLATE_FIELDS for c in "rsax"),
    *(
        f"{{{f}:{spec}}}.png"
        for f in TEMPLATE_FIELDS
        for spec in [
            "s",
            ">10",
            ">{event}",
            "0>{run}",
            ",",
            "%",
            "x",
            "e",
            "_d",
            "021d",
            "1000000000d",
            "+d",
            " d",
            "=9d",
            "9.2f",
            "{run}",
        ]
    ),
    *(f"{{{f}:06d}}.png" for f in ["source"]),
    *(f"{{{f}{rest}}}.png" for f in TEMPLATE_FIELDS for rest in [".real", "[0]", ".__class__"]),
    "{}.png",
    "{0}.png",
    "{foo}.png",
    "{run",
    "run}.png",
    "{{run}.png",
    "a/{run}.png",
    "a\\{run}.png",
    "{run}",  # no suffix: each format puts its own in place of one
    "{run}.",
    "{run}.toolong",
    "{run}\x00.png",
    "{run}\t.png",
    "{run}\x85.png",
    "x" * 300 + "{run}.png",
    "{run:>{event}}" * 1000 + ".png",
]


@pytest.mark.parametrize("template", REFUSED_TEMPLATES)
def test_refused_templates(template: str) -> None:
    message = _template_error(template)
    assert message is not None and "output.name_template" in message


ACCEPTED_TEMPLATES = {
    "{run}_{lumi}_{event}.png": "315267_na_18446744073709551615.png",
    "{event:09d}.png": "18446744073709551615.png",
    "{lumi:06d}_{run:d}.png": "na_315267.png",
    "{run:020d}.png": "00000000000000315267.png",
    "{source}_{entry}.png": "my.input_7.png",
    "{{{index:3d}}}.png": "{ 12}.png",
    # Any suffix: a movie's template may say so (each format puts its own in its place).
    "{run}_{event}_turntable.mp4": "315267_18446744073709551615_turntable.mp4",
}


@pytest.mark.parametrize("template", ACCEPTED_TEMPLATES)
def test_accepted_templates_name_every_event(template: str) -> None:
    """A file without lumi sections and the largest event number: names, no crash."""
    assert _template_error(template) is None
    fields = {
        "run": 315267,
        "lumi": None,
        "event": 2**64 - 1,
        "index": 12,
        "entry": 7,
        "source": "my.input",
    }
    assert format_name(template, fields) == ACCEPTED_TEMPLATES[template]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from([*"{}:!0123456789drsx>.<_[]/\\ ", *TEMPLATE_FIELDS, "\x00"]),
        max_size=12,
    ).map(lambda parts: "".join(parts) + ".png")
)
def test_any_template_is_refused_or_names_any_event(template: str) -> None:
    message = _template_error(template)
    if message is not None:
        return
    for lumi in (None, 0, 2**32 - 1):
        name = format_name(
            template,
            {
                "run": 2**32 - 1,
                "lumi": lumi,
                "event": 2**64 - 1,
                "index": 10**9,
                "entry": 10**9,
                "source": "s" * 200,
            },
        )
        assert "/" not in name and "\x00" not in name
        # Numbers take at most 20 characters each, whatever their width.
        assert len(name) <= len(template) + 200 * template.count("{source}") + 40 * template.count(
            "{"
        )


# ---- 2. names: text chunks, in-process -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [os.fsdecode(b"bad\xff.root"), "\udcff\ud800", "a\x00b", "caf\xe9", "日本", "x" * 10_000],
)
def test_png_text_takes_any_name(value: str) -> None:
    from io import BytesIO

    from PIL import Image

    data = encode_png(np.zeros((4, 4, 3), np.uint8), {"ispyrender.input": value})
    with Image.open(BytesIO(data)) as im:
        im.load()
        assert im.text["ispyrender.input"] == printable(value)
    assert "\udcff" not in printable(value) and "\x00" not in printable(value)


# ---- 3. numbers past 64 bits, in bulk ---------------------------------------------------------


def _selection_error(call: Callable[[], object]) -> str | None:
    try:
        call()
    except SelectionError as exc:
        return one_line(str(exc))
    return None


@pytest.mark.parametrize("digits", [19, 20, 25, 400, 4300, 4301, 5000, 9980])
@pytest.mark.parametrize(
    "form", ["nMuon > {n}", "Muon_pt[{n}] > 0", "Muon_pt[-{n}] > 0", "{n} * 2 > nMuon"]
)
def test_long_numbers_in_where(form: str, digits: int) -> None:
    message = _selection_error(lambda: parse_where(form.format(n="9" * digits)))
    assert message is not None and "64-bit range" in message


def test_leading_zeros_do_not_count() -> None:
    expr = parse_where("nMuon > " + "0" * 5000 + "1")
    mask = evaluate(expr, {"nMuon": Column(np.array([0, 1, 2], np.uint32), None)}, 3)
    assert mask.tolist() == [False, False, True]


_INTS = st.one_of(
    st.integers(INT64_MIN + 1, INT64_MAX),
    st.sampled_from([0, 1, -1, 2, 2**31, 2**32, 2**62, INT64_MAX, -INT64_MAX, 3037000500]),
)


def _literal(value: int) -> str:
    return str(value) if value >= 0 else f"(-{-value})"


@settings(max_examples=400, deadline=None)
@given(_INTS, st.sampled_from("+-*"), _INTS, st.sampled_from(["", "-", "abs"]))
def test_integer_arithmetic_is_exact_or_an_error(a: int, op: str, b: int, wrap: str) -> None:
    """Constants and branches alike: the exact (Python) result, or 'integer overflow'."""
    exact = {"+": a + b, "-": a - b, "*": a * b}[op]
    inner = f"x {op} {_literal(b)}"
    text = {"": inner, "-": f"-({inner})", "abs": f"abs({inner})"}[wrap]
    final = {"": exact, "-": -exact, "abs": abs(exact)}[wrap]
    columns = {"x": Column(np.array([a], np.int64), None)}
    for source, cols in ((f"{text} > 0", columns), (f"{text.replace('x', _literal(a))} > 0", {})):
        fits = INT64_MIN <= exact <= INT64_MAX and INT64_MIN <= final <= INT64_MAX
        expr = parse_where(source)
        message = _selection_error(lambda e=expr, c=cols: evaluate(e, c, 1))
        if fits:
            assert message is None, (source, message)
            assert evaluate(expr, cols, 1).tolist() == [final > 0], source
        else:
            assert message is not None and "integer overflow" in message, source


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_INTS, max_size=5), min_size=1, max_size=4))
def test_sums_are_exact_or_an_error(events: list[list[int]]) -> None:
    counts = [len(e) for e in events]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    column = Column(np.array([v for e in events for v in e], np.int64), offsets)
    sums = [sum(e) for e in events]
    expr = parse_where("sum(X_v) > 0")
    message = _selection_error(lambda: evaluate(expr, {"X_v": column}, len(events)))
    if all(INT64_MIN <= s <= INT64_MAX for s in sums):
        assert message is None
        assert evaluate(expr, {"X_v": column}, len(events)).tolist() == [s > 0 for s in sums]
    else:
        assert message is not None and "integer overflow" in message


_BOUNDARY = ["0", "1", str(INT64_MAX), str(2**63), str(2**64 - 1), str(2**64), "9" * 5000]


@pytest.mark.parametrize("event", _BOUNDARY)
@pytest.mark.parametrize("run", _BOUNDARY)
def test_ids_in_range_or_refused(run: str, event: str) -> None:
    for token, lumi in ((f"{run}:{event}", None), (f"{run}:{run}:{event}", run)):
        ok = len(run) < 30 and int(run) <= INT64_MAX and len(event) < 30 and int(event) <= 2**64 - 1
        message = _selection_error(lambda t=token: parse_ids(t))
        if ok:
            assert message is None
            assert parse_ids(token) == [(int(run), None if lumi is None else int(run), int(event))]
        else:
            assert message is not None and "out of range" in message


@pytest.mark.parametrize(
    "spec", ["9" * 5000, "-" + "9" * 5000, "0:" + "9" * 5000, "1:2:" + "9" * 4301, str(2**63)]
)
def test_events_past_64_bits_are_refused(spec: str) -> None:
    message = _selection_error(lambda: parse_events(spec))
    assert message is not None and "out of range" in message


# ---- 4. styles, in bulk --------------------------------------------------------------------------


def _style_error(*overrides: str) -> str | None:
    try:
        load_style(None, list(overrides))
    except StyleError as exc:
        return one_line(" ".join(str(exc).split()))
    return None


def _load_error(path: Path) -> str:
    with pytest.raises(StyleError) as caught:
        load_style(str(path))
    return one_line(str(caught.value))


def _float_keys(node: dict[str, Any] | None = None, path: str = "") -> list[str]:
    """Every float setting a --set can reach, from the style's schema."""
    found = []
    for key, field in (properties(node if node is not None else schema()) or {}).items():
        dotted = f"{path}{key}"
        options = field.get("anyOf", [field])
        if any(o.get("type") == "number" for o in options):
            found.append(dotted)
        elif properties(field):
            found += _float_keys(field, dotted + ".")
    return found


FLOAT_KEYS = _float_keys()


def test_the_float_keys_were_found() -> None:
    assert len(FLOAT_KEYS) >= 30 and "camera.zoom" in FLOAT_KEYS


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN", "1e400", "-1e999"])
def test_floats_are_finite(value: str) -> None:
    for key in FLOAT_KEYS:
        message = _style_error(f"{key}={value}")
        assert message is not None and "finite" in message, (key, message)


@pytest.mark.parametrize("code", [*range(0, 32), 0x7F, 0x80, 0x85, 0x9F])
def test_control_characters_in_text_are_refused(code: int) -> None:
    for key in ("labels.experiment", "labels.data_text", "figure.recorded", "name"):
        message = _style_error(f'{key}="a\\x{code:02x}b"')  # a YAML escape: the character
        assert message is not None and f"U+{code:04X}" in message, (key, message)


@pytest.mark.parametrize("code", [1, 8, 0x1B, 0x7F, 0x86])
def test_control_characters_in_a_file_name_their_line(tmp_path: Path, code: int) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"canvas:\n  width: 320\nlabels:\n  experiment: a{chr(code)}b\n")
    message = _load_error(path)
    assert "line 4" in message and f"U+{code:04X}" in message


HOSTILE = "root:x:0:0:root:/root:/bin/bash " * 400


@pytest.mark.parametrize(
    "override",
    [
        f"labels.experiment={HOSTILE}",
        f"collections.muons.color={HOSTILE}",
        f"output.name_template={HOSTILE}",
        f"canvas.width={HOSTILE}",
        f"camera.preset={HOSTILE}",
        f"{HOSTILE.replace(':', '_').replace('/', '_').replace(' ', '_')}=1",
        f"canvas.{'w' * 5000}=1",
        f"labels.experiment={{{'k' * 5000}: 1}}",
    ],
)
def test_messages_quote_an_excerpt(override: str) -> None:
    message = _style_error(override)
    assert message is not None
    assert HOSTILE[:200] not in message and "w" * 100 not in message and "k" * 100 not in message


@pytest.mark.parametrize("base", ["a" * 300, "a\x00b", "~no-such-user-here/x.yaml", HOSTILE])
def test_bases_that_cannot_be_files(tmp_path: Path, base: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"base": base}))
    message = _load_error(path)
    assert "base:" in message


@pytest.mark.parametrize("levels", [33, 100, 5000])
def test_deep_nesting_is_refused(tmp_path: Path, levels: int) -> None:
    assert "nested deeper" in (_style_error("labels.experiment=" + "[" * levels) or "")
    path = tmp_path / "deep.yaml"
    path.write_text("labels:\n  experiment: " + "{a: " * levels + "1" + "}" * levels + "\n")
    message = _load_error(path)
    assert "line 2" in message and "nested deeper" in message


@pytest.mark.parametrize("width", [2, 10, 50])
@pytest.mark.parametrize("depth", [6, 9, 30])
def test_alias_expansion_is_bounded(tmp_path: Path, width: int, depth: int) -> None:
    """Chains of anchors, each holding ``width`` aliases of the one before: the file stands
    for about width**depth values; far beyond 100000 it is refused, far below it reads."""
    lines = ["labels:", "  experiment:", f"    - &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"    - &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
    path = tmp_path / "aliases.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StyleError) as caught:
        load_style(str(path))
    message = one_line(str(caught.value))
    if width**depth > 200_000:
        assert "aliases" in message and "line" in message, message
    else:  # read whole, then refused as what it is: a list where text belongs
        assert "labels.experiment: expected text" in message, message


def test_math_text_in_labels() -> None:
    from matplotlib import cbook
    from matplotlib.mathtext import MathTextParser

    from ispyrender.figures.layout import label_text

    assert label_text("$p_T$ > 20 GeV") == "$p_T$ > 20 GeV"  # valid math stays math
    assert label_text("m($\\mu\\mu$)") == "m($\\mu\\mu$)"
    assert label_text("cost $5") == "cost \\$5"  # drawn as "cost $5"
    for bad in [*BAD_LABELS, "$", "a$b$c$d$e", "$\\sqrt[$", "\\$ $\\frac$", "$\\left($"]:
        shown = label_text(bad)
        # Either math that parses or no math at all: nothing matplotlib could raise on.
        if cbook.is_math_text(shown):
            MathTextParser("path").parse(shown)


def test_text_settings_are_bounded() -> None:
    for key in ("labels.experiment", "labels.simulation_text", "figure.energy", "name"):
        assert "too long" in (_style_error(f"{key}={'x' * 501}") or ""), key
    assert load_style(None, [f"name={string.ascii_letters}"]).name == string.ascii_letters
