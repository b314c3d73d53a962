"""Training one model: mini-batch gradient descent, learning-rate decay, metrics, divergence."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpsearch.trainer.model import MLP, Architecture
from hpsearch.trainer.optimizers import decayed_learning_rate, make_optimizer
from hpsearch.trainer.registry import METRICS, REGISTRY, defaults, resolved

if TYPE_CHECKING:
    from hpsearch.data import Dataset

# A training loss this many times its starting value means the run has blown up.
DIVERGENCE_FACTOR = 10.0

Report = Callable[..., Any]  # report(epoch, **metrics), called after every epoch


@dataclass
class TrainResult:
    """What one trial produced. ``status``: ok | diverged | timeout | interrupted."""

    status: str
    metrics: dict[str, float]
    curves: dict[str, list[float]]
    epochs: int
    seconds: float
    reason: str | None = None
    parameters: int = 0  # learnable numbers: every weight, bias, γ and β


def resolve_hyperparams(params: Mapping[str, Any]) -> dict[str, Any]:
    """Registry defaults overridden by ``params``. Unknown names are a programming error."""
    unknown = sorted(set(params) - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(REGISTRY)}")
    return resolved({**defaults(), **params})


def train(
    params: Mapping[str, Any],
    data: Dataset,
    seed: int,
    *,
    report: Report | None = None,
    best_by: str = "val_accuracy",
    interruptible: bool = False,
    timeout: float | None = None,
    budget: int | None = None,
    checkpoint_dir: str | None = None,
) -> TrainResult:
    """Train one network with ``params`` (missing ones take their defaults) on ``data``.

    Every random draw (initialisation, shuffling) comes from ``seed``. Never raises for a run
    that blows up: a non-finite loss, or an epoch's loss over 10× the first mini-batch's, ends
    the run with status ``diverged``. With ``interruptible``, Ctrl-C ends it with status
    ``interrupted`` and what was learned so far. After ``timeout`` seconds the run stops
    with status ``timeout`` (checked between mini-batches).

    Early stopping: ``budget`` is the epoch to train to (at most ``epochs``). With a
    ``checkpoint_dir``, the run continues from the checkpoint there, and leaves one at the
    budget (unless that is the last epoch): continued, it gives exactly the curve of a run
    trained in one go.
    """
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    hp = resolve_hyperparams(params)
    rng = np.random.default_rng(seed)
    dtype = np.dtype(hp["dtype"])
    x_train = np.ascontiguousarray(data.x_train, dtype=dtype)
    y_train = np.asarray(data.y_train, dtype=np.intp)
    x_val = np.ascontiguousarray(data.x_val, dtype=dtype)
    y_val = np.asarray(data.y_val, dtype=np.intp)

    arch = Architecture(
        inputs=x_train.shape[1],
        classes=data.classes,
        layers=hp["layers"],
        hidden_units=hp["hidden_units"],
        widths=tuple(
            hp.get(f"hidden_units_{k}", hp["hidden_units"]) for k in range(1, hp["layers"] + 1)
        ),
        activation=hp["activation"],
        batch_norm=hp["batch_norm"],
        bn_momentum=hp["bn_momentum"],
        bn_epsilon=hp["bn_epsilon"],
    )
    model = MLP(arch, rng, dtype)
    optimizer = make_optimizer(hp["optimizer"], model.params.size, dtype, hp)
    batch_size, l2 = int(hp["batch_size"]), float(hp["l2"])
    better = max if METRICS[best_by] == "maximize" else min

    curves: dict[str, list[float]] = {
        k: [] for k in ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
    }
    status, reason = "ok", None
    epochs_run = 0
    full = int(hp["epochs"])
    target = full if budget is None else min(int(budget), full)
    made_for = ""  # what a checkpoint must have been made for
    if checkpoint_dir is not None:
        from hpsearch.trainer import checkpoint

        made_for = checkpoint.key_of(hp, seed, (x_train, y_train, x_val, y_val))
        restored = checkpoint.load(checkpoint_dir, made_for, model, optimizer, rng, target)
        if restored is not None:
            curves, epochs_run = restored
    with np.errstate(all="ignore"):  # overflow in a blown-up run is reported, not warned
        try:
            for epoch in range(epochs_run, target):
                lr = decayed_learning_rate(float(hp["learning_rate"]), float(hp["lr_decay"]), epoch)
                total, correct, seen, bad = run_epoch(
                    model, optimizer, x_train, y_train, batch_size, lr, l2, rng, deadline
                )
                if bad == "timeout":
                    status = "timeout"
                    reason = f"took longer than {timeout:g} s (stopped in epoch {epoch + 1})"
                    break
                if bad is not None:
                    status, reason = "diverged", f"loss became {bad} in epoch {epoch + 1}"
                    break
                epochs_run = epoch + 1
                train_loss = total / max(seen, 1)
                val_loss, val_accuracy = model.evaluate(x_val, y_val)
                for key, value in (
                    ("epoch", epoch + 1),
                    ("lr", lr),
                    ("train_loss", train_loss),
                    ("train_accuracy", correct / max(seen, 1)),
                    ("val_loss", val_loss),
                    ("val_accuracy", val_accuracy),
                ):
                    curves[key].append(value)
                if report is not None:
                    report(epoch + 1, **{k: v[-1] for k, v in curves.items() if k != "epoch"})
                if not math.isfinite(val_loss) or not math.isfinite(train_loss):
                    status, reason = "diverged", f"loss became nan in epoch {epoch + 1}"
                    break
                start_loss = model.first_loss or 0.0
                if train_loss > DIVERGENCE_FACTOR * max(start_loss, 0.1):
                    status = "diverged"
                    reason = (
                        f"training loss {train_loss:.3g} in epoch {epoch + 1} is over "
                        f"{DIVERGENCE_FACTOR:g}x its starting value {start_loss:.3g}"
                    )
                    break
        except KeyboardInterrupt:
            if not interruptible:
                raise
            status, reason = "interrupted", f"stopped by the user after {epochs_run} epochs"

    if checkpoint_dir is not None and status == "ok" and epochs_run < full:
        from hpsearch.trainer import checkpoint

        checkpoint.save(checkpoint_dir, made_for, model, optimizer, rng, curves, epochs_run)
    metrics = _final_metrics(model, status, curves, x_train, y_train, x_val, y_val, better, best_by)
    return TrainResult(
        status=status,
        metrics=metrics,
        curves=curves,
        epochs=epochs_run,
        seconds=time.perf_counter() - started,
        reason=reason,
        parameters=int(model.params.size),
    )


def run_epoch(
    model: MLP,
    optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    lr: float,
    l2: float,
    rng: np.random.Generator,
    deadline: float | None = None,
) -> tuple[float, int, int, float | str | None]:
    """One pass over (x, y), reshuffled, in mini-batches.

    Returns (summed loss, correct predictions, examples seen, what stopped the pass early:
    the non-finite loss, ``"timeout"`` once ``deadline`` (a ``perf_counter`` time) has passed,
    or None). A final batch of one is skipped when BatchNorm is on: its variance is 0.
    """
    order = rng.permutation(len(x))
    skip_single = model.arch.batch_norm and model.arch.layers > 0
    total, correct, seen = 0.0, 0, 0
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        if skip_single and len(batch) == 1:
            continue
        if deadline is not None and time.perf_counter() > deadline:
            return total, correct, seen, "timeout"
        xb, yb = x[batch], y[batch]
        loss, right = model.loss_and_grads(xb, yb, l2)
        if not math.isfinite(loss):
            return total, correct, seen, loss
        if model.first_loss is None:
            model.first_loss = loss
        optimizer.step(model.params, model.grads, lr)
        total += loss * len(xb)
        correct += right
        seen += len(xb)
    return total, correct, seen, None


def _final_metrics(model, status, curves, x_train, y_train, x_val, y_val, better, best_by):
    metrics: dict[str, float] = {}
    if status in ("ok", "interrupted") and curves["epoch"]:
        with np.errstate(all="ignore"):
            metrics["train_loss"], metrics["train_accuracy"] = model.evaluate(x_train, y_train)
            metrics["val_loss"], metrics["val_accuracy"] = model.evaluate(x_val, y_val)
    elif curves["epoch"]:
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            metrics[key] = curves[key][-1]
    finite = (
        [i for i, v in enumerate(curves[best_by]) if math.isfinite(v)] if best_by in curves else []
    )
    if finite:
        best = better(finite, key=lambda i: curves[best_by][i])
        metrics["best_epoch"] = curves["epoch"][best]
        metrics["best_val_accuracy"] = curves["val_accuracy"][best]
        metrics["best_val_loss"] = curves["val_loss"][best]
    return {k: float(v) for k, v in metrics.items() if math.isfinite(v)}
