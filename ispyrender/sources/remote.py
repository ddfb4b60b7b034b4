"""Inputs on servers: ``https://`` and ``http://`` (fsspec's HTTP with aiohttp, range requests)
and ``root://`` (XRootD through fsspec-xrootd), with a bounded wait and one-line errors.

uproot reads remote NanoAOD itself; this module gives it the options that bound its waits, opens
other remote files (an iSpy ``.ig``, the first bytes that tell the format) as seekable file
objects, and turns the many ways a connection fails into one sentence that names the host and
what to check.

Every wait is bounded by ``ISPYRENDER_REMOTE_TIMEOUT`` seconds (default 30): connecting, each
read, and each request as a whole (a server trickling a few bytes at a time is cut off, not
waited for). XRootD's client otherwise retries a refused connection for minutes.

A web server that does not serve byte ranges (``python -m http.server`` among them) answers a
range request with the whole file. Such a file is downloaded once per process into a temporary
file (at most ``ISPYRENDER_DOWNLOAD_LIMIT`` bytes, default 2 GB; the transfer as a whole within
the timeout plus a second per 256 kB), read from there, and removed at exit; the run says so.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import ssl
import tempfile
import time
from typing import IO, Any
from urllib.parse import urlsplit

from ispyrender.errors import InputError

__all__ = [
    "download_notes",
    "is_url",
    "open_options",
    "open_remote",
    "raise_if_connection_failed",
    "read_head",
    "readable",
    "remote_error",
    "timeout",
]

_URL_PREFIXES = ("root://", "http://", "https://", "xrootd://")

#: What to install for each scheme when a package is missing (all are dependencies of the
#: package, so this is for broken environments).
_PACKAGES = {
    "root": "the XRootD client: pip install xrootd fsspec-xrootd",
    "http": "fsspec's HTTP support: pip install fsspec aiohttp requests",
}


def is_url(text: str) -> bool:
    """Remote inputs (XRootD, HTTP): read over the network, never checked on the local disk."""
    return text.startswith(_URL_PREFIXES)


def timeout() -> float:
    """Seconds to wait for a server, from ``ISPYRENDER_REMOTE_TIMEOUT`` (default 30)."""
    from ispyrender.config.environment import seconds

    return seconds("ISPYRENDER_REMOTE_TIMEOUT", 30, 3600)


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme
    return "root" if scheme in ("root", "xrootd") else "http"


def _bound_xrootd(seconds: float) -> None:
    """XRootD's client reads its limits once, from its environment: one connection attempt
    within ``seconds``, and no request waiting longer."""
    from XRootD.client import EnvPutInt

    whole = max(1, round(seconds))
    EnvPutInt("ConnectionRetry", 1)
    EnvPutInt("ConnectionWindow", whole)
    EnvPutInt("RequestTimeout", whole)
    EnvPutInt("StreamTimeout", whole)
    EnvPutInt("TimeoutResolution", 1)


def open_options(url: str) -> dict[str, Any]:
    """Options for ``uproot.open`` / ``fsspec.open`` that bound every wait on ``url``."""
    seconds = timeout()
    try:
        if _scheme(url) == "root":
            _bound_xrootd(seconds)
            return {"timeout": max(1, round(seconds))}
        import aiohttp

        # Each request whole, not only each packet: a trickling server is cut off too. uproot
        # and fsspec ask for a few MB at a time, well within it at any working speed.
        return {"timeout": aiohttp.ClientTimeout(total=seconds, connect=seconds, sock_read=seconds)}
    except ModuleNotFoundError as exc:
        raise remote_error(url, exc) from None


#: Downloads of files from servers without byte ranges, in this process: URL -> (path, bytes).
_COPIES: dict[str, tuple[str, int]] = {}
#: URLs whose servers were found to serve byte ranges, in this process.
_RANGED: set[str] = set()
#: Bytes per second a whole-file download must average, beyond the timeout's own allowance.
_MIN_RATE = 256 * 1024


def _download_limit() -> int:
    from ispyrender.config.environment import number

    return int(number("ISPYRENDER_DOWNLOAD_LIMIT", 2 * 1024**3, 1e15, "bytes"))


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def readable(url: str) -> str:
    """What to open for ``url``: the URL itself where its server reads by byte ranges (and
    for root://), else the path of a whole-file download of it (made once per process)."""
    if _scheme(url) != "http" or not is_url(url):
        return url
    if url in _COPIES:
        return _COPIES[url][0]
    if url in _RANGED:
        return url
    import urllib.error

    seconds = timeout()
    host = urlsplit(url).netloc
    try:
        # One byte asked for: 206 is a server with ranges; 200 sends the whole file instead.
        with _ask(url, seconds, headers={"Range": "bytes=0-0"}) as answer:
            if answer.status != 200 or answer.headers.get("Content-Range"):
                _RANGED.add(url)
                return url
            return _download(url, answer, seconds, host)
    except urllib.error.HTTPError:
        return url  # 404, 403, ...: the reader reports them as usual
    except InputError:
        raise
    except (OSError, ValueError) as exc:
        raise remote_error(url, exc) from None


def _ask(
    url: str, seconds: float, method: str = "GET", headers: dict[str, str] | None = None
) -> Any:
    """An HTTP answer from urllib within ``seconds`` a wait. (urllib, as aiohttp, trusts what
    SSL_CERT_FILE names; requests would not.)"""
    import urllib.request

    request = urllib.request.Request(url, headers=headers or {}, method=method)
    return urllib.request.urlopen(request, timeout=seconds, context=ssl.create_default_context())


def _download(url: str, answer: Any, seconds: float, host: str) -> str:
    limit = _download_limit()
    length = answer.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    if expected is not None and expected > limit:
        raise InputError(
            f"{host} does not serve byte ranges, and {url!r} is {_size(expected)}: more than "
            f"the {_size(limit)} read as a whole download (ISPYRENDER_DOWNLOAD_LIMIT=BYTES); "
            "serve it with range requests or copy it here first"
        )
    folder = tempfile.gettempdir()
    if expected is not None and shutil.disk_usage(folder).free < expected + (64 << 20):
        raise InputError(
            f"{host} does not serve byte ranges, and {url!r} ({_size(expected)}) does not fit "
            f"in {folder}; free some space or set TMPDIR to a larger folder"
        )
    fd, path = tempfile.mkstemp(prefix="ispyrender-download.", suffix=".part")
    start = time.monotonic()
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := answer.read1(1 << 16):
                done += len(chunk)
                elapsed = time.monotonic() - start
                allowed = seconds + max(done, expected or 0) / _MIN_RATE
                if done > limit or elapsed > allowed:
                    why = (
                        f"more than {_size(limit)} (ISPYRENDER_DOWNLOAD_LIMIT=BYTES)"
                        if done > limit
                        else f"only {_size(done)} in {elapsed:.0f} s: the server stalls"
                    )
                    raise InputError(
                        f"{host} does not serve byte ranges, and the whole download of {url!r} "
                        f"was stopped: {why}; serve it with range requests or copy it here first"
                    )
                out.write(chunk)
        if expected is not None and done != expected:
            raise InputError(
                f"{host} closed the connection after {_size(done)} of {_size(expected)} of "
                f"{url!r}; check that the server is up and try again"
            )
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        if isinstance(exc, InputError | KeyboardInterrupt | SystemExit):
            raise
        raise remote_error(url, exc) from None
    _COPIES[url] = (path, done)
    if len(_COPIES) == 1:
        atexit.register(_remove_copies)
    return path


def _remove_copies() -> None:
    for path, _ in _COPIES.values():
        with contextlib.suppress(OSError):
            os.unlink(path)


def download_notes(paths: Any) -> list[str]:
    """What a run says of its inputs read as whole downloads (servers without ranges)."""
    return [
        f"{urlsplit(url).netloc} does not serve byte ranges: {url!r} was read as a whole "
        f"download ({_size(_COPIES[url][1])}) into a temporary file"
        for url in paths
        if url in _COPIES
    ]


def open_remote(url: str, block_size: int | None = None) -> IO[bytes]:
    """A seekable binary file object for ``url``; reads fetch byte ranges as needed
    (``block_size`` bytes at least: small to read a few header bytes). A file from a server
    without ranges is opened from its download."""
    import fsspec

    local = readable(url)
    if local != url:
        return open(local, "rb")

    options = open_options(url)
    if block_size is not None:
        options["block_size"] = block_size
    try:
        return fsspec.open(url, "rb", **options).open()
    except Exception as exc:  # fsspec and its backends raise many kinds
        raise remote_error(url, exc) from None


def read_head(url: str, size: int) -> bytes:
    """The first ``size`` bytes of ``url`` (one small range request), or a one-line error."""
    with open_remote(url, block_size=max(size, 4096)) as fh:
        try:
            return fh.read(size)
        except Exception as exc:  # a range request that failed after the open
            raise remote_error(url, exc) from None


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (fsspec wraps aiohttp's error, which wraps the socket's)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not f for f in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


#: What aiohttp's errors are called when uproot turns them into another error's text (it can
#: hand an exception object on as if it were data, so the chain no longer holds it).
_CONNECTION_WORDS = (
    "ClientConnectorError",
    "ClientOSError",
    "ServerDisconnectedError",
    "ClientPayloadError",
    "ServerTimeoutError",
    "Connection reset",
    "Connection refused",
)


def raise_if_connection_failed(url: str, exc: BaseException) -> None:
    """A read of ``url`` that failed because its server failed (an OSError anywhere in the
    chain, a connection error named in the text, or a server that does not answer now) is not
    the file's fault: raise one line that names the server. Local paths, and failures while
    the server answers, return, for the reader to report as damage."""
    if not is_url(url):
        return
    chain = _chain(exc)
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    problem = _unanswered(url)  # what the server says now: the clearest reason
    if problem is not None:
        raise _lost(url, problem) from None
    if any(isinstance(e, OSError) for e in chain) or any(w in text for w in _CONNECTION_WORDS):
        raise _lost(url, exc) from None


def _unanswered(url: str) -> BaseException | None:
    """Why the server of ``url`` does not answer now (None when it does): for HTTP one HEAD
    request, for XRootD a connection to its port, each within the timeout."""
    seconds = timeout()
    parts = urlsplit(url)
    try:
        if _scheme(url) == "http":
            import urllib.error

            with contextlib.suppress(urllib.error.HTTPError):  # an HTTP error is an answer
                _ask(url, seconds, method="HEAD").close()
        else:
            import socket

            socket.create_connection((parts.hostname or "", parts.port or 1094), seconds).close()
    except OSError as exc:
        return exc
    return None


def _lost(url: str, exc: BaseException) -> InputError:
    """A server that stopped answering part-way: named, and the file not blamed."""
    error = remote_error(url, exc)
    if str(error).startswith("no answer from"):
        return error
    host = urlsplit(url).netloc or url
    innermost = _chain(exc)[-1]
    reason = " ".join(str(innermost).split())[:120] or type(innermost).__name__
    return InputError(
        f"lost the connection to {host} while reading {url!r} ({reason}); check that the "
        "server is up, then run again"
    )


def remote_error(url: str, exc: BaseException) -> InputError:
    """One line for a failure to read ``url``: what went wrong and what to check."""
    host = urlsplit(url).netloc or url
    chain = _chain(exc)
    if any(isinstance(e, ModuleNotFoundError) for e in chain):
        return InputError(f"reading {url!r} needs {_PACKAGES[_scheme(url)]}")
    # The innermost error says most: fsspec reports every failure as FileNotFoundError. The
    # URL is taken out of the text, so that a path such as /timeout_study/ is not a reason.
    innermost = chain[-1]
    reason = " ".join(str(innermost).split())[:160] or type(innermost).__name__
    text = " ".join(" ".join(str(e).split()) for e in chain).replace(url, "").lower()
    status = next((getattr(e, "status", None) for e in chain if hasattr(e, "status")), None)
    if status in (401, 403) or "permission denied" in text or "unauthori" in text:
        return InputError(
            f"{host} refuses to serve {url!r} ({reason}); check your credentials (for root:// "
            "a grid proxy: voms-proxy-init)"
        )
    if (
        status == 404
        or "no such file" in text
        or (len(chain) == 1 and isinstance(exc, FileNotFoundError))
    ):
        return InputError(f"{url!r} does not exist on {host}; check the path in the URL")
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate" in text:
        return InputError(
            f"cannot connect to {host} for {url!r} ({reason}); its certificate is not trusted "
            "here: check the host name, or point SSL_CERT_FILE at its certificate authority"
        )
    if any(isinstance(e, TimeoutError) for e in chain) or "expired" in text or "timeout" in text:
        return InputError(
            f"no answer from {host} within {timeout():g} s for {url!r}; check that the server "
            "is up, or wait longer with ISPYRENDER_REMOTE_TIMEOUT=SECONDS"
        )
    if any(isinstance(e, ConnectionError | OSError) for e in chain[1:]) or any(
        word in text for word in ("connect", "resolve", "name or service", "unreachable")
    ):
        return InputError(
            f"cannot connect to {host} for {url!r} ({reason}); check the host name and port, "
            "and your network or proxy"
        )
    return InputError(f"cannot read {url!r} from {host} ({type(innermost).__name__}: {reason})")
