"""Inputs on servers, read through real protocol stacks: an HTTP server with range requests and
a real XRootD server (Debian's xrootd-server), both on 127.0.0.1 serving the shared CMS files.
Pictures made from a URL are the same bytes as pictures made from the local file; every failure
(no such file, no server, unknown host, a server that never answers) is one line within a
bounded time."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from remote_servers import (
    free_port,
    http_server,
    plain_http_server,
    self_signed_certificate,
    silent_server,
    xrootd_server,
)

#: Seconds each wait on a server may take in these tests (ISPYRENDER_REMOTE_TIMEOUT).
TIMEOUT = 3
FILES = ["nanoaod/nano_dimuon.root", "ig/Hto4l_120-130GeV.ig"]


def _render(
    out: Path, *inputs: str, env: dict[str, str] | None = None, quiet: bool = True
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "ISPYRENDER_REMOTE_TIMEOUT": str(TIMEOUT), **(env or {})}
    start = time.monotonic()
    small = ["--set", "canvas.width=320", "--set", "canvas.height=180"]
    command = ["render", "--out", str(out), "--events", "0,1", *small, *inputs]
    command += ["--quiet"] if quiet else []
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return done, time.monotonic() - start


@pytest.fixture(scope="module")
def http_base(shared_data: Path) -> Iterator[tuple[str, list[str]]]:
    with http_server(shared_data) as served:
        yield served


@pytest.fixture(scope="module")
def https_base(shared_data: Path, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server with a certificate of its own, and that certificate."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with http_server(shared_data, tls=(cert, key)) as (base, _):
        yield base, cert


@pytest.fixture(scope="module")
def xrootd_base(shared_data: Path) -> Iterator[str]:
    with xrootd_server(shared_data, FILES) as url:
        yield url


@pytest.fixture(scope="module")
def local_pictures(shared_data: Path, tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The pictures of each file rendered from the local disk, name -> bytes."""
    pictures = {}
    for name in FILES:
        out = tmp_path_factory.mktemp("local")
        done, _ = _render(out / "png", str(shared_data / name))
        assert done.returncode == 0, done.stderr
        pictures[name] = {p.name: p.read_bytes() for p in sorted((out / "png").iterdir())}
        assert len(pictures[name]) == 2
    return pictures


@pytest.mark.parametrize("name", FILES)
def test_http_input_gives_the_same_pictures(http_base, local_pictures, tmp_path, name):
    base, log = http_base
    log.clear()
    done, _ = _render(tmp_path / "png", f"{base}/{name}")
    assert done.returncode == 0, done.stderr
    got = {p.name: p.read_bytes() for p in sorted((tmp_path / "png").iterdir())}
    # The same bytes but for the text chunk that records the input: its name is the URL.
    assert got.keys() == local_pictures[name].keys()
    for key, data in got.items():
        assert _pixels(data) == _pixels(local_pictures[name][key])
    # The readers asked for byte ranges, not whole files.
    assert any("bytes=" in line for line in log), log[:5]


@pytest.mark.parametrize("name", FILES)
def test_https_input_gives_the_same_pictures(https_base, local_pictures, tmp_path, name):
    base, cert = https_base
    done, _ = _render(tmp_path / "png", f"{base}/{name}", env={"SSL_CERT_FILE": str(cert)})
    assert done.returncode == 0, done.stderr
    got = {p.name: p.read_bytes() for p in sorted((tmp_path / "png").iterdir())}
    assert got.keys() == local_pictures[name].keys()
    for key, data in got.items():
        assert _pixels(data) == _pixels(local_pictures[name][key])


def test_https_with_an_untrusted_certificate_is_one_line(https_base, tmp_path):
    done, _ = _render(tmp_path / "png", f"{https_base[0]}/{FILES[0]}")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "certificate" in lines[0], lines
    assert not (tmp_path / "png").exists()


@pytest.mark.parametrize("name", FILES)
def test_xrootd_input_gives_the_same_pictures(xrootd_base, local_pictures, tmp_path, name):
    done, _ = _render(tmp_path / "png", f"{xrootd_base}/{name}")
    assert done.returncode == 0, done.stderr
    got = {p.name: p.read_bytes() for p in sorted((tmp_path / "png").iterdir())}
    assert got.keys() == local_pictures[name].keys()
    for key, data in got.items():
        assert _pixels(data) == _pixels(local_pictures[name][key])


def _input_of(png: bytes) -> str:
    import io

    from PIL import Image

    return str(Image.open(io.BytesIO(png)).text["ispyrender.input"])  # type: ignore[attr-defined]


def _pixels(png: bytes) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png))).tobytes()


def _closed_port() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    ("make_url", "message"),
    [
        (lambda h, x: f"{h}/nanoaod/missing.root", "does not exist on 127.0.0.1"),
        (lambda h, x: f"{x}/nanoaod/missing.root", "does not exist on 127.0.0.1"),
        (lambda h, x: f"{h}/ig/missing.ig", "does not exist on 127.0.0.1"),
        (lambda h, x: f"http://{_closed_port()}/x.root", "cannot connect to 127.0.0.1"),
        (lambda h, x: f"root://{_closed_port()}//x.root", "cannot connect to 127.0.0.1"),
        (lambda h, x: "https://no-such-host.invalid/x.root", "cannot connect to no-such-host"),
        (lambda h, x: "root://no-such-host.invalid//x.root", "no-such-host.invalid"),
    ],
)
def test_remote_failures_are_one_line(http_base, xrootd_base, tmp_path, make_url, message):
    url = make_url(http_base[0], xrootd_base)
    done, seconds = _render(tmp_path / "png", url)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines
    assert "Traceback" not in done.stderr
    assert seconds < 8 * TIMEOUT
    assert not (tmp_path / "png").exists()


@pytest.mark.parametrize("scheme", ["http", "root"])
def test_a_server_that_never_answers_times_out(tmp_path, scheme):
    with silent_server() as host:
        url = f"{scheme}://{host}/{'/' if scheme == 'root' else ''}x.root"
        done, seconds = _render(tmp_path / "png", url)
    assert done.returncode != 0
    assert f"no answer from {host} within {TIMEOUT} s" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert seconds < 8 * TIMEOUT  # a connection and a couple of requests, each bounded


def test_bad_timeout_setting_is_one_line(tmp_path, http_base):
    env = {**os.environ, "ISPYRENDER_REMOTE_TIMEOUT": "soon"}
    url = f"{http_base[0]}/nanoaod/nano_dimuon.root"
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", "render", "--quiet", "--out", str(tmp_path), url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "error: ISPYRENDER_REMOTE_TIMEOUT='soon' is not a number of seconds from 0 to 3600"
    )


def test_a_missing_client_package_names_what_to_install():
    from ispyrender.sources.remote import remote_error

    missing = ModuleNotFoundError("No module named 'XRootD'", name="XRootD")
    assert str(remote_error("root://host//f.root", missing)) == (
        "reading 'root://host//f.root' needs the XRootD client: pip install xrootd fsspec-xrootd"
    )
    wrapped = FileNotFoundError("https://host/f.root")
    wrapped.__cause__ = ModuleNotFoundError("No module named 'aiohttp'", name="aiohttp")
    assert "pip install fsspec aiohttp requests" in str(
        remote_error("https://host/f.root", wrapped)
    )


def test_the_url_itself_is_never_taken_for_the_reason():
    """A path with "timeout" or "auth" in it: the reason comes from the error, not the URL."""
    from ispyrender.sources.remote import remote_error

    class ResponseError(Exception):
        status = 404

    url = "https://host/authors/timeout_study/certificate.root"
    wrapped = FileNotFoundError(url)
    wrapped.__cause__ = ResponseError(f"404, message='Not Found', url='{url}'")
    assert str(remote_error(url, wrapped)) == (
        f"{url!r} does not exist on host; check the path in the URL"
    )


@pytest.mark.parametrize("name", FILES)
def test_a_server_without_range_requests_is_read_as_a_whole_download(
    shared_data, local_pictures, tmp_path, name
):
    """``python -m http.server`` sends the whole file whatever range is asked for: uproot
    failed with a DeserializationError and a good .ig file was called damaged."""
    with plain_http_server(shared_data) as base:
        done, _ = _render(tmp_path / "png", f"{base}/{name}", quiet=False)
    assert done.returncode == 0, done.stderr
    assert "does not serve byte ranges" in done.stderr and "whole download" in done.stderr
    made = {p.name: p.read_bytes() for p in sorted((tmp_path / "png").iterdir())}
    assert made.keys() == local_pictures[name].keys()
    for key, data in made.items():
        assert _pixels(data) == _pixels(local_pictures[name][key])
        assert _input_of(data).startswith(base)  # the input is named by its URL
    assert not list(Path(tempfile.gettempdir()).glob("ispyrender-download.*"))


def test_a_download_over_the_limit_is_refused_with_one_line(shared_data, tmp_path):
    with plain_http_server(shared_data) as base:
        url = f"{base}/{FILES[0]}"
        done, _ = _render(tmp_path / "png", url, env={"ISPYRENDER_DOWNLOAD_LIMIT": "1000"})
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert "does not serve byte ranges" in line and "ISPYRENDER_DOWNLOAD_LIMIT" in line, line
    assert not (tmp_path / "png").exists()


@pytest.mark.parametrize("name", FILES)
def test_a_trickling_server_is_cut_off_within_the_timeout(shared_data, tmp_path, name):
    """64 bytes every half second: each packet comes in time, the answer never does. The
    whole read is bounded, not each packet (the run used to go on past 150 s)."""
    with http_server(shared_data, trickle=(64, 0.5)) as (base, _):
        done, seconds = _render(tmp_path / "png", f"{base}/{name}")
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert f"within {TIMEOUT} s" in line and "127.0.0.1" in line, line
    assert "damaged" not in line and "Task was destroyed" not in done.stderr
    assert seconds < 8 * TIMEOUT


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("after", [5, 9, 12])
def test_a_server_that_goes_away_mid_run_is_named_not_the_file(shared_data, tmp_path, name, after):
    """The server stops listening after a few requests (the file opened, its events being
    read): the line names the server, never the file as damaged."""
    with http_server(shared_data, stop_after=after) as (base, _):
        done, seconds = _render(tmp_path / "png", f"{base}/{name}")
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert "127.0.0.1" in line and ("connect" in line or "connection" in line), line
    assert "damaged" not in line and "not an iSpy" not in line and "corrupt" not in line, line
    assert seconds < 8 * TIMEOUT
