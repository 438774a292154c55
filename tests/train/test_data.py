from pathlib import Path

import numpy as np
import pytest

from edge.labels import EMOTIONS
from tests.synthetic import synthetic_faces
from train.cli import main
from train.data import DataError, load_split

from .conftest import make_dataset


def write_csv(path: Path, rows: list[tuple[int, str, str]]) -> Path:
    lines = ["emotion,pixels,Usage"] + [f"{e},{p},{u}" for e, p, u in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def csv_rows(usage: str, per_class: int = 2) -> list[tuple[int, str, str]]:
    images, labels = synthetic_faces(per_class, seed=3)
    return [
        (int(y), " ".join(map(str, x.ravel())), usage) for x, y in zip(images, labels, strict=True)
    ]


def test_folder_loader_reads_every_class_in_fer_order(tmp_path):
    root = make_dataset(tmp_path, train_per_class=3, val_per_class=2)
    split = load_split(root, "val")
    assert split.images.shape == (14, 48, 48) and split.images.dtype == np.uint8
    assert split.class_counts().tolist() == [2] * 7
    # class k was written with brightness 25 + 32k: labels must follow EMOTIONS order
    means = [split.images[split.labels == k].mean() for k in range(7)]
    assert means == sorted(means)


def test_csv_loader_selects_usage_and_matches_folder_layout(tmp_path):
    path = write_csv(tmp_path / "fer2013.csv", csv_rows("Training") + csv_rows("PublicTest", 1))
    train, val = load_split(path, "train"), load_split(path, "val")
    assert len(train) == 14 and len(val) == 7
    images, labels = synthetic_faces(2, seed=3)
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.labels, labels)


def test_csv_row_with_wrong_pixel_count_names_file_and_row(tmp_path):
    rows = csv_rows("Training")
    rows[3] = (rows[3][0], "1 2 3", "Training")
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError, match=r"bad\.csv:5: expected 2304 pixels, found 3"):
        load_split(path, "train")


def test_csv_label_out_of_range(tmp_path):
    rows = csv_rows("Training")
    rows[0] = (9, rows[0][1], "Training")
    with pytest.raises(DataError, match=r":2: emotion 9 is outside 0..6"):
        load_split(write_csv(tmp_path / "f.csv", rows), "train")


def test_missing_folder_and_empty_class_and_non_image(tmp_path):
    with pytest.raises(DataError, match="no such data folder"):
        load_split(tmp_path / "nope", "train")
    root = make_dataset(tmp_path / "a", train_per_class=2, val_per_class=1)
    for f in (root / "train" / "disgust").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"train/disgust: class 'disgust' has no images"):
        load_split(root, "train")
    (root / "val" / "happy" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"val/happy/notes\.txt: not an image file"):
        load_split(root, "val")
    (root / "val" / "happy" / "notes.txt").unlink()
    (root / "val" / "happy" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"broken\.jpg: cannot decode image"):
        load_split(root, "val")


def test_cli_reports_bad_data_in_one_line(tmp_path, capsys):
    code = main(["evaluate", "--model", str(tmp_path / "m.keras"), "--data", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("train: error:")


def test_labels_file_shipped_matches_code():
    shipped = Path(__file__).resolve().parents[2] / "models" / "emotion.labels.txt"
    if not shipped.exists():
        pytest.skip("models/emotion.labels.txt not generated yet")
    assert tuple(shipped.read_text().split()) == EMOTIONS


FER = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "fer2013"


def test_paper_protocol_is_stratified_disjoint_and_fixed(tmp_path):
    import cv2

    from train.data import paper_protocol

    root = make_dataset(tmp_path, train_per_class=12, val_per_class=4)
    # An exact duplicate of a training image in val: it may land in only one of the two splits.
    dup = next((root / "train" / "happy").iterdir())
    cv2.imwrite(str(root / "val" / "happy" / "dup.png"), cv2.imread(str(dup)))
    sizes = {"paper-train": 56, "paper-test": 28}
    first = paper_protocol(root, seed=0, sizes=sizes)
    assert {k: len(v) for k, v in first.items()} == sizes
    assert first["paper-train"].class_counts().tolist() == [8] * 7  # 16 per class, in proportion
    assert first["paper-test"].class_counts().tolist() == [4] * 7
    keys = {k: {x.tobytes() for x in v.images} for k, v in first.items()}
    assert len(keys["paper-train"]) == 56 and not keys["paper-train"] & keys["paper-test"]
    again, other = paper_protocol(root, seed=0, sizes=sizes), paper_protocol(root, 1, sizes)
    assert np.array_equal(again["paper-test"].images, first["paper-test"].images)
    assert not np.array_equal(other["paper-test"].images, first["paper-test"].images)
    with pytest.raises(DataError, match="fewer than"):
        paper_protocol(root, sizes={"paper-train": 100, "paper-test": 20})


@pytest.mark.skipif(not FER.is_dir(), reason="needs ../shared/datasets/fer2013")
def test_paper_protocol_on_fer2013_has_the_papers_sizes():
    train, test = load_split(FER, "paper-train"), load_split(FER, "paper-test")
    assert (len(train), len(test)) == (11_214, 2_804)
    assert not {x.tobytes() for x in train.images} & {x.tobytes() for x in test.images}
    # Stratified: each class's share is the same in both, to within one image's rounding.
    share = train.class_counts() / 11_214 - test.class_counts() / 2_804
    assert np.abs(share).max() <= 1 / 11_214 + 1 / 2_804  # each quota is off by < 1 image
