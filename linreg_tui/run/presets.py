"""The book's experiments as presets: each a set of field texts, its question and what to look for.

Pure Python (no torch): `linreg-tui presets` and the app's picker read it at once. The questions are
the exercises of the seed's edition (d2l-zh, 2nd edition: 3.2, 3.3 and the weight-decay section 4.5)
and, where the seed's edition does not ask them, of the current English edition (its 3.4 and 3.5),
each saying which. Values are form texts, as a person would type them; `apply_preset` lays them over
the defaults, and flags given with `--preset` override them.
"""

from __future__ import annotations

import dataclasses
import math

from linreg_tui.run.config import ConfigError, FieldError, RunConfig, parse_config
from linreg_tui.run.momentum_presets import MOMENTUM_PRESETS
from linreg_tui.run.optimizer_presets import OPTIMIZER_PRESETS
from linreg_tui.run.optimizers import BOOK_EPS
from linreg_tui.run.parsing import format_number
from linreg_tui.run.preset import Preset
from linreg_tui.run.real_data_presets import REAL_DATA_PRESETS
from linreg_tui.run.sources import SYNTHETIC, defaults_for

#: The data-size preset's sizes: the English edition's hint, logarithmic rather than linear steps.
DATA_SIZES = "5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000"
#: The weight-decay section's d: 200 weights, each 0.01.
WEIGHT_DECAY_FEATURES = 200


_PRESETS = (
    Preset(
        "book-3.2",
        "the seed's 3.2 run: scratch, w = [2, -3.4], b = 4.2, 1,000 examples, batch 10, lr 0.03, 3 epochs",
        "3.2, linear regression from scratch: can minibatch SGD on ½(ŷ−y)² recover w and b from 1,000 noisy examples?",
        "The book's three lines: the loss falls from about 16 to 0.04 after one epoch and to about 5e-5 after "
        "three, which is ½σ² for the noise σ = 0.01: the fit is as good as the noise allows. The errors in w and "
        "b end near 1e-3, and the closed-form optimum sits within about 1e-3 of the learned values.",
        {"impl": "scratch"},
    ),
    Preset(
        "book-3.3",
        "the seed's 3.3 run: concise (nn.Linear, nn.MSELoss, torch.optim.SGD), the same data and lr",
        "3.3, the concise implementation: the same model with the framework's layers, loss and optimiser.",
        "nn.MSELoss is the mean of (ŷ−y)², with no ½: its losses read twice scratch's (the floor is σ² = 1e-4) "
        "and its gradient is twice as large, so at lr 0.03 it takes the steps scratch takes at lr 0.06. Run "
        "book-3.2 with --lr 0.06 beside it: the same path.",
        {"impl": "concise"},
    ),
    Preset(
        "zero-init",
        "w starts at 0 instead of N(0, 0.01²): does SGD still work?",
        "3.2, exercise 1: if we initialise the weights to zero, what happens? Does the algorithm still work?",
        "It works as well as the book's start: from epoch 2 on the losses and the final errors are the same. "
        "The loss is convex in (w, b) and each weight's gradient −x_j(y − ŷ) differs from the others', so "
        "nothing is symmetric to break. Zero initialisation fails in networks with hidden layers, where units "
        "that start equal receive equal gradients and stay equal.",
        {"init_std": "0"},
    ),
    Preset(
        "big-init",
        "w starts with variance 1000 (std √1000 ≈ 31.6) instead of 0.01²",
        "The current English edition, 3.4, exercise 1: what if we initialised the parameters with variance "
        "1000 rather than 0.01? (The seed's edition asks only about zero.)",
        "The first minibatch losses are about 1,000 (ctrl+l: a log axis shows the fall), and epoch 1 ends near 2 "
        "where the book's start ends at 0.04. The loss is a convex quadratic, so a start far away costs steps, "
        "not the answer: by epoch 3 the loss is near the floor, with the w error several times the book's. In a "
        "deep network such a start makes activations and gradients explode instead.",
        {"init_std": format_number(math.sqrt(1000))},
    ),
    Preset(
        "lr-too-high",
        "lr 2.5, above the largest stable lr (1.82 here): the loss grows until it is not a number",
        "3.2, exercise 6: try different learning rates and see how fast the loss falls.",
        "The log warns before step 1 that lr 2.5 is above 2/λmax, the bound above which even full-batch gradient "
        "descent diverges; each step overshoots the valley by more than it started, the minibatch losses grow "
        "by orders of magnitude, and the run stops as diverged (exit 3) at the first non-finite step, keeping "
        "the last finite parameters. Try --lr 1.5 (below the bound: it converges, noisily) and --lr 0.3.",
        {"lr": "2.5"},
    ),
    Preset(
        "lr-too-low",
        "lr 0.001: 3 epochs leave the loss near 9 (the book's lr reaches 5e-5)",
        "3.2, exercise 6: try different learning rates and see how fast the loss falls; the current English "
        "edition adds: can you reduce the error by training for more epochs?",
        "Each step moves 30 times less than at lr 0.03, so the loss falls by about a fifth an epoch: 13, 11, 9. "
        "More epochs make up for it: --epochs 30 ends near 0.04, the book's loss after its first epoch; the "
        "same number of steps times the lr gets about as far.",
        {"lr": "0.001"},
    ),
    Preset(
        "ragged-batch",
        "1,001 examples in batches of 10: every epoch ends with a minibatch of 1",
        "3.2, exercise 7: if the number of examples cannot be divided by the batch size, what happens to "
        "data_iter's behaviour?",
        "data_iter yields 101 minibatches an epoch (303 steps in all), the last holding the one example left "
        "over. The book's sgd still divides that step's gradient by the nominal batch size 10, so the step is a "
        "tenth of a full one. With --impl concise, nn.MSELoss averages over the "
        "example it has and takes a full-sized step from it: scratch at 2η and concise at η, equal step for step "
        "on 1,000 examples, part here.",
        {"num_examples": "1001"},
    ),
    Preset(
        "sum-reduction",
        "concise with nn.MSELoss(reduction='sum') at lr 0.003 = 0.03 / batch 10: the mean's steps",
        "3.3, exercise 1: if we replace the minibatch's total loss with its mean, how must the learning rate "
        "change? (The seed's concise code already averages; here the mean is replaced by the sum.)",
        "A sum over the minibatch is the batch size times its mean, and so is its gradient: lr / batch size "
        "(0.003) takes the same steps as book-3.3 at 0.03, and the learned w and b agree with it to float "
        "rounding (the losses are shown as means either way). With --lr 0.03 the sum takes steps ten times "
        "larger, as the mean would at lr 0.3.",
        {"impl": "concise", "reduction": "sum", "lr": "0.003"},
    ),
    Preset(
        "outlier",
        "training label y5 set to 10000 with the squared loss; then try --loss huber or --loss absolute",
        "The current English edition, 3.4's exercise on the absolute loss: what changes if you perturb some "
        "labels, such as y5 = 10000? And 3.3, exercise 2 of the seed's edition: replace the loss with Huber's.",
        "With the squared loss one label among 1,000 drags the fit: the closed-form optimum's b moves by about "
        "10 (the outlier's excess over n), and each epoch the minibatch that holds y5 kicks w and b far off, "
        "the loss chart spiking where it does. --loss huber counts residuals beyond δ = 1 linearly, so the "
        "outlier's gradient is no larger than any other example's: the errors in w and b drop from about 10 "
        "to a few hundredths. --loss absolute likewise, at the price of steps that do not shrink near the "
        "optimum.",
        {"outlier": "10000", "loss": "squared"},
    ),
    Preset(
        "weight-decay",
        "the weight-decay section's set-up: 200 features, 20 training and 100 validation examples, λ = 3",
        "4.5, weight decay: with 200 weights and only 20 examples the model can fit the training data exactly. "
        "Does the L2 penalty λ‖w‖²/2 keep it from overfitting?",
        "Each true weight is 0.01 and b = 0.05, the initial weights N(0, 1), lr 0.003, batch 5, 100 epochs. With "
        "λ = 3 (the default here) the training and validation losses fall together and ‖w‖ ends small. With "
        "--wd 0 the training loss falls towards 1e-5 while the validation loss stays near 1e2 and ‖w‖ stays "
        "large: the model memorised 20 examples. The validation loss is the book's evaluate_loss, drawn beside "
        "the training loss.",
        {
            "true_w": f"0.01*{WEIGHT_DECAY_FEATURES}",
            "true_b": "0.05",
            "num_examples": "20",
            "val": "100",
            "batch_size": "5",
            "init_std": "1",
            "lr": "0.003",
            "epochs": "100",
            "wd": "3",
        },
    ),
    Preset(
        "data-size",
        "a sweep over n = 5 … 10,000 (concise, full batch): the error in w against n on log-log axes",
        "The current English edition, 3.5's last exercise: how does the solution change with the amount of "
        "data? Plot the estimation error of w and b against n, with n growing logarithmically (5, 10, 20, 50, "
        "…, 10,000). (The seed's edition does not ask it.)",
        "The error falls as σ/√n: a straight line of slope −1/2 on log-log axes. The fitted slope is printed: "
        "−0.57 for seed 0, between −0.45 and −0.62 for seeds 0 to 3 (--seed), on average a little steeper "
        "than −0.5 because with n close to the 3 unknowns the estimate is noisier than σ/√n. Each run is "
        "full-batch gradient descent (batch 10,000 ≥ n: the DataLoader hands the whole set as one minibatch) "
        "for 300 epochs, which reaches the least-squares fit, so the error left is the data's own. With "
        "minibatches the law hides behind SGD's noise, about σ·√(lr / batch) whatever n is: try "
        "--batch-size 5 --epochs 3.",
        {"impl": "concise", "batch_size": "10000", "lr": "0.1", "epochs": "300"},
        {"num_examples": DATA_SIZES},
    ),
)

#: Every preset by name, in the order they are listed.
PRESETS: dict[str, Preset] = {
    preset.name: preset for preset in (*_PRESETS, *REAL_DATA_PRESETS, *OPTIMIZER_PRESETS, *MOMENTUM_PRESETS)
}


def preset_named(name: str) -> Preset:
    """The preset; ConfigError (one line, listing the names) for a name that is not one."""
    if name not in PRESETS:
        raise ConfigError([FieldError("preset", name, f"is not a preset; allowed: {', '.join(PRESETS)}")])
    return PRESETS[name]


def book_comparison(preset: Preset, config: RunConfig, final_loss: float) -> str | None:
    """The book's figure beside the run's own, when the preset printed one and the run is the preset's
    (every field the preset sets has its value; the seed and the device may differ)."""
    halved = config.impl == "concise" and config.data == "airfoil"
    if preset.sweep or (preset.book is None and not halved):  # a sweep's points are none of them the preset's run
        return None
    own = parse_config(apply_preset(preset.name))
    if any(getattr(config, name) != getattr(own, name) for name in preset.values):
        return None
    if preset.book is None:
        if config.impl == "concise" and config.data == "airfoil":  # train_concise_ch11 prints MSELoss / 2
            return f"on the book's scale (nn.MSELoss halved, as train_concise_ch11 prints it): {final_loss / 2:.4g}"
        return None
    book = preset.book
    return f"the book printed loss {book.loss:g} for this run ({book.where}); this run's: {final_loss:.4g}"


def apply_preset(name: str) -> dict[str, str]:
    """The form's texts for a preset: every field's default except the device (where to train is not
    part of an experiment), with the preset's values and its sweep's comma-separated values over them."""
    preset = preset_named(name)
    source = preset.values.get("data", SYNTHETIC)
    training = {name: preset.values[name] for name in ("optimizer", "schedule") if name in preset.values}
    if (eps := BOOK_EPS.get(training.get("optimizer", ""))) is not None:
        training["eps"] = eps  # type: ignore[assignment]
    # The defaults of the fields that apply to the preset's data, optimizer and schedule (not adadelta's lr).
    start = dataclasses.replace(RunConfig(data=source), **defaults_for(source), **training)  # type: ignore[arg-type]
    defaults = {key: text for key, text in start.as_texts().items() if key != "device"}
    return {**defaults, **preset.values, **preset.sweep}
