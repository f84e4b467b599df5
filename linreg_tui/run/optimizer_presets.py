"""The optimization chapter's runs on the airfoil data, one preset per optimizer, with the losses the book
printed: momentum (d2l 11.6, English 12.6), AdaGrad (11.7/12.7), RMSProp (11.8/12.8), Adadelta
(11.9/12.9), Adam and Yogi (11.10/12.10), each from scratch (train_ch11) and concisely with torch.optim
(train_concise_ch11). All train minibatches of 10 for 2 epochs on the standardized table, whose optimum is
0.2417.

The book's figure is one seeded run of each: with seeds 0–3 the app's runs end within about 0.005 of it
(momentum at lr 0.01, β 0.9, the least settled of them, within 0.009), as tests/test_optimizer_presets.py
checks for seed 0.
"""

from __future__ import annotations

from linreg_tui.run.preset import BookFigure, Preset

_QUESTION = (
    "11.6–11.10 (the English edition's 12.6–12.10): the optimization chapter trains the airfoil regression "
    "with one optimizer after another, from scratch and with torch.optim. What does each change about the "
    "path and the loss, for the same 300 steps?"
)
_SECTIONS = {
    "momentum": "d2l 11.6, English 12.6: train_momentum",
    "adagrad": "d2l 11.7, English 12.7: train_ch11(adagrad, …)",
    "rmsprop": "d2l 11.8, English 12.8: train_ch11(rmsprop, …)",
    "adadelta": "d2l 11.9, English 12.9: train_ch11(adadelta, …)",
    "adam": "d2l 11.10, English 12.10: train_ch11(adam, …)",
    "yogi": "d2l 11.10, English 12.10: train_ch11(yogi, …)",
}
_SCALE = (
    " The log puts the book's printed loss beside this run's; the book's figure is one seeded run, and runs "
    "with other seeds end within about 0.005 of it."
)
_CONCISE_SCALE = (
    " torch.optim trains on nn.MSELoss, whose gradient is twice scratch's ½-scale one; the book prints the "
    "concise runs' loss halved, and the log gives this run's halved loss (the book's scale) beside its own."
)


def _airfoil(
    optimizer: str, summary: str, look_for: str, book: float | None = None, impl: str = "scratch", **values: str
) -> Preset:
    settings = ", ".join(f"'{name}': {text}" for name, text in values.items())
    name = f"airfoil-{optimizer}" + "".join(f"-{text}" for text in values.values() if optimizer == "momentum")
    if impl == "concise":
        name += "-concise"
    return Preset(
        name,
        summary,
        _QUESTION,
        look_for + (_CONCISE_SCALE if impl == "concise" else _SCALE if book is not None else ""),
        {"data": "airfoil", "impl": impl, "batch_size": "10", "epochs": "2", "optimizer": optimizer, **values},
        book=None if book is None else BookFigure(book, f"{_SECTIONS[optimizer]} {{{settings}}}"),
    )


OPTIMIZER_PRESETS: tuple[Preset, ...] = (
    _airfoil(
        "momentum",
        "airfoil, momentum: lr 0.02, β 0.5, batch 10, 2 epochs (book: loss 0.242)",
        "β 0.5 averages about 2 gradients: the steps are like sgd's at twice the learning rate, smoothed. "
        "Step mode (space) shows v, the velocity the step follows.",
        0.242,
        lr="0.02",
        momentum="0.5",
    ),
    _airfoil(
        "momentum",
        "airfoil, momentum: lr 0.01, β 0.9 (book: loss 0.257)",
        "β 0.9 averages about 10 gradients, an effective rate of 0.1: the loss falls fast and then rides the "
        "noise of the minibatches above the optimum. The book's next run halves the learning rate.",
        0.257,
        lr="0.01",
        momentum="0.9",
    ),
    _airfoil(
        "momentum",
        "airfoil, momentum: lr 0.005, β 0.9 (book: loss 0.243)",
        "Half the learning rate with the same β: the effective rate 0.05 settles nearer the optimum.",
        0.243,
        lr="0.005",
        momentum="0.9",
    ),
    _airfoil(
        "adagrad",
        "airfoil, AdaGrad: lr 0.1 (book: loss 0.242)",
        "Each coordinate's step is divided by the root of its summed squared gradients, so the steps shrink "
        "as the run goes on: large at first, small near the end, whatever the scale of the feature.",
        0.242,
        lr="0.1",
    ),
    _airfoil(
        "rmsprop",
        "airfoil, RMSProp: lr 0.01, γ 0.9 (book: loss 0.246)",
        "As AdaGrad, but the squared gradients are a leaky average (γ 0.9: about the last 10), so the steps "
        "do not shrink for good.",
        0.246,
        lr="0.01",
        gamma="0.9",
    ),
    _airfoil(
        "adadelta",
        "airfoil, Adadelta: no learning rate, ρ 0.9 (book: loss 0.243)",
        "No learning rate at all: the step's size comes from the leaky average of the earlier steps (Δ), so "
        "the first steps are of size about √ε and grow. The form hides the learning rate.",
        0.243,
        rho="0.9",
    ),
    _airfoil(
        "adam",
        "airfoil, Adam: lr 0.01 (book: loss 0.242)",
        "Momentum and RMSProp together, with the bias correction that makes the first steps full-sized: "
        "about lr per coordinate at the start, whatever the gradient's scale.",
        0.242,
        lr="0.01",
    ),
    _airfoil(
        "yogi",
        "airfoil, Yogi: lr 0.01 (book: loss 0.244)",
        "Adam whose second moment moves by (1 − β2)·g² towards g² instead of averaging: it cannot grow "
        "too fast when gradients jump. Scratch only: torch has no Yogi.",
        0.244,
        lr="0.01",
    ),
    _airfoil(
        "momentum",
        "airfoil, momentum with torch.optim.SGD: lr 0.005, β 0.9",
        "The book's concise momentum run (train_concise_ch11 with torch.optim.SGD).",
        impl="concise",
        lr="0.005",
        momentum="0.9",
    ),
    _airfoil(
        "adagrad",
        "airfoil, torch.optim.Adagrad: lr 0.1",
        "The book's concise AdaGrad run. torch puts ε outside the root (√s + ε), the book inside.",
        impl="concise",
        lr="0.1",
    ),
    _airfoil(
        "rmsprop",
        "airfoil, torch.optim.RMSprop: lr 0.01, alpha (γ) 0.9",
        "The book's concise RMSProp run; torch calls γ alpha and puts ε outside the root.",
        impl="concise",
        lr="0.01",
        gamma="0.9",
    ),
    _airfoil(
        "adadelta",
        "airfoil, torch.optim.Adadelta: ρ 0.9",
        "The book's concise Adadelta run; torch's Adadelta multiplies the step by lr, which the app keeps at 1.",
        impl="concise",
        rho="0.9",
    ),
    _airfoil(
        "adam",
        "airfoil, torch.optim.Adam: lr 0.01",
        "The book's concise Adam run: the same formula as the book's adam.",
        impl="concise",
        lr="0.01",
    ),
)
