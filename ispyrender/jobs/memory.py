"""Whether a picture, figure or movie of a size fits in this machine's memory, asked before
anything is drawn: one line saying what fits, rather than a MemoryError, an encoder's malloc
error or the kernel's out-of-memory killer part-way through a run.

The cost of a size was measured on the development machine (Mesa llvmpipe): a process that
draws holds about 0.5 GB, and each pixel of the picture it draws about 75 bytes (a 7680x4320
PNG peaked at 2.8 GB, a 1920x1080 one at 0.48 GB); a figure's matplotlib canvas and a movie's
encoder add to that.
"""

from __future__ import annotations

import math

from ispyrender.errors import OutputError

__all__ = ["available_bytes", "check_fits", "needed_bytes"]

BASE_BYTES = 500 * 1024**2
PER_PIXEL = {"picture": 80, "figure": 100, "movie": 130}


def available_bytes() -> int | None:
    """Memory this machine can give now (Linux's MemAvailable), None where it cannot say."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def needed_bytes(width: int, height: int, what: str) -> int:
    return BASE_BYTES + PER_PIXEL[what] * width * height


def check_fits(width: int, height: int, what: str, available: int | None = None) -> None:
    """Refuse a ``what`` ("picture", "figure", "movie") of ``width`` x ``height`` pixels
    that this machine's memory (``available`` bytes, or what it has now) cannot hold."""
    have = available if available is not None else available_bytes()
    need = needed_bytes(width, height, what)
    if have is None or need <= have:
        return
    room = max(have - BASE_BYTES, 0) / (PER_PIXEL[what] * width * height)
    fits = math.sqrt(room)
    largest = f"at most about {int(width * fits)}x{int(height * fits)}" if fits > 0.01 else ""
    raise OutputError(
        f"a {width}x{height} {what} needs about {need / 1e9:.1f} GB of memory, and this machine "
        f"has {have / 1e9:.1f} GB free: make it smaller ({largest or 'much smaller'}: --scale "
        "or the canvas), or free memory"
    )
