"""Servers on 127.0.0.1 for the remote-input tests: HTTP with range requests (what uproot and
fsspec ask a web server for), a real XRootD server (Debian's xrootd-server, installed by
`.ci/run`), and a server that accepts connections and then says nothing (for timeouts)."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Files of one folder, with single byte ranges (``Range: bytes=a-b``, ``a-``, ``-n``) as
    RFC 9110 has them; Python's own handler ignores Range and sends the whole file."""

    def log_message(self, format: str, *args: object) -> None:
        # What was asked for, and which bytes: the tests check that readers use ranges.
        entry = f"{self.requestline} {self.headers.get('Range', '')}".strip()
        self.server.log.append(entry)  # type: ignore[attr-defined]

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "File not found")
            return None
        size = path.stat().st_size
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        start, end = 0, size - 1
        if wanted and (wanted.group(1) or wanted.group(2)):
            if wanted.group(1):
                start = int(wanted.group(1))
                end = min(int(wanted.group(2)), size - 1) if wanted.group(2) else size - 1
            else:
                start = max(0, size - int(wanted.group(2)))
            if start >= size or start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        handle = path.open("rb")
        handle.seek(start)
        self._remaining = end - start + 1
        return handle

    def copyfile(self, source, outputfile):  # type: ignore[no-untyped-def]
        left = self._remaining
        # (bytes, seconds): a server that sends that many bytes at a time, then waits.
        trickle = getattr(self.server, "trickle", None)
        step = trickle[0] if trickle else 1 << 16
        while left > 0:
            chunk = source.read(min(left, step))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)
            if trickle:
                outputfile.flush()
                time.sleep(trickle[1])

    def handle_one_request(self) -> None:
        # A server that goes away: after ``stop_after`` requests it stops listening (every
        # later connection is refused), as a server that was shut down mid-run.
        super().handle_one_request()
        server = self.server
        stop_after = getattr(server, "stop_after", None)
        if stop_after is not None and self.requestline:
            server.served = getattr(server, "served", 0) + 1  # type: ignore[attr-defined]
            if server.served >= stop_after:  # type: ignore[attr-defined]
                server.socket.close()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl; a client trusts it when
    SSL_CERT_FILE names the certificate."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    new = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    subprocess.run(
        [*new, *subject, *files],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def http_server(
    folder: Path,
    tls: tuple[Path, Path] | None = None,
    trickle: tuple[int, float] | None = None,
    stop_after: int | None = None,
) -> Iterator[tuple[str, list[str]]]:
    """``(base URL, request log)`` of an HTTP server for ``folder`` on a free local port; with
    ``tls`` (certificate, key), HTTPS; with ``trickle`` (bytes, seconds) one that sends its
    answers a few bytes at a time; with ``stop_after`` one that stops after that many
    requests."""

    def handler(*args, **kwargs):  # type: ignore[no-untyped-def]
        return RangeHandler(*args, directory=str(folder), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    server.log = []  # type: ignore[attr-defined]
    server.trickle = trickle  # type: ignore[attr-defined]
    server.stop_after = stop_after  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", server.log  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        with contextlib.suppress(OSError):
            server.server_close()


@contextmanager
def plain_http_server(folder: Path) -> Iterator[str]:
    """The base URL of ``python -m http.server`` serving ``folder``: a real, common server
    that ignores range requests and sends the whole file."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc, "python -m http.server")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def silent_server() -> Iterator[str]:
    """``host:port`` of a server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Until the server ``proc`` listens on ``port`` (failing the test if it ends first or
    takes over 20 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"{what} did not start: {err[-500:]}")
        time.sleep(0.1)
    pytest.fail(f"{what} did not open its port within 20 s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def xrootd_server(folder: Path, names: list[str]) -> Iterator[str]:
    """``root://127.0.0.1:PORT/`` of a real XRootD server exporting copies of the files
    ``names`` (paths relative to ``folder``), read-only.

    XRootD refuses to run as root, so under root (CI) it runs as the user nobody; the copies sit
    in a folder of its own, which nobody can read wherever the originals are."""
    binary = shutil.which("xrootd")
    if binary is None:
        pytest.fail("xrootd not found: apt-get install xrootd-server (.ci/run does)")
    work = Path(tempfile.mkdtemp(prefix="ispyrender-xrootd-"))
    for name in names:
        (work / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, work / "data" / name)
    port = free_port()
    (work / "xrootd.cfg").write_text(
        f"all.export / r/o\nxrd.port {port}\noss.localroot {work}/data\n"
        f"all.adminpath {work}/admin\nall.pidpath {work}/run\n"
    )
    command = [binary, "-c", str(work / "xrootd.cfg"), "-l", str(work / "log"), "-n", "test"]
    if os.geteuid() == 0:
        for path in [work, *work.rglob("*")]:
            shutil.chown(path, "nobody")
        command += ["-R", "nobody"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc, "xrootd")
        yield f"root://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
