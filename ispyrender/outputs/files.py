"""Writing results: file names from templates, atomic writes, PNG metadata.

Every file is written to a temporary name in the destination folder and renamed into place, so
an interrupted run never leaves a half-written picture under its final name.
"""

from __future__ import annotations

import contextlib
import io
import os
import string
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from ispyrender.errors import OutputError, StyleError

TEMPLATE_FIELDS = ("run", "lumi", "event", "index", "entry", "source")


def check_template(template: str, suffix: str) -> None:
    """Reject templates with unknown fields, path separators or the wrong extension."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise StyleError(f"output.name_template {template!r} is malformed ({exc})") from None
    for name in names:
        if name.split(":")[0].split("!")[0] not in TEMPLATE_FIELDS:
            raise StyleError(
                f"output.name_template {template!r} uses {{{name}}}; "
                f"allowed fields: {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
            )
    if "/" in template or "\\" in template:
        raise StyleError(f"output.name_template {template!r} must be a file name, not a path")
    if not template.lower().endswith(suffix):
        raise StyleError(f"output.name_template {template!r} must end with {suffix}")


def file_name(template: str, fields: Mapping[str, object], suffix: str | None = None) -> str:
    values = {k: ("na" if v is None else v) for k, v in fields.items()}
    name = template.format(**values)
    if suffix is not None:
        name = str(Path(name).with_suffix(suffix))
    return name


def prepare_folder(folder: Path) -> Path:
    """Create the output folder and prove it can be written, before any rendering starts."""
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"output folder {folder} is a file: choose another --out")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ispyrender-probe-"):
            pass
    except OutputError:
        raise
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise OutputError(
            f"cannot write to output folder {folder} ({reason}): choose a writable --out"
        ) from None
    return folder


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success and
    remove it on any failure, Ctrl-C included."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def umask() -> int:
    """The process umask (read by setting it and back: there is no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def encode_png(image: np.ndarray, text: Mapping[str, str], compression: int = 1) -> bytes:
    """PNG bytes with ``text`` stored as tEXt chunks (readable with Pillow or exiftool)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, str(value))
    mode = "RGBA" if image.ndim == 3 and image.shape[2] == 4 else "RGB"
    buf = io.BytesIO()
    Image.fromarray(image, mode=mode).save(
        buf, format="PNG", pnginfo=info, compress_level=compression
    )
    return buf.getvalue()


def read_png_text(path: Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as im:
        return dict(getattr(im, "text", {}))
