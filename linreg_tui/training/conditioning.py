"""The conditioning before any data is drawn: an estimate from the form's values alone.

The features are drawn as x ~ N(0, Σ) with Σ = D R D (D the scales, R the correlation: `corr` off the
diagonal), so E[z zᵀ] for z = [x, 1] is the block diagonal [[Σ, 0], [0, 1]]: the population ZᵀZ/n. Its
eigenvalues give the condition number and the run's largest stable learning rate as
landscape.conditioning gives them from the data; the data's own values scatter around these by about
1/√n. The log and the form call them estimates.
"""

from __future__ import annotations

import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.surface import Conditioning
from linreg_tui.training.statistics import SufficientStats, conditioning


def population_gram(config: RunConfig) -> torch.Tensor:
    """E[z zᵀ] for z = [x, 1]: the features' covariance D R D and the bias column's 1, in float64."""
    d = config.num_features
    scales = torch.tensor(config.feature_scales, dtype=torch.float64)
    correlation = torch.full((d, d), config.corr, dtype=torch.float64)
    correlation.fill_diagonal_(1.0)
    gram = torch.zeros(d + 1, d + 1, dtype=torch.float64)
    gram[:d, :d] = scales.unsqueeze(1) * correlation * scales.unsqueeze(0)
    gram[d, d] = 1.0
    return gram


def conditioning_for(config: RunConfig) -> Conditioning:
    """The condition number and the largest stable lr that a run with these values will have, estimated
    from the population (no data drawn): the same bound, for the same loss, reduction and weight decay."""
    stats = SufficientStats(gram=population_gram(config), zty=torch.zeros(config.num_features + 1), yty=0.0, count=1)
    summed_over = config.batch_size if config.reduction == "sum" else 1
    return conditioning(stats, config.impl, config.loss, config.wd, summed_over)
