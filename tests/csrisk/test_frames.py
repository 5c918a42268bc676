"""The private pandas constructor behind csrisk.frames gives the frame the public one does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csrisk import frames


def test_it_keeps_text_as_objects_and_matches_the_public_constructor(monkeypatch):
    index = pd.Index([3, 1, 2], name="account_id")
    columns = {
        "measure": np.array(["a", "b", "c"], dtype=object),
        "value": np.array([1.5, np.nan, 0.0]),
        "score": np.array([10, 20, 30]),
    }
    fast = frames.frame_from_arrays(columns, index)
    monkeypatch.setattr(frames, "_FAST", None)
    public = frames.frame_from_arrays(columns, index)
    pd.testing.assert_frame_equal(fast, public)
    assert fast["measure"].dtype == object
    assert list(fast.index) == [3, 1, 2]


def test_it_uses_the_fast_constructor_on_the_pinned_pandas():
    # If this fails after a pandas upgrade, the measures run on the public constructor:
    # correct, but a recompute is measurably slower (docs/performance.md).
    assert frames.uses_private_constructor()
