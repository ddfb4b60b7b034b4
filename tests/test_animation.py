"""Movies: keyframe timing worked out by hand, track growth, and files read back with PyAV."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.style import Animation, Keyframe
from ispyrender.outputs.video import MovieWriter
from ispyrender.scene.motion import ease, frame_states, grow_scene, truncate_path
from ispyrender.scene.primitives import Appearance, Polylines, Scene


def test_easings_by_hand():
    assert ease("linear", 0.25) == 0.25
    assert ease("ease_in", 0.5) == 0.25  # t^2
    assert ease("ease_out", 0.5) == 0.75  # 1 - (1-t)^2
    assert ease("ease_in_out", 0.25) == 0.125  # 2 t^2
    assert ease("ease_in_out", 0.75) == 0.875  # 1 - 2 (1-t)^2
    for kind in ("linear", "ease_in", "ease_out", "ease_in_out"):
        assert ease(kind, 0.0) == 0.0 and ease(kind, 1.0) == 1.0


def test_turntable_is_a_full_turn_without_repeating_the_first_frame():
    states = frame_states(Animation(frames=4))
    # 4 frames: 0, 90, 180, 270 degrees; the next loop starts again at 0.
    assert [s.azimuth for s in states] == pytest.approx([0.0, 90.0, 180.0, 270.0])
    assert all(s.growth == 1.0 for s in states)


def test_keyframes_interpolate_with_the_later_keyframes_easing():
    anim = Animation(
        frames=5,
        keyframes=[
            Keyframe(at=0.0, azimuth=0.0, growth=0.0),
            Keyframe(at=0.5, growth=1.0, easing="linear"),
            Keyframe(at=1.0, azimuth=100.0, easing="ease_in"),
        ],
    )
    states = frame_states(anim)
    # Frames at t = 0, .25, .5, .75, 1. Growth: linear 0 -> 1 over [0, .5], then held.
    assert [s.growth for s in states] == pytest.approx([0.0, 0.5, 1.0, 1.0, 1.0])
    # Azimuth: ease_in over [0, 1]: 100 t^2.
    assert [s.azimuth for s in states] == pytest.approx([0.0, 6.25, 25.0, 56.25, 100.0])


def test_truncate_path_by_length():
    path = np.array([[0.0, 0, 0], [1.0, 0, 0], [1.0, 1.0, 0]])  # 2 m long
    cut = truncate_path(path, 0.75)  # 1.5 m: halfway up the second segment
    assert np.allclose(cut, [[0, 0, 0], [1, 0, 0], [1, 0.5, 0]])
    assert np.allclose(truncate_path(path, 0.25), [[0, 0, 0], [0.5, 0, 0]])


def test_grow_scene_moves_one_front_out_of_the_vertex():
    path = np.linspace([0.0, 0, 0], [2.0, 0, 0], 21)
    scene = Scene()
    scene.add(Polylines("Muon", (path, path * 0.5), Appearance((1.0, 0, 0))), "Muons", 2)
    # The longest track (2 m) sets the reach: at growth 0.25 both tracks are 0.5 m long, and
    # at 0.75 the 1 m track has finished while the 2 m one is at 1.5 m.
    ends = [p[-1, 0] for g in (0.25, 0.75) for p in grow_scene(scene, g).primitives[0].paths]
    assert ends == pytest.approx([0.5, 0.5, 1.5, 1.0])
    assert grow_scene(scene, 1.0) is scene


def test_towers_and_jets_appear_when_the_front_reaches_them():
    from ispyrender.scene.motion import scene_reach
    from ispyrender.scene.primitives import Arrows, Cones, Towers

    look = Appearance((1.0, 0, 0))
    x = np.array([[1.0, 0.0, 0.0]])
    track = Polylines("Track", (np.linspace([0.0, 0, 0], [2.0, 0, 0], 5),), look)
    tower = Towers("Photon", x * 1.3, x, np.array([0.2]), np.array([0.05]), look)
    jet = Cones("Jet", np.zeros((1, 3)), x, np.array([1.0]), np.array([0.3]), look)
    met = Arrows("MET", np.zeros((1, 3)), x, look)
    scene = Scene([track, tower, jet, met])
    assert scene_reach(scene) == pytest.approx(2.0)

    def shown(growth: float) -> dict[str, object]:
        return {type(p).__name__: p for p in grow_scene(scene, growth).primitives}

    early = shown(0.5)  # front at 1 m: the tower at 1.3 m is not reached, the jet is whole
    assert "Towers" not in early and early["Cones"].length == pytest.approx([1.0])
    assert shown(0.25)["Cones"].length == pytest.approx([0.5])  # jets grow with the front
    assert shown(0.7)["Towers"].length == pytest.approx([0.1])  # reached at 1.3 m, growing
    assert "Arrows" not in shown(0.99)  # MET only with the complete event


def _read(path: Path) -> tuple[str, int, int, int, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        n = sum(1 for _ in container.decode(video=0))
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        return stream.codec_context.name, stream.width, stream.height, n, duration


@pytest.mark.parametrize(("fmt", "codec"), [("mp4", "h264"), ("webm", "vp9"), ("gif", "gif")])
def test_animate_writes_movies_that_read_back(tmp_path, fmt, codec):
    out = tmp_path / "movies"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "animate",
            "--out",
            str(out),
            "-n",
            "1",
            "--format",
            fmt,
            "--frames",
            "12",
            "--fps",
            "12",
            "--set",
            "canvas.width=160",
            "--set",
            "canvas.height=90",
            "--set",
            "animation.scale=1",
            "--set",
            "canvas.anti_aliasing=none",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (movie,) = out.glob(f"*.{fmt}")
    name, width, height, frames, duration = _read(movie)
    assert name == codec
    assert (width, height) == (160, 90)
    assert frames == 12
    assert duration == pytest.approx(1.0, abs=0.15)  # 12 frames at 12 fps
    assert not list(out.glob(".*tmp*"))
    # FFmpeg's own reader (ffprobe) agrees, and an MP4 is "fast start": the index (moov) comes
    # before the frames (mdat), so a browser starts playing it before it has downloaded it.
    probe = _ffprobe(movie)
    assert (probe["codec"], probe["frames"]) == (codec, 12)
    if fmt == "mp4":
        assert probe["atoms"].index("moov") < probe["atoms"].index("mdat"), probe["atoms"]


def _ffprobe(path: Path) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe not found: apt-get install ffmpeg (.ci/run does)")
    entries = ["-show_entries", "stream=codec_name,nb_read_frames", "-of", "json"]
    done = subprocess.run(
        ["ffprobe", "-v", "trace", "-count_frames", "-select_streams", "v:0", *entries, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (stream,) = json.loads(done.stdout)["streams"]
    return {
        "codec": stream["codec_name"],
        "frames": int(stream["nb_read_frames"]),
        "atoms": re.findall(r"type:'(\w+)' parent:'root'", done.stderr),
    }


def test_frames_differ_as_the_camera_turns(tmp_path):
    out = tmp_path / "m"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "animate",
            "--out",
            str(out),
            "-n",
            "1",
            "--frames",
            "4",
            "--set",
            "canvas.width=160",
            "--set",
            "canvas.height=90",
            "--set",
            "animation.scale=1",
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    (movie,) = out.glob("*.mp4")
    with av.open(str(movie)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(frames) == 4
    for a, b in itertools.pairwise(frames):
        assert np.abs(a - b).mean() > 1.0


def test_encoder_memory_does_not_grow_with_frames(tmp_path):
    frame = np.random.default_rng(1).integers(0, 255, (90, 160, 3), dtype=np.uint8)

    def peak(n: int) -> int:
        tracemalloc.start()
        with MovieWriter(tmp_path / f"m{n}.mp4", "mp4", 24, (160, 90)) as movie:
            for _ in range(n):
                movie.add(frame.copy())
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(10), peak(120)
    assert large < small * 1.5 + 200_000  # a few frames in flight, not all of them


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "animation.keyframes=[{at: 0, easing: wobble}]"], "easing"),
        # An unknown key inside a list entry still lists the keys a keyframe takes.
        (["--set", "animation.keyframes=[{at: 0, spin: 3}]"], "spin: unknown key"),
        (["--set", "animation.keyframes=[{at: 0, zom: 2}]"], "did you mean 'zoom'?"),
        (["--set", "animation.keyframes=[{at: 2}]"], "at most 1 (allowed 0..1)"),
        (["--frames", "0"], "animation.frames"),
        (["--format", "avi"], "animation.format"),
        (["--duration", "2", "--frames", "10"], "--duration and --frames both set"),
        (["--duration", "1000", "--fps", "24"], "animation.frames = 24000: must be at most"),
    ],
)
def test_bad_animation_settings(tmp_path, args, message):
    out = tmp_path / "m"
    result = subprocess.run(
        [sys.executable, "-m", "ispyrender", "animate", "--out", str(out), "-n", "1", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_duration_sets_the_frames_at_the_movie_fps(tmp_path):
    """--duration 0.5 at 8 frames a second: a movie of 4 frames, half a second long."""
    from PIL import Image, ImageSequence

    out = tmp_path / "m"
    small = ["--set", "animation.width=160", "--set", "animation.height=90", "-f", "gif"]
    subprocess.run(
        [sys.executable, "-m", "ispyrender", "animate", "--out", str(out), "-n", "1", "-q",
         "--duration", "0.5", "--fps", "8", *small],
        check=True,
    )  # fmt: skip
    (movie,) = out.glob("*.gif")
    with Image.open(movie) as im:
        assert sum(1 for _ in ImageSequence.Iterator(im)) == 4


def test_animation_section_is_validated():
    style = load_style("outreach", ["animation.kind=collision", "animation.frames=10"])
    states = frame_states(style.animation)
    assert states[0].growth == 0.0 and states[-1].growth == 1.0
    assert states[-1].azimuth == pytest.approx(180.0)


def test_reel_is_one_movie_of_title_cards_and_turns(tmp_path):
    out = tmp_path / "reel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "animate",
            "--out",
            str(out),
            "-n",
            "2",
            "--kind",
            "reel",
            "--frames",
            "6",
            "--fps",
            "10",
            "--set",
            "animation.title_seconds=0.5",
            "--set",
            "canvas.width=160",
            "--set",
            "canvas.height=90",
            "--set",
            "animation.scale=1",
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    assert [p.name for p in out.iterdir()] == ["reel.mp4"]
    _, _, _, frames, _ = _read(out / "reel.mp4")
    assert frames == 2 * (5 + 6)  # per event: 0.5 s of title at 10 fps, then 6 frames


def test_collision_key_frames_match_baselines(update_baselines):
    """Frames as they go to the encoder (before lossy compression): bunches in flight, tracks
    half grown, and the last turned frame."""
    from image_compare import check_image

    from ispyrender.physics.nanoaod import branch_plan, build_event
    from ispyrender.rendering.renderer import Renderer
    from ispyrender.scene.detector import build_detector
    from ispyrender.scene.event import build_scene
    from ispyrender.scene.motion import frame_scene
    from ispyrender.sources.nanoaod import Dataset
    from ispyrender.sources.sample import sample_path

    style = load_style(
        "outreach",
        [
            "canvas.width=240",
            "canvas.height=135",
            "labels.show=false",
            "animation.scale=1",
            "animation.kind=collision",
            "animation.frames=21",
        ],
    )
    states = frame_states(style.animation)
    assert states[0].beams == 0.0 and states[3].growth == 0.0 and states[-1].growth == 1.0
    with Dataset([str(sample_path())]) as dataset:
        plan = branch_plan(style, dataset.available_branches())
        record = next(dataset.iter_events([0], plan.branches))
    scene = build_scene(build_event(record, style, plan), style)
    with Renderer(style, build_detector(style.detector), scale=1.0) as renderer:
        for k in (1, 6, 20):
            renderer.set_scene(frame_scene(scene, states[k]))
            frame = renderer.orbit("vertical", states[k].azimuth, states[k].zoom)
            check_image(f"collision_frame_{k:02d}", frame, update_baselines)


def test_keyframes_in_seconds_with_elevation_and_show():
    # 5 frames at 2 fps: frames at 0, .5, 1, 1.5, 2 s.
    anim = Animation(
        frames=5,
        fps=2,
        keyframes=[
            Keyframe(time=0.0, elevation=0.0, show=["tracks"]),
            Keyframe(time=1.0, elevation=30.0, easing="linear", show=["detector", "jets"]),
        ],
    )
    states = frame_states(anim)
    assert [s.elevation for s in states] == pytest.approx([0.0, 15.0, 30.0, 30.0, 30.0])
    assert [s.show for s in states] == [("tracks",)] * 2 + [("detector", "jets")] * 3
    with pytest.raises(ValueError, match="either 'at'"):
        Keyframe(zoom=2.0)


def test_show_keeps_only_the_named_groups():
    from ispyrender.scene.motion import FrameState, frame_scene, groups_of
    from ispyrender.scene.primitives import Cones, Spheres

    look = Appearance((1.0, 0, 0))
    muons = Polylines("Muon", (np.zeros((2, 3)),), look)
    jets = Cones("Jet", np.zeros((1, 3)), np.ones((1, 3)), np.ones(1), np.ones(1), look)
    vertex = Spheres("PV", np.zeros((1, 3)), 0.01, look)
    scene = Scene([muons, jets, vertex])
    assert groups_of(muons) == {"tracks", "muons"}
    shown = frame_scene(scene, FrameState(show=("muons", "vertices")))
    assert shown.primitives == [muons, vertex]
    # Bunches still in flight belong to "beams": hidden unless asked for.
    flying = frame_scene(scene, FrameState(beams=0.5, show=("beams",)))
    assert [p.group for p in flying.primitives] == ["Beams"]


def test_gif_has_exact_palette_colours_and_explicit_size(tmp_path):
    frame = np.zeros((64, 96, 3), dtype=np.uint8)
    frame[:, :48] = (230, 60, 40)  # a muon red that a fixed 3-3-2 palette cannot hold
    frame[20:40] = (70, 140, 220)
    with MovieWriter(tmp_path / "m.gif", "gif", 10, (96, 64)) as movie:
        for _ in range(3):
            movie.add(frame)
    with av.open(str(tmp_path / "m.gif")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 3 and frames[0].shape == (64, 96, 3)
    assert np.abs(frames[-1].astype(int) - frame).max() <= 2


def test_animation_size_and_collision_preset(tmp_path):
    out = tmp_path / "m"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "animate",
            "--style",
            "collision",
            "--out",
            str(out),
            "-n",
            "1",
            "--frames",
            "6",
            "--set",
            "animation.width=96",
            "--set",
            "animation.height=64",
            "--set",
            "canvas.anti_aliasing=none",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (movie,) = out.glob("*.mp4")
    _, width, height, frames, _ = _read(movie)
    assert (width, height, frames) == (96, 64, 6)


def test_missing_encoders_fall_back_or_say_what_is_possible(tmp_path, monkeypatch):
    import ispyrender.outputs.video as video
    from ispyrender.errors import OutputError

    # An FFmpeg without VP9 still writes WebM, with VP8.
    monkeypatch.setattr(video, "has_encoder", lambda codec: codec != "libvpx-vp9")
    frame = np.zeros((64, 96, 3), dtype=np.uint8)
    with MovieWriter(tmp_path / "m.webm", "webm", 10, (96, 64)) as movie:
        movie.add(frame)
        movie.add(frame)
    assert _read(tmp_path / "m.webm")[0] == "vp8"
    # Without H.264, MP4 is refused up front with the formats that would work.
    monkeypatch.setattr(video, "has_encoder", lambda codec: codec == "gif")
    with pytest.raises(OutputError, match="no libx264 encoder for mp4; possible here: gif"):
        video.check_format("mp4")
    assert not list(tmp_path.glob("*.mp4"))


def test_ispy_cells_light_up_when_the_front_reaches_them():
    from ispyrender.scene.primitives import Hexahedra

    look = Appearance((1.0, 0, 0))
    cube = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=float) * 0.1
    near = np.vstack([cube + np.array([1.0, 0, 0]), cube + np.array([1.0, 0, 0.1])])  # at 1 m
    far = near + np.array([3.0, 0, 0])  # at 4 m
    track = Polylines("Track", (np.linspace([0.0, 0, 0], [2.0, 0, 0], 5),), look)
    scene = Scene([track, Hexahedra("EcalHits", np.stack([near, far]), look)])
    # The chamber at 4 m sets the reach; at growth 0.5 (2 m) only the near cell is lit.
    (cells,) = [p for p in grow_scene(scene, 0.5).primitives if isinstance(p, Hexahedra)]
    assert len(cells.corners) == 1 and cells.corners[0, 0, 0] == pytest.approx(1.0)
    assert not [p for p in grow_scene(scene, 0.2).primitives if isinstance(p, Hexahedra)]


def test_animate_reads_ispy_files(tmp_path, shared_data):
    ig = shared_data / "ig" / "Hto4l_120-130GeV.ig"
    out = tmp_path / "m"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "animate",
            str(ig),
            "--out",
            str(out),
            "--events",
            "0",
            "--kind",
            "collision",
            "--frames",
            "5",
            "--set",
            "animation.width=96",
            "--set",
            "animation.height=64",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (movie,) = out.glob("*.mp4")
    assert movie.name.startswith("201191_1006_1357605031")  # run_lumi_event, as for PNGs
    assert _read(movie)[1:4] == (96, 64, 5)
    # --where needs NanoAOD branches: one line, nothing written.
    bad = subprocess.run(
        [
            *(sys.executable, "-m", "ispyrender", "animate", str(ig)),
            *("--out", str(tmp_path / "x"), "--where", "nMuon > 1"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "--where reads NanoAOD branches" in bad.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("axis", ["vertical", "beam"])
def test_the_cutaway_turns_with_the_camera_in_every_frame(axis: str) -> None:
    """Frames at twelve angles of a turn about each axis: at the picture's centre (the beam
    spot, where the event starts) the camera looks into the detector through the cut-away
    wedge, never at the outside of the muon barrel, and the event is whole in the picture.
    With a wedge fixed in the detector, the yoke covered the centre in 7 of 12 frames about
    the vertical and 9 of 12 about the beam."""
    from ispyrender.config.style import parse_color
    from ispyrender.rendering.renderer import Renderer
    from ispyrender.scene.detector import build_detector

    style = load_style("outreach", ["canvas.width=320", "canvas.height=180", "labels.show=false"])
    scene = Scene()
    track = Polylines("T", (np.array([[0, 0, 0], [0.5, 0.6, 0.2]]),), Appearance((0, 1, 0), 1, 3))
    scene.add(track, "T", 1, "tracks")
    yoke = np.array(parse_color(style.detector.muon_barrel.color)) * 255
    with Renderer(style, build_detector(style.detector)) as renderer:
        renderer.set_scene(scene, scene, axis)
        for degrees in range(0, 360, 30):
            frame = renderer.orbit(axis, degrees)
            h, w = frame.shape[:2]
            centre = frame[h // 2 - 3 : h // 2 + 4, w // 2 - 10 : w // 2 - 3, :3]
            on_yoke = np.abs(centre.reshape(-1, 3).astype(float) - yoke).sum(axis=1) < 30
            assert on_yoke.mean() < 0.1, f"{axis} {degrees} deg: the yoke covers the event"
            # ... and the whole event is in the picture: the green track is drawn, clear of
            # the edges.
            rgb = frame[..., :3].astype(int)
            green = rgb[..., 1] - np.maximum(rgb[..., 0], rgb[..., 2]) > 50
            assert green.sum() > 10, f"{axis} {degrees} deg: the track is not drawn"
            edges = np.concatenate([green[:2].ravel(), green[-2:].ravel()])
            edges = np.concatenate([edges, green[:, :2].ravel(), green[:, -2:].ravel()])
            assert not edges.any(), f"{axis} {degrees} deg: the event leaves the picture"


SMALL_MOVIE = ["--set", "animation.width=96", "--set", "animation.height=64", "-n", "1"]


def _animate(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ispyrender", "animate", "--out", str(out), *SMALL_MOVIE, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_animate_shows_frames_and_time_left_on_a_terminal(tmp_path):
    """On a terminal, animate showed nothing for 87 s: now a bar of frames with time left."""
    import os
    import pty

    master, slave = pty.openpty()
    command = [sys.executable, "-m", "ispyrender", "animate", "--out", str(tmp_path / "m")]
    proc = subprocess.Popen(
        [*command, *SMALL_MOVIE, "--frames", "30"], stdout=slave, stderr=slave, close_fds=True
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(60) == 0, seen[-500:]
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))
    assert re.search(r"\b\d+/30\b", text), text[-500:]  # frames done of 30
    assert "frames/s" in text and re.search(r"\d:\d\d:\d\d", text), text[-500:]  # time left
    assert "wrote 1 movie(s)" in text


def test_movie_names_say_their_kind_and_templates_take_any_suffix(tmp_path):
    """A turntable and a collision movie of one event took one name; the name template
    refused anything but .png."""
    out = tmp_path / "m"
    for kind in ("turntable", "collision"):
        done = _animate(out, "--kind", kind, "--frames", "4", "-q")
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "1_1_1001_collision.mp4",
        "1_1_1001_turntable.mp4",
    ]
    named = _animate(
        tmp_path / "n",
        "--frames",
        "4",
        "-q",
        "--set",
        "output.name_template={run}_{event}_spin.mp4",
    )
    assert named.returncode == 0, named.stderr
    assert [p.name for p in (tmp_path / "n").iterdir()] == ["1_1001_spin.mp4"]


def test_a_timeline_in_seconds_longer_than_the_movie_is_refused_and_a_shorter_one_said(tmp_path):
    keys = ["--set", "animation.keyframes=[{time: 0, azimuth: 0}, {time: 2, azimuth: 90}]"]
    longer = _animate(tmp_path / "a", "--frames", "12", *keys)
    assert longer.returncode == 2
    (line,) = longer.stderr.strip().splitlines()
    assert "a keyframe at 2 s is past the movie's last frame (0.46 s: 12 frames at 24 fps)" in line
    assert "--duration 2.042 or more" in line and not (tmp_path / "a").exists()
    shorter = _animate(tmp_path / "b", "--duration", "4", *keys)
    assert shorter.returncode == 0, shorter.stderr
    assert "the keyframes end 2.0 s before the movie does" in shorter.stderr
    assert _read(next((tmp_path / "b").iterdir()))[3] == 96


def test_the_collision_preset_stretches_to_the_requested_length():
    """Its keyframes are fractions: 240 frames (10 s) tell the same story as 96, not 4 s of
    it and 6 s of one frozen frame."""
    short = frame_states(load_style("collision").animation)
    long = frame_states(load_style("collision", ["animation.frames=240"]).animation)
    assert len(short) == 96 and len(long) == 240
    for states in (short, long):
        n = len(states)
        assert states[-1].azimuth == pytest.approx(180.0) and states[-1].elevation == 20.0
        grown = next(i for i, s in enumerate(states) if s.growth >= 1.0)
        assert grown / (n - 1) == pytest.approx(0.4042, abs=0.01)
        turned = [s.azimuth for s in states[-n // 4 :]]
        assert turned == sorted(turned) and len(set(turned)) == len(turned)  # still moving
    assert load_style("collision").animation.held_seconds() == 0.0


def test_a_crowded_turn_is_framed_by_its_swept_envelope(monkeypatch, shared_data):
    """Above 100,000 points a turntable is framed by the circles the event sweeps (sixteen
    turned copies of 100,000 PF candidates' 6 million points took 5 GB): the same framing,
    a little wider at most, as the turned copies give."""
    from ispyrender.physics import EventBuilder
    from ispyrender.rendering import renderer as rendering
    from ispyrender.scene.detector import build_detector
    from ispyrender.scene.event import build_scene
    from ispyrender.sources import open_source

    style = load_style("outreach", ["animation.width=320", "animation.height=180"])
    with open_source([str(shared_data / "ig" / "Hto4l_120-130GeV.ig")]) as source:
        events = list(EventBuilder(source, style).events([0, 1]))
    for event in events:
        scene = build_scene(event, style)
        framed = []
        for above in (10**9, 0):  # turned copies, then the envelope
            monkeypatch.setattr(rendering, "_ENVELOPE_ABOVE", above)
            with rendering.Renderer(style, build_detector(style.detector), scale=2 / 3) as r:
                r.set_scene(scene, scene, "vertical")
                focal = np.array(r.camera.GetFocalPoint())
                framed.append((focal, np.linalg.norm(np.array(r.camera.GetPosition()) - focal)))
        (focal_a, distance_a), (focal_b, distance_b) = framed
        assert np.linalg.norm(focal_a - focal_b) < 0.1  # metres, on a camera 25 m away
        assert distance_b == pytest.approx(distance_a, rel=0.01)
