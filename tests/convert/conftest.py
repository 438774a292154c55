"""Tiny models and a synthetic FER-shaped folder, built once per test session (seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.synthetic import synthetic_faces, write_folder

TINY_STAGES = ((4,), (8,))


@pytest.fixture(scope="session")
def fer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fer")
    write_folder(root / "train", *synthetic_faces(6, seed=0, full_range=True))
    write_folder(root / "val", *synthetic_faces(4, seed=1, full_range=True))
    return root


@pytest.fixture(scope="session")
def tiny_keras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``build_edge`` with two small stages, trained on synthetic faces until it knows them.

    30 epochs of 2 steps: every val face right, the top score ahead of the next by > 0.7, so
    int8 rounding cannot flip a face and the parity gate runs at its default limit.
    """
    import keras

    from train.models import build_edge

    keras.utils.set_random_seed(0)
    model = build_edge(stages=TINY_STAGES, dropout=0.1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    images, labels = synthetic_faces(8, seed=2, full_range=True)
    model.fit(images[..., None].astype("float32"), labels, epochs=30, batch_size=28, verbose=0)
    path = tmp_path_factory.mktemp("keras") / "tiny.keras"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory, tiny_keras: Path, fer_dir: Path) -> Path:
    """The output folder of one full ``python -m convert`` run (no compiler on PATH)."""
    import contextlib
    import io
    import os

    from convert.cli import main

    out = tmp_path_factory.mktemp("models")
    stdout = io.StringIO()
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = str(out)  # no edgetpu_compiler here, whatever the machine has
    try:
        with contextlib.redirect_stdout(stdout):
            code = main(
                [
                    str(tiny_keras),
                    "--data",
                    str(fer_dir),
                    "--out",
                    str(out),
                    "--calibration-size",
                    "21",
                ]
            )
    finally:
        os.environ["PATH"] = old_path
    (out / "stdout.txt").write_text(stdout.getvalue())
    assert code == 0, stdout.getvalue()
    return out
