"""Inputs on servers: ``https://`` and ``http://`` (fsspec's HTTP with aiohttp, range requests)
and ``root://`` (XRootD through fsspec-xrootd), with a bounded wait and one-line errors.

uproot reads remote NanoAOD itself; this module gives it the options that bound its waits, opens
other remote files (an iSpy ``.ig``, the first bytes that tell the format) as seekable file
objects, and turns the many ways a connection fails into one sentence that names the host and
what to check.

Every wait is bounded by ``ISPYRENDER_REMOTE_TIMEOUT`` seconds (default 30): connecting, and
each read. XRootD's client otherwise retries a refused connection for minutes.
"""

from __future__ import annotations

import os
import ssl
from typing import IO, Any
from urllib.parse import urlsplit

from ispyrender.errors import InputError

__all__ = [
    "is_url",
    "open_options",
    "open_remote",
    "raise_if_connection_failed",
    "read_head",
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
    text = os.environ.get("ISPYRENDER_REMOTE_TIMEOUT", "30")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise InputError(
            f"ISPYRENDER_REMOTE_TIMEOUT={text!r} is not a number of seconds from 0 to 3600"
        )
    return value


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

        # total=None: a large file may take long to read; what is bounded is each wait.
        return {"timeout": aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds)}
    except ModuleNotFoundError as exc:
        raise remote_error(url, exc) from None


def open_remote(url: str, block_size: int | None = None) -> IO[bytes]:
    """A seekable binary file object for ``url``; reads fetch byte ranges as needed
    (``block_size`` bytes at least: small to read a few header bytes)."""
    import fsspec

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


def raise_if_connection_failed(url: str, exc: BaseException) -> None:
    """A read of ``url`` that failed in the connection (an OSError anywhere in the chain:
    fsspec and aiohttp wrap them) is not the file's fault: raise what remote_error says.
    Local paths and other failures return, for the reader to report as damage."""
    if is_url(url) and any(isinstance(e, OSError) for e in _chain(exc)):
        raise remote_error(url, exc) from None


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
