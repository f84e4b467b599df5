"""The optimization chapter's theory as presets (d2l 12.3 gradient descent, 12.6 momentum): full-batch
gradient descent and momentum at their optimal constants on a problem with κ ≈ 100, and the book's
momentum demo on f = 0.1x₁² + 2x₂².

Each is full batch (batch_size = num_examples: one step per epoch), on the plain squared loss, so its log
gives the optimal (η, β) of the run's own quadratic, the rate predicted for it (run/theory.py) and, at
its end, the rate observed. Seed 11 for all: its 10,000 examples have a ZᵀZ/n within 0.2% of the
population's at λmax (the end whose overshoot matters: gradient descent at its η* is 1% below 2/λmax,
momentum at its (η*, β*) 1% below (2 + 2β)/λmax, so a λmax 1% above the population's would make both
crawl). The figures in `look_for` were measured with that seed and are checked by tests/test_theory.py.
"""

from __future__ import annotations

from linreg_tui.run.preset import Preset

#: The κ ≈ 100 problem: x ~ N(0, diag(2², 10²)) with the bias column, so the population ZᵀZ/n is
#: diag(4, 100, 1) and the Hessian of scratch's ½-squared loss is that: λmin = 1, λmax = 100.
KAPPA100_DATA = {"impl": "scratch", "scales": "2, 10", "num_examples": "10000", "batch_size": "10000", "seed": "11"}
#: From the population's λmin = 1, λmax = 100 (run.theory; tests/test_theory.py checks them against the run's
#: own): gd η* = 2/(1 + 100); momentum η* = (2/(1 + 10))², β* = ((10 − 1)/(10 + 1))².
KAPPA100_GD_LR = "0.019802"
KAPPA100_MOMENTUM_LR = "0.033058"
KAPPA100_MOMENTUM_BETA = "0.669421"

#: The book's f = 0.1x₁² + 2x₂² as data: x ~ N(0, diag(0.447², 2²)), so E[xxᵀ] = diag(0.2, 4), the Hessian
#: of ½-squared loss in w. No noise and b = 0: the optimum is w* = (5, 2), b* = 0, and from w = 0 (init_std
#: 0) the error w − w* starts at the book's (−5, −2); b starts at its optimum and stays there.
DEMO_DATA = {
    "impl": "scratch",
    "scales": "0.447, 2",
    "true_w": "5, 2",
    "true_b": "0",
    "noise": "0",
    "init_std": "0",
    "num_examples": "10000",
    "batch_size": "10000",
    "epochs": "20",
    "seed": "11",
}
_DEMO_QUESTION = (
    "12.6, momentum (the English edition's too): on f(x) = 0.1x₁² + 2x₂², started at (−5, −2), gradient "
    "descent with η = 0.4 crawls along x₁; η = 0.6 fixes x₁ but diverges in x₂. Does momentum (η = 0.6, "
    "β = 0.5) converge where gradient descent at that η cannot?"
)
_DEMO_DATA_WORDS = (
    "The data makes the book's function: its ½-squared loss has Hessian diag(0.197, 3.99) in w (seed 11's "
    "10,000 examples; the population's is diag(0.2, 4)), and w − w* starts at (−5, −2). The landscape (f6) "
    "draws the valley and the path. "
)

MOMENTUM_PRESETS: tuple[Preset, ...] = (
    Preset(
        "kappa100-gd",
        "full-batch gradient descent at its optimal lr 2/(λmin+λmax) on a problem with κ ≈ 100",
        "12.3, gradient descent (and 12.6's analysis of momentum): on a quadratic with condition number κ, how "
        "fast can gradient descent converge, and with which learning rate?",
        "The log's start gives the Hessian's ends (λmin 1.0, λmax 99.9 here), the optimal lr 2/(λmin+λmax) = "
        "0.0198 with rate (κ−1)/(κ+1) = 0.980 a step, and this run's predicted rate 0.980: the distance to "
        "the optimum should reach 1e-4 of its start in 461 steps. Its end gives the observed rate, 0.980, and "
        "the steps it took, 447. Any other lr is slower: below η* the flat direction (λmin) crawls, above it "
        "the steep one (λmax) overshoots, and at 2/λmax = 0.02, only 1% above, it stops converging. Then run "
        "kappa100-momentum: the same distance in about a seventh of the steps.",
        {**KAPPA100_DATA, "optimizer": "sgd", "lr": KAPPA100_GD_LR, "epochs": "600"},
    ),
    Preset(
        "kappa100-momentum",
        "full-batch momentum at its optimal lr and β on the same κ ≈ 100 problem: about √κ times fewer steps",
        "12.6, momentum: with the best lr and β, how much faster than gradient descent does the heavy ball "
        "converge on a quadratic with condition number κ?",
        "The optimal lr (2/(√λmin+√λmax))² = 0.0331 and β ((√κ−1)/(√κ+1))² = 0.669 give the rate "
        "(√κ−1)/(√κ+1) = 0.818 a step, against gradient descent's 0.980: √κ = 10 times fewer steps predicted "
        "(47 to 1e-4 of the distance, against 461). The run takes 60, about 7.5 times fewer than "
        "kappa100-gd's 447: at these constants both ends of the spectrum have a double root, the error goes as "
        "k·ρᵏ rather than ρᵏ, and the observed rate (0.851) reads above the predicted one. The distance first "
        "grows (the ball overshoots) before it falls. At --lr 0.034, above (2 + 2β)/λmax = 0.0334, it diverges.",
        {
            **KAPPA100_DATA,
            "optimizer": "momentum",
            "lr": KAPPA100_MOMENTUM_LR,
            "momentum": KAPPA100_MOMENTUM_BETA,
            "epochs": "100",
        },
    ),
    Preset(
        "momentum-demo-gd-0.4",
        "the book's momentum demo, gradient descent at η 0.4 on 0.1x₁² + 2x₂²: slow along x₁",
        _DEMO_QUESTION,
        _DEMO_DATA_WORDS + "With η = 0.4, x₂'s error shrinks by |1 − 0.4·4| = 0.6 a step and is gone in 20, "
        "but x₁'s shrinks by only 1 − 0.4·0.2 = 0.92: after 20 steps w1 is still about 1 short of 5 (the book "
        "prints x1 −0.943, x2 −0.000073). The predicted rate is that 0.92.",
        {**DEMO_DATA, "optimizer": "sgd", "lr": "0.4"},
    ),
    Preset(
        "momentum-demo-gd-0.6",
        "the book's momentum demo, gradient descent at η 0.6: x₁ converges faster, x₂ diverges",
        _DEMO_QUESTION,
        _DEMO_DATA_WORDS + "With η = 0.6, above 2/λmax = 0.5, x₂'s error is multiplied by 1 − 0.6·4 = −1.4 "
        "a step: it flips sign and grows, to about 1,600 after 20 steps (the book prints x2 −1673.365). The log "
        "warns of the lr before step 1 and says the loss keeps rising; the predicted rate is 1.40, the "
        "observed 1.33 (x₁'s shrinking error dominates the first steps). x₁ alone would shrink by 0.88 a step "
        "(the book's x1 −0.388), but here x₂'s huge error drags x₁ and b along through the data's small "
        "correlations (ZᵀZ/n is diagonal only to about 0.005): the book's f has none.",
        {**DEMO_DATA, "optimizer": "sgd", "lr": "0.6"},
    ),
    Preset(
        "momentum-demo-momentum",
        "the book's momentum demo, momentum at η 0.6, β 0.5: converges where gradient descent at 0.6 diverges",
        _DEMO_QUESTION,
        _DEMO_DATA_WORDS + "Momentum's bound is (2 + 2β)/λmax = 0.75, so η = 0.6 is stable: every direction's "
        "roots of z² − (1 + β − ηλ)z + β are a complex pair of modulus √β = 0.707, so both x₁ and x₂ spiral in "
        "at 0.707 a step (the predicted rate) and after 20 steps w is within about 0.01 of (5, 2) (the book "
        "prints x1 0.007, x2 0.003). Compare momentum-demo-gd-0.6.",
        {**DEMO_DATA, "optimizer": "momentum", "lr": "0.6", "momentum": "0.5"},
    ),
)
