"""Compiled loops of :func:`risk.hazard.indicator_index.weighted_kernel` and :func:`risk.hazard.normalize.scale`.

numba, cached; imported when first used. Each does numpy's float64 operations in numpy's order, so the results are
the same bits (tested against the numpy expressions).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def accumulate(x, w, num, den, skipna):
    """``num += where(finite, x, 0) · w`` and ``den += finite · w`` in float64 (NaN into ``num`` unless ``skipna``)."""
    for i in range(x.shape[0]):
        v = np.float64(x[i])
        if np.isfinite(v):
            num[i] += v * w
            den[i] += w
        elif not skipna:
            num[i] = np.nan


@njit(cache=True, nogil=True)
def finish(num, den):
    """``num / den`` as float32 where ``den > 0``, NaN elsewhere."""
    out = np.empty(num.shape[0], np.float32)
    for i in range(num.shape[0]):
        out[i] = np.float32(num[i] / den[i]) if den[i] > 0 else np.float32(np.nan)
    return out


@njit(cache=True, nogil=True)
def scale_linear(x, lo, hi, less):
    """``clip((x - lo) / (hi - lo), 0, 1)`` in float64 (``1 -`` that if ``less``) as float32; NaN stays NaN."""
    d = hi - lo
    out = np.empty(x.shape[0], np.float32)
    for i in range(x.shape[0]):
        y = (np.float64(x[i]) - lo) / d
        if y < 0.0:
            y = 0.0
        elif y > 1.0:
            y = 1.0
        if less:
            y = 1.0 - y
        out[i] = np.float32(y)
    return out
