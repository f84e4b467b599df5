"""The book's experiments on real data, as presets: the optimization chapter's runs on the airfoil data
(with the losses the book printed), one it does not point out (its gradient descent is unstable), Longley's
table raw and standardized, and the model-selection section's polynomials.

The sections are the seed's edition's (d2l-zh, 2nd edition: 11.5 minibatch SGD, 4.4 model selection),
with the current English edition's numbers beside them (12.5, 3.6). The figures quoted in `look_for` were
measured with seed 0 and are checked by tests/test_real_data.py.
"""

from __future__ import annotations

from linreg_tui.run.preset import BookFigure, Preset

#: Where the airfoil runs' losses were printed: train_sgd calls train_ch11, whose animator's last point
#: is the loss over all 1,500 rows after the last epoch (½-squared, on standardized data).
_CH11 = "d2l 11.5, English 12.5: train_sgd"
_AIRFOIL_QUESTION = (
    "11.5 (the English edition's 12.5), minibatch stochastic gradient descent: train the same linear "
    "regression on NASA's airfoil self-noise data with full-batch gradient descent, single-example SGD and "
    "minibatches of 100 and 10. Which reaches the lowest loss for the work it does?"
)
_AIRFOIL_LOOK = (
    "The data is the book's get_data_ch11: 1,500 rows, all six columns standardized, so the loss's optimum "
    "is 0.2417 (the results show it). The log's last lines put the book's printed loss beside this run's: "
    "they agree to about 0.003, the difference being the start and the minibatch order. "
)


def _airfoil(name: str, summary: str, lr: str, batch: str, epochs: str, book: float, more: str) -> Preset:
    return Preset(
        name,
        summary,
        _AIRFOIL_QUESTION,
        _AIRFOIL_LOOK + more,
        {"data": "airfoil", "impl": "scratch", "lr": lr, "batch_size": batch, "epochs": epochs},
        book=BookFigure(book, f"{_CH11}({lr}, {batch}{'' if epochs == '2' else ', ' + epochs})"),
    )


_POLY_QUESTION = (
    "4.4 (the English edition's 3.6), model selection, underfitting and overfitting: fit the book's cubic "
    "(5 + 1.2x − 3.4x²/2! + 5.6x³/3! + noise) with polynomials of degree 1, 3 and 19, on 100 training and "
    "100 validation examples. Which degree generalizes?"
)

REAL_DATA_PRESETS: tuple[Preset, ...] = (
    _airfoil(
        "airfoil-gd",
        "airfoil, full-batch gradient descent: lr 1, batch 1,500, 10 epochs (book: loss 0.248)",
        "1",
        "1500",
        "10",
        0.248,
        "Ten steps, one per epoch. The log warns before step 1 that lr 1 is above this data's largest stable "
        "lr (0.953): the loss falls to 0.2445 by epoch 6 and then rises by more each epoch, and at epoch 10 "
        "the log says the run is unstable. The book does not say so; airfoil-unstable runs it longer.",
    ),
    _airfoil(
        "airfoil-sgd",
        "airfoil, single-example SGD: lr 0.005, batch 1, 2 epochs (book: loss 0.244)",
        "0.005",
        "1",
        "2",
        0.244,
        "3,000 steps of one example each: the loss is near the optimum within the first epoch, but each step "
        "costs as much Python as a full batch would, so it is the slowest per example (the status line's "
        "steps/s).",
    ),
    _airfoil(
        "airfoil-minibatch-100",
        "airfoil, minibatches of 100: lr 0.4, 2 epochs (book: loss 0.244)",
        "0.4",
        "100",
        "2",
        0.244,
        "30 steps: as low a loss as single-example SGD in a hundredth of the steps, the book's point about "
        "minibatches: the gradient of 100 examples is nearly as good as the full one, at a fraction of the cost.",
    ),
    _airfoil(
        "airfoil-minibatch-10",
        "airfoil, minibatches of 10: lr 0.05, 2 epochs (book: loss 0.246)",
        "0.05",
        "10",
        "2",
        0.246,
        "300 steps: the loss chart is noisier than with 100 examples a step, and the loss after two epochs a "
        "little higher than the optimum's, as the book's was.",
    ),
    Preset(
        "airfoil-unstable",
        "the book's gradient descent on airfoil (lr 1) for 50 epochs: above its stability bound, the loss grows",
        "Not in the book: is the chapter's gradient-descent example (lr 1 on the airfoil data) stable?",
        "The largest stable lr of this data is 0.953 (2/λmax of ZᵀZ/n, in the log before step 1), and lr 1 is"
        " just above it. The steepest direction's error grows by |1 − ηλmax| ≈ 1.10 a step (the loss's excess"
        " by 1.21), too slowly to show in the book's 10 epochs: the loss reaches 0.2445 at epoch 6, the log "
        "says the run is unstable at epoch 10, and epoch 50 ends near 7.3, rising every epoch (it overflows "
        "at epoch 473). Try --lr 0.9: below the bound, the loss falls to the optimum's 0.2417 and stays.",
        {"data": "airfoil", "impl": "scratch", "lr": "1", "batch_size": "1500", "epochs": "50"},
    ),
    Preset(
        "longley-raw",
        "Longley's table as it is: condition number 2.4e19, largest stable lr 1.2e-11: SGD cannot get anywhere",
        "Longley (1967): TOTEMP on six economic series, the classic test of least-squares accuracy. Can "
        "gradient descent fit it without standardizing?",
        "GNP is in the hundreds of thousands and the intercept's column is 1: ZᵀZ/n's largest eigenvalue is "
        "about 1.7e11 and its condition number 2.4e19, so the largest stable lr is 1.2e-11. At lr 1e-11 the "
        "steepest direction is fitted in a few steps (the loss falls from 1.3e9 to 2.9e7) and every other "
        "direction moves by a factor of at most 1e-19 a step: b stays near 0 where the optimum's is −3.48 "
        "million, and R² ends at −4.0. The closed form (the results) still has every coefficient, to 11 "
        "digits of NIST's certified values. Compare longley-standardized.",
        {
            "data": "longley",
            "impl": "scratch",
            "standardize": "none",
            "lr": "1e-11",
            "batch_size": "16",
            "epochs": "100",
        },
    ),
    Preset(
        "longley-standardized",
        "Longley standardized: condition number 1.2e4, largest stable lr 0.43; 2,000 steps reach R² 0.994",
        "Longley (1967) again, with every column standardized (--standardize all): what does rescaling buy?",
        "Standardizing puts every column on the same scale: the condition number falls from 2.4e19 to 1.2e4 "
        "and the largest stable lr rises to 0.434. What is left is the collinearity (GNP, POP and YEAR move "
        "together), and it still makes SGD slow: the slowest direction shrinks by about 1.5e-4 a step at lr "
        "0.4, so after 2,000 steps R² is 0.994 while YEAR's coefficient, in the file's units, is 1214 of the "
        "optimum's 1829, and GNPDEFL's −24 where the optimum's is +15. The results show both in the file's units.",
        {"data": "longley", "impl": "scratch", "standardize": "all", "lr": "0.4", "batch_size": "16", "epochs": "2000"},
    ),
    Preset(
        "poly-underfit",
        "the book's polynomial, fitted with degree 1 (a line): concise, lr 0.01, batch 10, 400 epochs",
        _POLY_QUESTION,
        "A line cannot bend: the training and validation losses stay near 18 and 15 (the noise's is 0.01), "
        "w ends near 4.4 and b near 3.1. Underfitting: the model is too simple, and more epochs do not help.",
        {"data": "poly", "degree": "1", "impl": "concise", "lr": "0.01", "batch_size": "10", "epochs": "400"},
    ),
    Preset(
        "poly-cubic",
        "the book's polynomial, fitted with degree 3 (the truth's): concise, lr 0.01, batch 10, 400 epochs",
        _POLY_QUESTION,
        "The right model: both losses fall to about the noise's 0.01 (nn.MSELoss, with no ½), and w ends near "
        "the truth's 1.2, −3.4, 5.6 with b near 5, the book's printed weights.",
        {"data": "poly", "degree": "3", "impl": "concise", "lr": "0.01", "batch_size": "10", "epochs": "400"},
    ),
    Preset(
        "poly-overfit",
        "the book's polynomial, fitted with degree 19: concise, lr 0.01, batch 10, 1,500 epochs",
        _POLY_QUESTION,
        "Twenty parameters for 100 noisy examples. The closed-form optimum uses them all and fits the noise: "
        "its weights run into the thousands and far beyond (x⁵/5!'s is about 1,400, x¹⁹/19!'s about −3e14), "
        "and the condition number is infinite to float64's precision. SGD, as the book trains it, barely "
        "moves the high-order weights (x^i/i! is tiny for most x), so it overfits only a little: both losses "
        "end near 0.013 and 0.012 with these 100 examples (the book's figure shows the validation loss a "
        "little above the training loss), and w's first three stay near the truth.",
        {"data": "poly", "degree": "19", "impl": "concise", "lr": "0.01", "batch_size": "10", "epochs": "1500"},
    ),
)
