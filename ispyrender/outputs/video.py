"""Streaming frames into movie files with PyAV (FFmpeg).

Frames go to the encoder one at a time from a worker thread, so memory does not grow with the
number of frames and encoding overlaps the rendering of the next frame. MP4 is H.264 in yuv420p
(what browsers and presentation software play), WebM is VP9 (VP8 where FFmpeg lacks VP9), GIF
uses FFmpeg's GIF encoder with an adaptive 256-colour palette per frame (Pillow's octree
quantiser, no dithering): FFmpeg's own rgb8 conversion uses a fixed 3-3-2 palette that bands
the detector's shading and shifts the collection colours. MP4s are "fast start": the index
(moov atom) goes before the frames, so a browser plays the movie while it downloads. The file
is written under a temporary name and renamed at the end.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from types import TracebackType

import numpy as np

from ispyrender.errors import OutputError

# Encoders to try per format, best first, with the pixel format each is fed: an FFmpeg built
# without libvpx-vp9 (some distribution builds) still makes WebM with VP8.
CODECS: dict[str, tuple[tuple[str, str], ...]] = {
    "mp4": (("libx264", "yuv420p"),),
    "webm": (("libvpx-vp9", "yuv420p"), ("libvpx", "yuv420p")),
    "gif": (("gif", "pal8"),),
}


def has_encoder(codec: str) -> bool:
    import av

    try:
        av.codec.Codec(codec, "w")
    except Exception:  # PyAV raises several kinds for an unknown encoder
        return False
    return True


def encoder_for(fmt: str) -> tuple[str, str] | None:
    """The (encoder, pixel format) this machine uses for ``fmt``; None when it has none."""
    return next((c for c in CODECS.get(fmt, ()) if has_encoder(c[0])), None)


def available_formats() -> list[str]:
    return [fmt for fmt in CODECS if encoder_for(fmt) is not None]


def check_format(fmt: str) -> None:
    from ispyrender.outputs.registry import check_format as known

    known(fmt, "movie")
    if encoder_for(fmt) is None:
        possible = available_formats()
        wanted = " or ".join(codec for codec, _ in CODECS[fmt])
        raise OutputError(
            f"this machine's FFmpeg (in PyAV) has no {wanted} encoder for {fmt}; "
            f"possible here: {', '.join(possible) or 'none'} "
            "(PyAV's wheels from PyPI have them all: pip install --force-reinstall av)"
        )


def even_size(width: int, height: int) -> tuple[int, int]:
    """H.264 and VP9 in yuv420p need even sizes."""
    return width - width % 2, height - height % 2


def paletted(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An (H, W, 3) frame as 8-bit indices and the (256, 4) ARGB palette PyAV's pal8 wants."""
    from PIL import Image

    quantized = Image.fromarray(rgb).quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    colours = np.asarray(quantized.getpalette() or [], dtype=np.uint8).reshape(-1, 3)[:256]
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[:, 0] = 255  # opaque
    palette[: len(colours), 1:] = colours
    return np.asarray(quantized, dtype=np.uint8), palette


class MovieWriter:
    """``with MovieWriter(path, fmt, fps, size) as movie: movie.add(frame)``."""

    def __init__(self, path: Path, fmt: str, fps: int, size: tuple[int, int]) -> None:
        check_format(fmt)
        self.path = path
        self.fmt = fmt
        self.fps = fps
        self.size = even_size(*size) if fmt != "gif" else size
        self.tmp = path  # the temporary beside it, made (and held) on entry
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, daemon=True)

    def __enter__(self) -> MovieWriter:
        from ispyrender.outputs.files import temporary_file

        # A temporary of its own, held from the start: a later run removes it only once this
        # process has gone (killed, it cannot remove it itself). The muxer is told the format,
        # so the temporary's name needs no movie extension.
        self._held, self.tmp = temporary_file(self.path)
        self._thread.start()
        return self

    def add(self, frame: np.ndarray) -> None:
        if self._error is not None:
            raise self._failure() from None
        self._queue.put(frame)

    def _failure(self) -> OutputError:
        """The encoder's error as one line: a full disk names the movie and what to do."""
        from ispyrender.outputs.files import write_error

        if isinstance(self._error, OSError):
            return write_error(self.path, self._error)
        return OutputError(f"could not encode {self.path.name}: {self._error}")

    def _encode(self) -> None:
        import av

        found = encoder_for(self.fmt)
        assert found is not None  # check_format() in __init__
        codec, pix_fmt = found
        # FFmpeg's mp4 muxer writes the index at the end unless told to move it to the front
        # (a second pass over the file when it closes).
        muxer = {"movflags": "+faststart"} if self.fmt == "mp4" else {}
        ended = False  # whether the end-of-frames sentinel has been taken from the queue
        try:
            with av.open(
                str(self.tmp), mode="w", format=self.fmt, container_options=muxer
            ) as container:
                stream = container.add_stream(codec, rate=self.fps)
                stream.width, stream.height = self.size
                stream.pix_fmt = pix_fmt
                if self.fmt == "mp4":
                    stream.options = {"crf": "20", "preset": "veryfast"}
                elif self.fmt == "webm":
                    stream.options = {
                        "crf": "32",
                        "b": "0",
                        "deadline": "realtime",
                        "cpu-used": "8",
                    }
                while (frame := self._queue.get()) is not None:
                    rgb = np.ascontiguousarray(frame[: self.size[1], : self.size[0], :3])
                    if self.fmt == "gif":
                        # pal8 takes (indices, palette); PyAV's stubs know only one array.
                        video_frame = av.VideoFrame.from_ndarray(
                            paletted(rgb),  # type: ignore[arg-type]
                            format="pal8",
                        )
                    else:
                        video_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    for packet in stream.encode(video_frame):
                        container.mux(packet)
                ended = True
                for packet in stream.encode():
                    container.mux(packet)
        except BaseException as exc:  # reported to the producer on its next add() / at exit
            self._error = exc
            # Drain so that the producer never blocks, up to the sentinel; when the error came
            # after it (while flushing or closing: a full disk), there is nothing to wait for.
            while not ended:
                ended = self._queue.get() is None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._queue.put(None)
        self._thread.join()
        try:
            if exc_type is None and self._error is None:
                from ispyrender.outputs.files import put_in_place

                put_in_place(self.tmp, self.path)
                return
            self.tmp.unlink(missing_ok=True)
        finally:
            os.close(self._held)
        if exc_type is None and self._error is not None:
            raise self._failure() from None
