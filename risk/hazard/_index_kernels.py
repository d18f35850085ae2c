"""Compiled loops of :func:`risk.hazard.indicator_index.weighted_kernel` (numba, cached; imported when first used)."""

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
