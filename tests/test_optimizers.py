"""The optimization chapter's optimizers: scratch's steps are the book's formulas, concise's are
torch.optim's, and each difference between the two that docs/fidelity.md names is the one measured here.
The optimizer's state travels with checkpoints (a replayed chunk takes the same steps) and with step
mode's explanations."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.run.events import Paused, StepExplained, StepLosses, TrainingEvent
from linreg_tui.run.optimizers import BOOK_EPS, ENGINE_OPTIMIZERS, OPTIMIZERS
from linreg_tui.training import optimizers as book
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.engines import Engine, make_engine
from linreg_tui.training.loop import train
from linreg_tui.ui.panels.log import explained_lines

ADAPTIVE = [name for name in OPTIMIZERS if name != "sgd"]
CONCISE = [name for name in ENGINE_OPTIMIZERS["concise"] if name != "sgd"]


def config_for(impl: str, optimizer: str, **changes: object) -> RunConfig:
    """25 examples in minibatches of 10: each epoch ends in a short minibatch of 5."""
    values: dict[str, object] = {"impl": impl, "optimizer": optimizer, "num_examples": 25, "lr": 0.1, "noise": 1.0}
    if optimizer in BOOK_EPS:
        values["eps"] = BOOK_EPS[optimizer]
    values.update(changes)
    return RunConfig(**values)  # type: ignore[arg-type]


def engine_for(config: RunConfig) -> Engine:
    generator = make_generator(config.seed)
    return make_engine(config, make_dataset(config, generator), generator)


def batches(engine: Engine, epochs: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [batch for _ in range(epochs) for batch in engine.epoch_batches()]


def theta_of(engine: Engine) -> torch.Tensor:
    params = engine.parameters()
    return torch.cat([params.w, params.b]).double()


def squared_gradient(theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor, *, mean_mse: bool) -> torch.Tensor:
    """float64: the gradient of the summed ½(ŷ−y)² (scratch) or of the mean (ŷ−y)² (MSELoss)."""
    Z = torch.cat([X.double(), torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    residual = Z @ theta - y.double().reshape(-1)
    return 2 * Z.T @ residual / len(X) if mean_mse else Z.T @ residual


def book_step(name: str, theta: torch.Tensor, g: torch.Tensor, state: dict[str, object], c: RunConfig) -> torch.Tensor:
    """One step of the book's formula (d2l 12.6–12.10) in float64, every state from 0."""
    zero = torch.zeros_like(theta)
    eps = c.eps
    if name == "sgd":
        return theta - c.lr * g
    if name == "momentum":
        v = c.momentum * state.get("v", zero) + g  # type: ignore[operator]
        state["v"] = v
        return theta - c.lr * v
    if name == "adagrad":
        s = state.get("s", zero) + g**2  # type: ignore[operator]
        state["s"] = s
        return theta - c.lr * g / torch.sqrt(s + eps)
    if name == "rmsprop":
        s = c.gamma * state.get("s", zero) + (1 - c.gamma) * g**2  # type: ignore[operator]
        state["s"] = s
        return theta - c.lr * g / torch.sqrt(s + eps)
    if name == "adadelta":
        s = c.rho * state.get("s", zero) + (1 - c.rho) * g**2  # type: ignore[operator]
        delta = state.get("delta", zero)
        step = torch.sqrt(delta + eps) / torch.sqrt(s + eps) * g  # type: ignore[operator]
        state["s"], state["delta"] = s, c.rho * delta + (1 - c.rho) * step**2  # type: ignore[operator]
        return theta - step
    t = int(state.get("t", 1))  # type: ignore[call-overload]
    v = c.beta1 * state.get("v", zero) + (1 - c.beta1) * g  # type: ignore[operator]
    old = state.get("s", zero)
    if name == "yogi":
        s = old + (1 - c.beta2) * torch.sign(g**2 - old) * g**2  # type: ignore[operator]
    else:
        s = c.beta2 * old + (1 - c.beta2) * g**2  # type: ignore[operator]
    state.update(v=v, s=s, t=t + 1)
    return theta - c.lr * (v / (1 - c.beta1**t)) / (torch.sqrt(s / (1 - c.beta2**t)) + eps)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_scratch_takes_the_books_steps_on_real_minibatches(optimizer: str) -> None:
    """Two epochs of 10, 10 and 5 examples: g is the summed gradient / 10, also on the short minibatch."""
    config = config_for("scratch", optimizer)
    engine = engine_for(config)
    theta, state = theta_of(engine), {}
    for X, y in batches(engine, 2):
        g = squared_gradient(theta, X, y, mean_mse=False) / config.batch_size
        theta = book_step(optimizer, theta, g, state, config)
        engine.run_steps([(X, y)])
        assert torch.allclose(theta_of(engine), theta, rtol=1e-5, atol=1e-6), optimizer
    assert (theta - theta_of(engine_for(config))).abs().max() > 1e-2  # the steps moved the parameters


def torch_step(
    name: str, theta: torch.Tensor, grad: torch.Tensor, state: dict[str, object], c: RunConfig
) -> torch.Tensor:
    """One trainer.step() as torch/optim/*.py writes it (single-tensor path), in float64."""
    zero = torch.zeros_like(theta)
    eps, t = c.eps, int(state.get("t", 1))  # type: ignore[call-overload]
    state["t"] = t + 1
    if name == "sgd":
        return theta - c.lr * grad
    if name == "momentum":
        buf = grad.clone() if t == 1 else c.momentum * state["v"] + grad  # type: ignore[operator]
        state["v"] = buf
        return theta - c.lr * buf
    if name == "adagrad":
        s = state.get("s", zero) + grad**2  # type: ignore[operator]
        state["s"] = s
        return theta - c.lr * grad / (torch.sqrt(s) + eps)
    if name == "rmsprop":
        s = c.gamma * state.get("s", zero) + (1 - c.gamma) * grad**2  # type: ignore[operator]
        state["s"] = s
        return theta - c.lr * grad / (torch.sqrt(s) + eps)
    if name == "adadelta":
        s = c.rho * state.get("s", zero) + (1 - c.rho) * grad**2  # type: ignore[operator]
        delta = torch.sqrt(state.get("delta", zero) + eps) / torch.sqrt(s + eps) * grad  # type: ignore[operator]
        state["s"], state["delta"] = s, c.rho * state.get("delta", zero) + (1 - c.rho) * delta**2  # type: ignore[operator]
        return theta - 1.0 * delta
    v = c.beta1 * state.get("v", zero) + (1 - c.beta1) * grad  # type: ignore[operator]
    s = c.beta2 * state.get("s", zero) + (1 - c.beta2) * grad**2  # type: ignore[operator]
    state.update(v=v, s=s)
    return theta - c.lr / (1 - c.beta1**t) * v / (torch.sqrt(s) / math.sqrt(1 - c.beta2**t) + eps)


@pytest.mark.parametrize("optimizer", ENGINE_OPTIMIZERS["concise"])
def test_concise_takes_torchs_documented_steps(optimizer: str) -> None:
    """Five steps (the third a short minibatch, whose MSELoss is its own mean) against the formulas
    docs/fidelity.md gives for torch.optim."""
    config = config_for("concise", optimizer)
    engine = engine_for(config)
    theta, state = theta_of(engine), {}
    for X, y in batches(engine, 2)[:5]:
        theta = torch_step(optimizer, theta, squared_gradient(theta, X, y, mean_mse=True), state, config)
        engine.run_steps([(X, y)])
        assert torch.allclose(theta_of(engine), theta, rtol=1e-5, atol=1e-6), optimizer


def one_parameter_steps(name: str, grads: list[float], eps: float, torch_class: type, **constants: float) -> tuple:
    """The book's function and torch's optimizer, each from 0 on a 1-element float64 parameter, fed the
    same gradients (the book's divided by batch_size 1): the parameter after each."""
    ours = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    theirs = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    update, names = book.UPDATES[name]
    states = book.init_states([ours], names)
    hyper = book.Hyperparams(lr=0.1, eps=eps, **constants)
    trainer = torch_class(
        [theirs],
        **({"lr": 0.1} if name != "adadelta" else {"lr": 1.0}),
        eps=eps,
        **{
            "adagrad": {},
            "rmsprop": {"alpha": constants.get("gamma", 0.9)},
            "adadelta": {"rho": constants.get("rho", 0.9)},
            "adam": {"betas": (0.9, 0.999)},
        }[name],
    )
    book_path, torch_path = [], []
    for grad in grads:
        ours.grad = torch.tensor([grad], dtype=torch.float64)
        update([ours], states, hyper, 1)
        theirs.grad = torch.tensor([grad], dtype=torch.float64)
        trainer.step()
        book_path.append(float(ours.detach()))
        torch_path.append(float(theirs.detach()))
    return book_path, torch_path


@pytest.mark.parametrize(("name", "torch_class"), [("adagrad", torch.optim.Adagrad), ("rmsprop", torch.optim.RMSprop)])
def test_adagrad_and_rmsprop_put_eps_outside_the_root_and_the_book_inside(name: str, torch_class: type) -> None:
    """g = 1e-4 with ε = 1e-6: g² ≪ ε, so the book's step η·g/√(g²+ε) is about a tenth of torch's
    η·g/(|g|+ε); with g = 1 the two agree to 1e-6."""
    book_path, torch_path = one_parameter_steps(name, [1e-4], 1e-6, torch_class)
    scale = 1.0 if name == "adagrad" else math.sqrt(0.1)  # rmsprop's s is (1 − γ)g²
    assert book_path[0] == pytest.approx(-0.1 * 1e-4 / math.sqrt((scale * 1e-4) ** 2 + 1e-6), rel=1e-12)
    assert torch_path[0] == pytest.approx(-0.1 * 1e-4 / (scale * 1e-4 + 1e-6), rel=1e-12)
    assert abs(torch_path[0]) > 5 * abs(book_path[0])
    book_path, torch_path = one_parameter_steps(name, [1.0, -0.5, 2.0], 1e-6, torch_class)
    assert book_path == pytest.approx(torch_path, rel=1e-5)


@pytest.mark.parametrize(("name", "torch_class"), [("adam", torch.optim.Adam), ("adadelta", torch.optim.Adadelta)])
def test_torchs_adam_and_adadelta_are_the_books(name: str, torch_class: type) -> None:
    """Even while g² ≪ ε (where an ε moved across a root would show): the same steps to rounding."""
    grads = [1e-4, -3e-4, 2e-4, 5e-5, 1.0, -0.5]
    book_path, torch_path = one_parameter_steps(name, grads, BOOK_EPS[name], torch_class)
    assert book_path == pytest.approx(torch_path, rel=1e-12, abs=1e-15)


def test_torchs_first_momentum_buffer_is_the_books_v_from_zero() -> None:
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    trainer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    ours = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    states = book.init_states([ours], ("v",))
    for grad in [1.0, -2.0, 0.5]:
        param.grad, ours.grad = torch.tensor([grad], dtype=torch.float64), torch.tensor([grad], dtype=torch.float64)
        trainer.step()
        book.sgd_momentum([ours], states, book.Hyperparams(lr=0.1), 1)
        assert float(param.detach()) == pytest.approx(float(ours.detach()), rel=1e-15)


@pytest.mark.parametrize(
    ("optimizer", "scratch_changes"),
    [
        ("sgd", {"lr": 0.2}),
        ("momentum", {"lr": 0.2}),
        ("adam", {"eps": 0.05}),
    ],
)
def test_mselosss_twice_the_gradient_is_what_the_docs_say(optimizer: str, scratch_changes: dict[str, float]) -> None:
    """On full minibatches (20 examples, batch 10) concise's 2× gradient takes scratch's steps with twice
    the lr (sgd, momentum) or half the ε (adam: the 2 cancels but for ε). ε = 0.1, large beside √s, so
    that ε/2 against ε is measurable."""
    concise = engine_for(config_for("concise", optimizer, num_examples=20, eps=0.1))
    scratch = engine_for(config_for("scratch", optimizer, num_examples=20, **{"eps": 0.1, **scratch_changes}))
    unchanged = engine_for(config_for("scratch", optimizer, num_examples=20, eps=0.1))
    for batch_c, batch_s, batch_u in zip(batches(concise, 2), batches(scratch, 2), batches(unchanged, 2), strict=True):
        concise.run_steps([batch_c])
        scratch.run_steps([batch_s])
        unchanged.run_steps([batch_u])
    assert torch.allclose(theta_of(concise), theta_of(scratch), rtol=1e-5, atol=1e-6)
    assert (theta_of(concise) - theta_of(unchanged)).abs().max() > 1e-3


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop"])
def test_concise_adagrad_and_rmsprop_are_torchs_formula_on_scratchs_g_with_half_eps(optimizer: str) -> None:
    """2g/(√(4s) + ε) = g/(√s + ε/2): torch's formula (ε outside the root, unlike the book's) on g."""
    config = config_for("concise", optimizer, num_examples=20, eps=0.1)
    halved = replace(config, eps=0.05)
    engine = engine_for(config)
    theta, state, unchanged, kept = theta_of(engine), {}, theta_of(engine), {}
    for X, y in batches(engine, 2):
        g = squared_gradient(theta, X, y, mean_mse=False) / config.batch_size
        theta = torch_step(optimizer, theta, g, state, halved)
        unchanged = torch_step(
            optimizer, unchanged, squared_gradient(unchanged, X, y, mean_mse=False) / 10, kept, config
        )
        engine.run_steps([(X, y)])
        assert torch.allclose(theta_of(engine), theta, rtol=1e-5, atol=1e-6)
    assert (theta - unchanged).abs().max() > 1e-3  # ε/2 against ε is measurable here


def test_concise_adadelta_is_scratchs_with_a_quarter_of_eps_in_the_squared_gradient_root() -> None:
    config = config_for("concise", "adadelta", num_examples=20, eps=0.01)
    engine = engine_for(config)
    theta, state = theta_of(engine), {}
    zero = torch.zeros_like(theta)
    for X, y in batches(engine, 2):
        g = squared_gradient(theta, X, y, mean_mse=False) / config.batch_size  # scratch's g: half MSELoss's
        s = config.rho * state.get("s", zero) + (1 - config.rho) * g**2
        delta = state.get("delta", zero)
        step = torch.sqrt(delta + config.eps) / torch.sqrt(s + config.eps / 4) * g
        state.update(s=s, delta=config.rho * delta + (1 - config.rho) * step**2)
        theta = theta - step
        engine.run_steps([(X, y)])
        assert torch.allclose(theta_of(engine), theta, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("impl", "optimizer"),
    [(impl, name) for impl in ("scratch", "concise") for name in ADAPTIVE if name in ENGINE_OPTIMIZERS[impl]],
)
def test_a_rewound_chunk_takes_the_same_steps_again(impl: str, optimizer: str) -> None:
    """Adam's t, v and s (and every other state) go back with the parameters; a lr set after the
    checkpoint stays the run's lr after the rewind (torch's state_dict carries the old one)."""
    engine = engine_for(config_for(impl, optimizer, num_examples=60))
    chunks = batches(engine, 1)
    engine.run_steps(chunks[:2])
    checkpoint = engine.checkpoint()
    engine.set_lr(0.05)
    first = engine.run_steps(chunks[2:5]), engine.last_path().clone()
    engine.rewind(checkpoint)
    second = engine.run_steps(chunks[2:5]), engine.last_path().clone()
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    engine.rewind(checkpoint)  # a second rewind to the same checkpoint: it was not changed by the replay
    third = engine.run_steps(chunks[2:5]), engine.last_path().clone()
    assert torch.equal(first[1], third[1])


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_momentum_diverges_at_the_same_step_in_chunks_as_step_by_step(impl: str) -> None:
    config = config_for(impl, "momentum", num_examples=1000, lr=4.0, momentum=0.9)
    chunked = train(config)
    control = RunControl(paused=True)

    def step_on(event: TrainingEvent) -> None:
        if isinstance(event, Paused):
            control.step()

    stepped = train(config, step_on, control=control)
    assert chunked.status == stepped.status == "diverged"
    assert chunked.diverged_at == stepped.diverged_at and chunked.steps == stepped.steps > 8  # past a chunk
    assert (chunked.w, chunked.b) == (stepped.w, stepped.b)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_step_mode_explains_adams_state_after_each_step(impl: str) -> None:
    """v = (1 − β1)·g and s = (1 − β2)·g² after step 1, with g scratch's p.grad / batch_size or concise's
    net[0].weight.grad; each update is the path's move."""
    config = config_for(impl, "adam", num_examples=100)
    control = RunControl(paused=True)
    events: list[TrainingEvent] = []

    def on_event(event: TrainingEvent) -> None:
        events.append(event)
        if isinstance(event, Paused):
            control.step() if sum(isinstance(e, Paused) for e in events) <= 3 else control.stop()

    train(config, on_event, control=control)
    explained = [e for e in events if isinstance(e, StepExplained)]
    assert [len(e.state) for e in explained] == [2, 2, 2]
    first = explained[0]
    scale = 1 / config.batch_size if impl == "scratch" else 1.0
    (v_name, v_w, v_b), (s_name, s_w, s_b) = first.state
    assert (v_name, s_name) == ("v", "s")
    assert [*v_w, v_b] == pytest.approx([0.1 * scale * g for g in (*first.grad_w, first.grad_b)], rel=1e-5)
    assert [*s_w, s_b] == pytest.approx([0.001 * (scale * g) ** 2 for g in (*first.grad_w, first.grad_b)], rel=1e-5)
    losses = [e for e in events if isinstance(e, StepLosses)]
    points = [events[0].initial, *(p for e in losses for p in e.tracked)]  # type: ignore[attr-defined]
    for event, before, after in zip(explained, points[:-1], points[1:], strict=True):
        change = [a - b for a, b in zip(after, before, strict=True)]
        assert change == pytest.approx([*event.update_w, event.update_b], rel=1e-4, abs=1e-7)
    # Adam's first step moves each parameter by about lr (v̂/√ŝ = ±1): not −lr · g.
    assert [abs(x) for x in first.update_w] == pytest.approx([config.lr] * len(first.update_w), rel=1e-3)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
@pytest.mark.parametrize("optimizer", ADAPTIVE)
def test_every_optimizer_trains_with_every_loss_and_weight_decay(impl: str, optimizer: str) -> None:
    if optimizer not in ENGINE_OPTIMIZERS[impl]:
        pytest.skip(f"{impl} has no {optimizer}")
    for loss in ("squared", "huber", "absolute"):
        for wd in (0.0, 0.1):
            config = config_for(impl, optimizer, num_examples=50, epochs=2, loss=loss, wd=wd, lr=0.05)
            result = train(config)
            assert result.status == "finished", (loss, wd, result.message)
            assert all(map(math.isfinite, (*result.w, result.b)))


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_a_live_lr_change_applies_to_adam_and_not_to_adadelta(impl: str) -> None:
    for optimizer in ("adam", "adadelta"):
        config = config_for(impl, optimizer, num_examples=100)
        plain = train(config)
        changed = train(config, control=RunControl(lr_changes=[(5, 0.001)]))
        assert changed.status == "finished"
        same = (plain.w, plain.b) == (changed.w, changed.b)
        assert same == (optimizer == "adadelta"), optimizer


def test_the_explained_rule_names_the_update() -> None:
    assert "torch.optim.Adam(" in make_explained_rule("concise", "adam")
    assert "v_bias_corr" in make_explained_rule("scratch", "adam")
    assert "the last minibatch holds 5 of 10" in make_explained_rule("scratch", "rmsprop")


def make_explained_rule(impl: str, optimizer: str) -> str:
    engine = engine_for(config_for(impl, optimizer))
    return engine.explain_step(next(iter(engine.epoch_batches()))).rule


def test_the_log_writes_the_step_and_the_state_by_the_books_names() -> None:
    event = StepExplained(
        epoch=1,
        step=2,
        indices=(3, 1),
        batch_size=2,
        loss=1.5,
        lr=0.03,
        grad_w=(-4.0, 2.0),
        grad_b=1.0,
        update_w=(0.03, -0.03),
        update_b=-0.03,
        rule="",
        state=(("v", (-0.4, 0.2), 0.1), ("s", (0.016, 0.004), 0.001)),
    )
    scratch = explained_lines(event, "scratch", 10, 2, "adam")
    assert "adam(params, states, hyperparams) at lr 0.03: Δ w [0.03, -0.03] · Δ b -0.03" in scratch[-2]
    assert scratch[-1] == "  state after the step: v w [-0.4, 0.2] · b 0.1; s w [0.016, 0.004] · b 0.001"
    concise = explained_lines(event, "concise", 10, 2, "adadelta")
    assert "trainer.step() (adadelta, the update" in concise[-2]  # adadelta has no learning rate to name
