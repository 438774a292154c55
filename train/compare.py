"""The seed paper's Figure 5: validation accuracy against epochs for each optimizer.

``compare_optimizers`` trains one run per optimizer; ``plot_runs`` draws the curves of runs
trained apart (a run's ``history.csv``) and says, per run, its best val accuracy and the epochs
it took to reach 90% of it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from edge.fsio import write_atomic
from train.evaluate import save_figure
from train.fit import OPTIMIZERS, FitConfig, fit, read_history, read_state


def compare_optimizers(
    make_config: Callable[[str, Path], FitConfig], out: Path, resume: bool = False
) -> tuple[Path, Path]:
    """Train one run per optimizer under ``out/<optimizer>`` and write ``out/optimizers.{csv,png}``.

    With ``resume``, finished runs are kept and unfinished ones continue from their last epoch.
    """
    out = Path(out)
    curves: dict[str, list[dict[str, float]]] = {}
    for name in OPTIMIZERS:
        run_dir = out / name
        cfg = make_config(name, run_dir)
        fit(cfg, resume=resume and bool(read_state(run_dir)))
        curves[name] = read_history(run_dir / "history.csv")
    return _write_csv(curves, out / "optimizers.csv"), _plot(curves, out / "optimizers.png")


def sweep_lr(
    make_config: Callable[[float, Path], FitConfig],
    lrs: list[float],
    out: Path,
    resume: bool = False,
) -> dict:
    """One run per peak learning rate under ``out/lr-<lr>``; ``out/sweep.csv``; the best one.

    Returns ``{"best_lr", "best_val_accuracy", "runs": [{lr, best_val_accuracy, epochs}]}``; a
    tie goes to the first learning rate listed.
    """
    out = Path(out)
    runs = []
    for lr in lrs:
        run_dir = out / f"lr-{lr:g}"
        state = fit(
            make_config(lr, run_dir), resume=resume and bool(read_state(run_dir)), verbose=2
        )
        best_val, epochs = state["best_val_accuracy"], state["epochs_done"]
        runs.append({"lr": lr, "best_val_accuracy": best_val, "epochs": epochs})
    best = max(runs, key=lambda r: r["best_val_accuracy"])  # max keeps the first of equals
    header = ["lr", "best_val_accuracy", "epochs"]
    _write_rows(out / "sweep.csv", header, [[r[k] for k in header] for r in runs])
    return {"best_lr": best["lr"], "best_val_accuracy": best["best_val_accuracy"], "runs": runs}


REACHED = 0.9  # "epochs to reach" = the first epoch at this fraction of the run's best val accuracy


def summary(history: list[dict[str, float]]) -> dict:
    """One run's curve in three numbers: best val accuracy, the epoch (1-based) it came at,
    and the first epoch at ``REACHED`` x that best.

    Raises:
        ValueError: the history has no epoch.
    """
    if not history:
        raise ValueError("history.csv has no finished epoch")
    val = [r["val_accuracy"] for r in history]
    best = max(val)
    return {
        "epochs": len(val),
        "best_val_accuracy": round(best, 4),
        "best_epoch": val.index(best) + 1,
        "epochs_to_90pct": next(i + 1 for i, v in enumerate(val) if v >= REACHED * best),
    }


def plot_runs(runs: dict[str, Path], out: Path, title: str = "") -> dict:
    """The curves of runs trained apart (``{name: run folder}``) in ``out`` (PNG) and beside it
    the same as CSV; returns ``{name: summary}``.

    Raises:
        FileNotFoundError: naming a run folder without ``history.csv``.
    """
    curves = {}
    for name, run_dir in runs.items():
        path = Path(run_dir) / "history.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{name}={run_dir}: no history.csv (not a training run)")
        curves[name] = read_history(path)
    result = {name: summary(rows) for name, rows in curves.items()}
    _write_csv(curves, Path(out).with_suffix(".csv"))
    _plot(curves, Path(out), title)
    return result


def _write_csv(curves: dict[str, list[dict[str, float]]], path: Path) -> Path:
    header = ["optimizer", "epoch", "accuracy", "val_accuracy", "loss", "val_loss"]
    rows = [
        [name, int(r["epoch"]) + 1, r["accuracy"], r["val_accuracy"], r["loss"], r["val_loss"]]
        for name, history in curves.items()
        for r in history
    ]
    return _write_rows(path, header, rows)


def _write_rows(path: Path, header: list[str], rows: list[list]) -> Path:
    """A CSV written whole or not at all (``edge.fsio.write_atomic``)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return write_atomic(path, text.getvalue())


def _plot(curves: dict[str, list[dict[str, float]]], path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, rows in curves.items():
        epochs = [int(r["epoch"]) + 1 for r in rows]
        (line,) = ax.plot(
            epochs, [r["val_accuracy"] for r in rows], marker="o", label=f"{name} (val)"
        )
        train_accuracy = [r["accuracy"] for r in rows]
        ax.plot(epochs, train_accuracy, ":", color=line.get_color(), label=f"{name} (train)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(title or "Optimizer study on FER-2013 (val = PublicTest)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
