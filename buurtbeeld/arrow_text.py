"""Arrow text columns read as the bytes Arrow holds them in, for the few checks NumPy does faster
over those bytes than a text kernel does over the values (a fixed-width text's characters by
position, as the digits of a hash or of a date)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


def text_buffers(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ends, data) of a text column (a pandas text Series or an Arrow text array): value i is
    data[ends[i]:ends[i + 1]], UTF-8. A missing value is empty here: the caller tells them apart."""
    text = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = text.cast(pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    data = text.buffers()[2]
    body = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets, body
