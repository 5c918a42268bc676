"""The renewal-risk model as plain numbers: a logistic model on standardised features,
optionally followed by a Platt (sigmoid) calibration. Stored as JSON (``RiskModel.parameters``),
never pickled, so any version of the code can read what an older one trained.

    z = intercept + Σ coef_j · (x_j − mean_j) / scale_j
    p = 1 / (1 + exp(a·z + b))   when calibrated (sklearn's sigmoid calibration),
    p = 1 / (1 + exp(−z))        otherwise.

``fit`` learns it with scikit-learn (regularised ``LogisticRegression``; calibrated with
``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` when there are enough churns
for every fold to hold some) and checks that these numbers give back sklearn's own
probabilities. ``prior`` (insights.risk.prior) builds the same shape from expert weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

# Regularisation strength of the logistic model (sklearn's C: smaller = stronger). With a
# few hundred renewals and ~40 features, C=0.5 keeps coefficients of noise near 0.
C = 0.5
FOLDS = 5
# Calibrate only when every fold can hold at least a few churns.
CALIBRATION_MIN_CHURNS = 4 * FOLDS


@dataclass
class Params:
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    calibration: tuple[float, float] | None = None  # (a, b) of p = 1/(1+exp(a·z+b))

    def as_json(self) -> dict:
        out = asdict(self)
        out["calibration"] = list(self.calibration) if self.calibration else None
        return out

    @classmethod
    def from_json(cls, data: dict) -> Params:
        cal = data.get("calibration")
        return cls(
            features=list(data["features"]),
            mean=[float(x) for x in data["mean"]],
            scale=[float(x) for x in data["scale"]],
            coef=[float(x) for x in data["coef"]],
            intercept=float(data["intercept"]),
            calibration=(float(cal[0]), float(cal[1])) if cal else None,
        )

    # --- predicting -------------------------------------------------------------------

    def terms(self, x: np.ndarray) -> np.ndarray:
        """Each feature's share of the log-odds, per row (0 at the training mean)."""
        return (x - np.asarray(self.mean)) / np.asarray(self.scale) * np.asarray(self.coef)

    def link(self, z: np.ndarray) -> np.ndarray:
        if self.calibration is None:
            return 1.0 / (1.0 + np.exp(-z))
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(a * z + b))

    def probability(self, x: np.ndarray) -> np.ndarray:
        return self.link(self.intercept + self.terms(x).sum(axis=1))

    def contributions(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The probabilities, and per row and feature how much higher each is than it would
        be with that feature at the book's typical (mean) level, in probability points."""
        terms = self.terms(x)
        z = self.intercept + terms.sum(axis=1)
        p = self.link(z)
        return p, p[:, None] - self.link(z[:, None] - terms)


def _std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    # A constant feature (a measure nobody tripped) gets scale 1: its term is 0 anyway.
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit(x: np.ndarray, y: np.ndarray, feature_names: Sequence[str], *, seed: int = 0) -> Params:
    """A regularised logistic model on standardised features, calibrated when the churns
    allow it."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    mean, scale = _std(x)
    xs = (x - mean) / scale
    lr = LogisticRegression(C=C, max_iter=1000)
    churns = int(y.sum())
    calibration = None
    if churns >= CALIBRATION_MIN_CHURNS and len(y) - churns >= CALIBRATION_MIN_CHURNS:
        cv = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
        cal = CalibratedClassifierCV(lr, method="sigmoid", cv=cv, ensemble=False).fit(xs, y)
        fitted = cal.calibrated_classifiers_[0]
        lr = fitted.estimator
        sig = fitted.calibrators[0]
        calibration = (float(sig.a_), float(sig.b_))
        expected = cal.predict_proba(xs)[:, 1]
    else:
        lr.fit(xs, y)
        expected = lr.predict_proba(xs)[:, 1]
    params = Params(
        features=list(feature_names),
        mean=mean.tolist(),
        scale=scale.tolist(),
        coef=lr.coef_[0].tolist(),
        intercept=float(lr.intercept_[0]),
        calibration=calibration,
    )
    # The stored numbers must give back sklearn's probabilities, or we store a lie.
    if not np.allclose(params.probability(x), expected, atol=1e-6):
        raise AssertionError("the stored risk model does not reproduce sklearn's probabilities")
    return params


# --- metrics ------------------------------------------------------------------------------


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """AUC, Brier score and log loss of probabilities ``p`` against outcomes ``y``."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    if len(y) == 0:
        return {"auc": None, "brier": None, "log_loss": None}
    both = 0 < y.sum() < len(y)
    return {
        "auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p)), 4),
        "log_loss": round(float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])), 4),
    }


def cross_validated(
    x: np.ndarray, y: np.ndarray, feature_names: Sequence[str], *, seed: int = 0
) -> np.ndarray | None:
    """Out-of-fold probabilities (each renewal scored by a model that never saw it), for
    honest metrics; None when a fold could not hold a churn."""
    from sklearn.model_selection import StratifiedKFold

    churns = int(y.sum())
    if churns < FOLDS or len(y) - churns < FOLDS:
        return None
    out = np.zeros(len(y))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, y):
        out[test] = fit(x[train], y[train], feature_names, seed=seed).probability(x[test])
    return out


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
