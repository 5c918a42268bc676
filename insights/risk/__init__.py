"""The renewal-risk model: features, the learned model, the prior, writes and reads.

``rolling_origin_probabilities`` is the backtest's entry point (``insights.backtest``'s
"risk_model" row): each past renewal scored by a model trained only on what was known then.
"""

from insights.risk.services import rolling_origin_probabilities

__all__ = ["rolling_origin_probabilities"]
