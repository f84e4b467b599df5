"""The `fast` engine: scratch's minibatch SGD (d2l 3.2) and SGD with momentum (d2l 12.6), computed by a
parallel scan instead of a loop.

For squared loss one SGD step is an affine map of the parameters θ = (w, b). With Z = [X, 1] the
minibatch's rows and B the nominal batch size (the book divides by it, also for a short last batch):

    θ ← θ − (lr/B) Zᵀ(Zθ − y) = (I − (lr/B) ZᵀZ) θ + (lr/B) Zᵀy

so K steps are a composition of K affine maps. Weight decay keeps them affine: the book adds
λ‖w‖²/2 to each of the m examples' losses of a minibatch (m = B but for a short last one), which adds
(lr/B)·m·λ·Pθ to the step, P the identity on w and 0 on b: A = I − (lr/B)(ZᵀZ + mλP).
Composition is associative, so all K prefixes (the parameters after every step) come out of a
parallel prefix scan: about 2K small matrix products done as a few batched products per level,
log₂K levels, instead of K rounds of Python and autograd. From the per-step parameters we compute
the same per-step losses and events as the other engines.

Momentum (the book's sgd_momentum, g = param.grad / B) keeps a velocity v beside θ, from v = 0:

    v ← βv + (1/B)(Gθ − Zᵀy),  θ ← θ − η v      with G = ZᵀZ + mλP

which is again affine, now in the stacked state s = [θ; v] of 2D numbers (D = d + 1):

    [θ′]   [I − (η/B)G   −ηβI] [θ]   [ (η/B)Zᵀy]
    [v′] = [    (1/B)G     βI] [v] + [−(1/B)Zᵀy]

so the same scan runs on maps twice the size, [A | c] of 2D×(2D+1): each composition costs about 8×
sgd's (a (2D)³ product instead of a D³ one) and its maps take about 4× the memory (run/fast_memory.py).
Plain sgd keeps its own D×(D+1) maps.

Everything random is drawn exactly as `scratch` draws it (init, then one permutation per epoch), so
for the same seed this engine takes scratch's steps; it keeps them in float64, which is why it agrees
with scratch's float32 loop to rounding. What is finite is judged in scratch's float32 arithmetic (the
losses, and the parameters as float32), so that near the stability limit a run stops at scratch's step.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from linreg_tui.run import fast_memory
from linreg_tui.run.config import RunConfig
from linreg_tui.training.data import Dataset, initial_weights
from linreg_tui.training.engines.base import Batch, Engine, Params, StepExplanation, tracked_count
from linreg_tui.training.engines.scratch import linreg, loss_words, scratch_rule, squared_loss

MOMENTUM_RULE = (
    "momentum (d2l 12.6's sgd_momentum): v[:] = momentum * v + param.grad / batch_size; param[:] -= lr * v, "
    "with param.grad the gradient of l.sum() (the minibatch's summed ½(ŷ−y)²); the update shown is −lr · v"
)


def compose(second: torch.Tensor, first: torch.Tensor) -> torch.Tensor:
    """`second ∘ first` for stacks of affine maps stored as [A | c] of shape (..., D, D+1)."""
    out = torch.matmul(second[..., :-1], first)  # [A₂A₁ | A₂c₁]
    out[..., -1] += second[..., -1]  # + c₂
    return out


def prefix_scan(maps: torch.Tensor) -> torch.Tensor:
    """out[k] = maps[k] ∘ … ∘ maps[0] for all k: a work-efficient parallel scan (≈2K compositions).

    Compose neighbours pairwise, scan the half-length sequence of pairs recursively (that gives the
    odd prefixes), then each even prefix is its own map after the previous pair's prefix.
    """
    count = maps.shape[0]
    if count == 1:
        return maps
    pairs = prefix_scan(compose(maps[1::2], maps[0 : count - 1 : 2]))  # pairs[j] = prefix 2j+1
    out = torch.empty_like(maps)
    out[0] = maps[0]
    out[1::2] = pairs
    out[2::2] = compose(maps[2::2], pairs[: (count - 1) // 2])
    return out


@dataclass(frozen=True)
class Float64Params(Params):
    """The fast engine's float64 θ, judged finite as scratch's float32 parameters would be: a value
    beyond float32's range is finite here but inf in scratch, whose run has stopped. With momentum the
    velocity is judged too: where scratch's float32 v overflows, its parameters become inf at that step."""

    velocity: torch.Tensor | None = None

    def all_finite(self) -> torch.Tensor:
        finite = torch.isfinite(self.w.to(torch.float32)).all() & torch.isfinite(self.b.to(torch.float32)).all()
        if self.velocity is not None:
            finite = finite & torch.isfinite(self.velocity.to(torch.float32)).all()
        return finite


class FastEngine(Engine):
    name = "fast"
    loss_formula = (
        "fast: scratch's SGD (d2l 3.2: ½(ŷ−y)², gradient divided by the batch size) or momentum computed exactly "
        "by a parallel scan of the per-step affine maps in float64; losses shown are means of ½(ŷ−y)²"
    )
    # Large chunks are what make the scan pay: each level of it costs a few operations whatever the
    # chunk's length. The training loop still shrinks chunks that take too long (cancellation, events).
    max_chunk = 1 << 16

    def __init__(self, data: Dataset, config: RunConfig, generator: torch.Generator) -> None:
        super().__init__(data, config, generator)
        if config.optimizer not in ("sgd", "momentum"):
            raise ValueError(f"optimizer {config.optimizer} is not available with impl fast; allowed: sgd, momentum")
        d = config.num_features
        self.device = data.features.device
        # Drawn like scratch's w (on the CPU, from the run's generator), then b = 0. θ is the one live
        # tensor; w and b are views of it, so snapshot/restore and the loop see the scan's float64 state.
        self.theta = torch.zeros(d + 1, dtype=torch.float64, device=self.device)
        self.theta[:d] = initial_weights(d, generator, config.init_std).reshape(-1).to(self.device, torch.float64)
        # Momentum's velocity v (the book's init_momentum_states: zeros), float64 like θ; None for sgd.
        self.velocity: torch.Tensor | None = None
        if config.optimizer == "momentum":
            self.velocity = torch.zeros(d + 1, dtype=torch.float64, device=self.device)
        self.order = torch.empty(0, dtype=torch.int64, device=self.device)  # this epoch's permutation
        self.scan = d <= fast_memory.SCAN_MAX_FEATURES
        # linreg_tui/run/fast_memory.py models what _pass holds; passes of this many steps hold PASS_BYTES.
        self.pass_steps = fast_memory.pass_steps(d, config.batch_size, config.optimizer)
        # θ's entries the path follows: w1..w_k and b (all of θ when d ≤ k).
        self.tracked_index = torch.tensor([*range(tracked_count(d)), d], device=self.device)

    def describe_loss(self) -> str:
        words = self.loss_formula + loss_words(self.config)
        if self.velocity is not None:
            words += (
                f"; optimizer momentum (d2l 12.6): v ← {self.config.momentum:g}·v + g, p ← p − lr·v, v from 0, "
                "scanned as affine maps of the stacked (w, b, v): twice the size, about 8× the work of sgd's"
            )
        return words

    def epoch_batches(self) -> Iterator[Batch]:
        """Where each minibatch starts in this epoch's permutation: plain ints, because the loop makes
        10⁵ of them an epoch at n = 1M (tuples or tensors would cost about a microsecond each).

        One randperm per epoch from the run's generator, moved to the device once, as scratch does.
        """
        n = self.data.num_examples
        self.order = torch.randperm(n, generator=self.generator).to(self.device)
        return iter(range(0, n, self.config.batch_size))

    def run_steps(self, batches: Sequence[Batch], lrs: Sequence[float] | None = None) -> torch.Tensor:
        size, n = self.config.batch_size, self.data.num_examples
        first, last = batches[0], batches[-1]
        # The loop hands over consecutive minibatches of the current epoch; the scan relies on that.
        if last != first + (len(batches) - 1) * size:
            raise ValueError("the fast engine takes consecutive minibatches of one epoch")
        stop = min(last + size, n)
        losses = []
        # The path for free: θ after each step is θ before the next one (the scan has them), then θ
        # now. Kept across the chunk's passes, filled in place: (k + 1) float64 per step of the chunk.
        self._path = torch.empty(len(batches), len(self.tracked_index), dtype=torch.float64, device=self.device)
        done = 0
        for begin in range(first, stop, self.pass_steps * size):  # passes bound the memory
            rows = self.order[begin : min(begin + self.pass_steps * size, stop)]
            count = -(-len(rows) // size)
            pass_lrs = None if lrs is None else lrs[done : done + count]
            pass_losses, before = self._pass(rows, pass_lrs)  # taken after the pass freed its buffers (its peak)
            losses.append(pass_losses)
            steps = len(pass_losses)
            self._path[done : done + steps - 1] = before[1:, self.tracked_index]
            self._path[done + steps - 1] = self.theta[self.tracked_index]
            del before  # not held through the next pass
            done += steps
        return torch.cat(losses)

    def explain_step(self, batch: Batch, lr: float | None = None) -> StepExplanation:
        """scratch's numbers, from Z = [X, 1]: the summed ½r²'s gradient Zᵀ(Zθ − y), divided by B."""
        d, size = self.config.num_features, self.config.batch_size
        rows = self.order[batch : batch + size]
        Z = torch.cat(
            [self.data.features.index_select(0, rows).double(), torch.ones(len(rows), 1, device=self.device)], dim=1
        )
        y = self.data.labels.index_select(0, rows)[:, 0].double()
        grad = Z.T @ (Z @ self.theta - y)
        grad[:d] += len(rows) * self.config.wd * self.theta[:d]  # the penalty, once per example
        penalty = " + m · lambd · w for w, m the minibatch's size" if self.config.wd else ""
        computed = f" (computed from Z = [X, 1]: param.grad = Zᵀ(Zθ − y){penalty})"
        lr = self.lr if lr is None else lr
        loss = self.run_steps([batch], [lr])
        if self.velocity is None:
            scale = -lr / size
            return StepExplanation(
                loss=loss,
                indices=rows,
                grad=Params(grad[:d], grad[d:]),
                update=Params(scale * grad[:d], scale * grad[d:]),
                rule=scratch_rule(self.config) + computed,
            )
        v = self.velocity.clone()  # after the step: the step taken was −lr · v
        return StepExplanation(
            loss=loss,
            indices=rows,
            grad=Params(grad[:d], grad[d:]),
            update=Params(-lr * v[:d], -lr * v[d:]),
            rule=MOMENTUM_RULE.replace("momentum *", f"{self.config.momentum:g} *") + computed,
            state=(("v", Params(v[:d], v[d:])),),
        )

    def optimizer_state(self) -> object:
        """Momentum's v, copied (None for sgd): a rewind replays the same steps."""
        return None if self.velocity is None else self.velocity.clone()

    def load_optimizer_state(self, state: object) -> None:
        if self.velocity is not None and isinstance(state, torch.Tensor):
            self.velocity.copy_(state)

    def _pass(self, rows: torch.Tensor, lrs: Sequence[float] | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Take the steps over `rows` (consecutive minibatches), step i with learning rate lrs[i] (None:
        self.lr throughout); return their losses as float32 and θ before each step.

        What it allocates is modelled in linreg_tui/run/fast_memory.py (and measured by tests/test_fast.py):
        a buffer added here belongs there too."""
        size, d = self.config.batch_size, self.config.num_features
        count = len(rows)
        steps = -(-count // size)
        # Zy = [X, 1, y] per minibatch, float64. A short last minibatch is padded with zero rows, which
        # add nothing to ZᵀZ, Zᵀy or the loss; the division stays by the nominal batch size.
        Zy = torch.empty(steps * size, d + 2, dtype=torch.float64, device=self.device)
        Zy[:count, :d] = self.data.features.index_select(0, rows)
        Zy[:count, d] = 1.0
        Zy[:count, d + 1] = self.data.labels.index_select(0, rows)[:, 0]
        Zy[count:] = 0.0
        Zy = Zy.view(steps, size, d + 2)
        # The last step's examples (short when the epoch ends in a short minibatch): the weight-decay term
        # counts the penalty once per example.
        last_size = count % size or size
        rates = [self.lr] * steps if lrs is None else list(lrs)
        if self.velocity is not None:
            step = self._scan_momentum if self.scan else self._one_by_one_momentum
            before = step(Zy, last_size, rates)
        else:
            before = self._scan(Zy, last_size, rates) if self.scan else self._one_by_one(Zy, last_size, rates)
        # The loss of each step at the parameters before its update: ½‖[Z, y]·[θ; −1]‖² per example.
        minus_one = torch.full((steps, 1), -1.0, dtype=torch.float64, device=self.device)
        residuals = torch.matmul(Zy, torch.cat([before, minus_one], dim=1).unsqueeze(-1))
        # The loss in scratch's float32 arithmetic: each residual squared, halved, and summed over the
        # minibatch in float32. So it overflows where scratch's does (r² beyond float32's range, not
        # ½r²), and the training loop stops at scratch's step.
        half_squares = residuals.to(torch.float32).square_().mul_(0.5)
        sums = half_squares.sum(dim=(1, 2))
        losses = sums / size
        if count % size:
            losses[-1:] = sums[-1:] / (count % size)
        return losses, before

    def _scan(self, Zy: torch.Tensor, last_size: int, lrs: list[float]) -> torch.Tensor:
        """All steps of the pass at once; updates θ and returns each step's parameters before it."""
        size, wd = self.config.batch_size, self.config.wd
        d = self.config.num_features
        D = d + 1
        # Each step's map [A | c] = [I − (lr/B) ZᵀZ | (lr/B) Zᵀy], from one batched product Zᵀ[Z, y].
        maps = torch.matmul(Zy[..., :D].transpose(1, 2), Zy)
        if len(set(lrs)) == 1:  # a constant rate: one scalar, as before schedules
            lr: float | torch.Tensor = lrs[0]
            maps.mul_(-lrs[0] / size)
        else:
            lr = torch.tensor(lrs, dtype=torch.float64, device=self.device).view(-1, 1)
            maps.mul_(lr.unsqueeze(-1) * (-1 / size))
        maps[..., D].neg_()
        maps.diagonal(dim1=1, dim2=2).add_(1.0)
        if wd:  # − (lr/B)·m·λ on w's diagonal (m = B but in a short last step): the penalty's, not on b
            diagonal = maps.diagonal(dim1=1, dim2=2)
            rate = lr if isinstance(lr, float) else lr[:-1]
            last_rate = lr if isinstance(lr, float) else lr[-1]
            diagonal[:-1, :d].sub_(rate * wd)
            diagonal[-1, :d].sub_(last_rate * wd * last_size / size)
        prefixes = prefix_scan(maps)
        theta0 = self.theta.clone()
        after = torch.matmul(prefixes[..., :D], theta0) + prefixes[..., D]  # θ after each step
        self.theta.copy_(after[-1])
        return torch.cat([theta0.unsqueeze(0), after[:-1]])

    def _summed_gradient(self, batch: torch.Tensor, examples: int) -> torch.Tensor:
        """Zᵀ(Zθ − y) of one minibatch [Z, y], with weight decay's λ·w once per example (`examples` of them)."""
        d = self.config.num_features
        grad = torch.matmul(batch[:, : d + 1].T, torch.matmul(batch[:, : d + 1], self.theta) - batch[:, d + 1])
        if self.config.wd:
            grad[:d] += examples * self.config.wd * self.theta[:d]
        return grad

    def _one_by_one(self, Zy: torch.Tensor, last_size: int, lrs: list[float]) -> torch.Tensor:
        """Many features: one step at a time, since a D×D map per step would cost more than it saves."""
        size = self.config.batch_size
        before = torch.empty(Zy.shape[0], self.config.num_features + 1, dtype=torch.float64, device=self.device)
        for step, batch in enumerate(Zy):
            before[step] = self.theta
            grad = self._summed_gradient(batch, last_size if step == len(Zy) - 1 else size)
            self.theta -= (lrs[step] / size) * grad
        return before

    def _scan_momentum(self, Zy: torch.Tensor, last_size: int, lrs: list[float]) -> torch.Tensor:
        """Momentum's steps at once: the scan of the maps of s = [θ; v] (the module's docstring); updates
        θ and v and returns each step's θ before it."""
        size, wd, beta = self.config.batch_size, self.config.wd, self.config.momentum
        d = self.config.num_features
        D = d + 1
        steps = Zy.shape[0]
        # v's rows: [(1/B)G | βI | −(1/B)Zᵀy], (1/B)[ZᵀZ | Zᵀy] from one batched product, as for sgd.
        normal = torch.matmul(Zy[..., :D].transpose(1, 2), Zy).div_(size)
        if wd:  # (1/B)·m·λ on w's diagonal (m = B but in a short last step)
            diagonal = normal.diagonal(dim1=1, dim2=2)
            diagonal[:-1, :d].add_(wd)
            diagonal[-1, :d].add_(wd * last_size / size)
        maps = torch.zeros(steps, 2 * D, 2 * D + 1, dtype=torch.float64, device=self.device)
        velocity_rows = maps[:, D:]
        velocity_rows[..., :D] = normal[..., :D]
        velocity_rows[..., 2 * D] = normal[..., D]
        velocity_rows[..., 2 * D].neg_()
        del normal
        velocity_rows[..., D : 2 * D].diagonal(dim1=1, dim2=2).fill_(beta)
        # θ's rows: θ′ = θ − η v′, i.e. I on θ minus η times v's rows.
        theta_rows = maps[:, :D].copy_(velocity_rows)  # in place: no temporary the size of the maps
        if len(set(lrs)) == 1:
            theta_rows.mul_(-lrs[0])
        else:
            theta_rows.mul_(torch.tensor(lrs, dtype=torch.float64, device=self.device).view(-1, 1, 1).neg_())
        maps[:, :D, :D].diagonal(dim1=1, dim2=2).add_(1.0)
        prefixes = prefix_scan(maps)
        del maps
        assert self.velocity is not None
        state0 = torch.cat([self.theta, self.velocity])
        after = torch.matmul(prefixes[..., : 2 * D], state0) + prefixes[..., 2 * D]  # [θ; v] after each step
        self.theta.copy_(after[-1, :D])
        self.velocity.copy_(after[-1, D:])
        return torch.cat([state0[:D].unsqueeze(0), after[:-1, :D]])

    def _one_by_one_momentum(self, Zy: torch.Tensor, last_size: int, lrs: list[float]) -> torch.Tensor:
        """Momentum with many features, a step at a time: v ← βv + grad/B; θ ← θ − η v."""
        size, beta = self.config.batch_size, self.config.momentum
        assert self.velocity is not None
        before = torch.empty(Zy.shape[0], self.config.num_features + 1, dtype=torch.float64, device=self.device)
        for step, batch in enumerate(Zy):
            before[step] = self.theta
            grad = self._summed_gradient(batch, last_size if step == len(Zy) - 1 else size)
            self.velocity.mul_(beta).add_(grad, alpha=1 / size)
            self.theta.sub_(lrs[step] * self.velocity)
        return before

    def loss_on(self, data: Dataset) -> torch.Tensor:
        """As scratch computes it: float32, mean of ½(ŷ−y)² over the data."""
        d = self.config.num_features
        w, b = self.theta[:d].to(torch.float32).view(d, 1), self.theta[d:].to(torch.float32)
        return squared_loss(linreg(data.features, w, b), data.labels).mean()

    def parameters(self) -> Params:
        d = self.config.num_features
        return Float64Params(self.theta[:d], self.theta[d:], self.velocity)
