"""The PNG writer: exact pixels and text chunks, as Pillow reads them back."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ispyrender.outputs.files import encode_png


@pytest.mark.parametrize(
    ("shape", "mode"), [((37, 53, 3), "RGB"), ((37, 53, 4), "RGBA"), ((20, 30), "L")]
)
@pytest.mark.parametrize("level", [0, 1, 9])
def test_pixels_and_text_come_back_exactly(shape: tuple[int, ...], mode: str, level: int) -> None:
    pixels = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    text = {"run": "316000", "title": "m(μμ) = 91 GeV"}  # one Latin-1, one not
    with Image.open(io.BytesIO(encode_png(pixels, text, level))) as image:
        image.load()
        assert image.mode == mode
        assert np.array_equal(np.asarray(image), pixels)
        assert image.text == text


def test_flat_pictures_pack_small() -> None:
    """An event picture is mostly one colour: unfiltered rows deflate to almost nothing."""
    pixels = np.full((1080, 1920, 3), 255, dtype=np.uint8)
    pixels[500:520, 100:1800] = (189, 31, 1)
    assert len(encode_png(pixels, {}, 1)) < 40_000  # 6.2 MB raw


def test_other_channel_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="2 channels"):
        encode_png(np.zeros((4, 4, 2), dtype=np.uint8), {})
