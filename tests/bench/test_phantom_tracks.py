"""``bench.phantom_tracks``: the phantoms of a run by track, totalled as ``edge bench`` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.phantom_tracks import main, phantom_tracks, read_events, warn_if_foreign
from edge.scoring import ClipScore

FACE = [100, 100, 100, 100]
IGNORED = [400, 100, 100, 100]  # fading in: neither a hit nor a phantom
TRUTH = [
    [{"box": FACE, "label": "happy"}],
    [{"box": FACE, "label": "happy"}, {"box": IGNORED, "label": "sad", "ignore": True}],
    [],
]
EVENTS = [
    [{"id": 0, "box": FACE}, {"id": 1, "box": [300, 300, 50, 50]}],  # 1: on the wall
    [
        {"id": 0, "box": [102, 101, 98, 98]},
        {"id": 1, "box": [301, 300, 50, 50]},
        {"id": 2, "box": IGNORED},
        {"id": 3, "box": [120, 150, 30, 30]},  # inside the face, too small to match it
    ],
    [],
]


def write(tmp_path: Path, events=EVENTS, truth=TRUTH) -> tuple[Path, Path]:
    ev, tr = tmp_path / "events.jsonl", tmp_path / "truth.json"
    lines = [json.dumps({"frame": i, "faces": f}) + "\n" for i, f in enumerate(events)]
    ev.write_text("".join(lines))
    tr.write_text(json.dumps({"frames": [{"faces": f} for f in truth]}))
    return ev, tr


def test_phantoms_are_grouped_by_track_longest_first_and_placed():
    tracks = phantom_tracks(EVENTS, TRUTH)
    assert [(t.id, len(t.frames), t.on_faces) for t in tracks] == [(1, 2, 0), (3, 1, 1)]
    assert [f for f, *_ in tracks[0].frames] == [0, 1]
    assert tracks[1].frames[0][3] == TRUTH[1][0]  # the true face it overlaps most


def test_the_totals_are_those_of_the_clip_score(tmp_path, capsys):
    clip = ClipScore()
    for faces, true in zip(EVENTS, TRUTH, strict=True):
        clip.add([(f["box"], "happy") for f in faces], true)
    report = clip.report()
    assert main([str(p) for p in write(tmp_path)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert f"{report['phantoms_per_100_frames']:.3f} per 100 frames" in last  # 100.000
    assert f"{report['phantoms_on_faces_per_100_frames']:.3f} on a face" in last  # 33.333
    assert last.startswith("3 phantom faces in 3 frames")


def test_a_bad_events_line_is_named_with_its_number(tmp_path, capsys):
    ev, tr = write(tmp_path)
    ev.write_text(ev.read_text() + '{"frame": 3, "faces": [{"box": [1, 2, 3, 4]}]}\n')
    with pytest.raises(ValueError, match="line 4 is not an events line"):
        read_events(ev)
    assert main([str(ev), str(tr)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "events.jsonl: line 4" in err[0]


def test_a_truth_face_id_that_is_a_list_is_named(tmp_path, capsys):
    truth = [[{"box": FACE, "label": "happy", "id": [1]}]] * 3
    ev, tr = write(tmp_path, truth=truth)
    assert main([str(ev), str(tr)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"phantom_tracks: error: {tr}: frame 0: face id [1] is not a number or a string"]


def test_events_of_a_longer_clip_are_refused(tmp_path, capsys):
    ev, tr = write(tmp_path, truth=TRUTH[:2])
    assert main([str(ev), str(tr)]) == 1
    assert "3 frames, more than the 2" in capsys.readouterr().err


def test_a_missing_file_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "none.jsonl"), str(write(tmp_path)[1])]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_events_of_another_clip_of_the_same_length_are_warned_of(capsys):
    wall = [[{"id": k, "box": [300 + k, 300, 50, 50]}] for k in range(30)]
    faces = [[{"id": 0, "box": FACE}]] * 30
    truth = [[{"box": FACE, "label": "happy"}]] * 30
    assert warn_if_foreign(faces, truth, "t") == 0.0
    assert capsys.readouterr().err == ""
    assert warn_if_foreign(wall, truth, "t") == 1.0
    assert "30 of the 30 faces reported match no true face" in capsys.readouterr().err


def test_frames_after_a_tracks_last_match_are_counted_as_a_face_gone(tmp_path, capsys):
    # Track 0 matches the face on frames 0-1; the face leaves on frame 2 and the box stays
    # for frames 2-3 (after its last match). Track 1 was never on a face: none after a match.
    truth = [[{"box": FACE, "label": "happy"}]] * 2 + [[], []]
    wall = {"id": 1, "box": [300, 300, 50, 50]}
    events = [[{"id": 0, "box": FACE}, wall]] * 2 + [[{"id": 0, "box": FACE}, wall]] * 2
    tracks = {t.id: t for t in phantom_tracks(events, truth)}
    assert (tracks[0].last_match, tracks[0].after_match) == (1, 2)
    assert (tracks[1].last_match, tracks[1].after_match) == (-1, 0)
    assert main([str(p) for p in write(tmp_path, events, truth)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        "track 0: 2 frames, 2-3, on the background (0 of them on a face, 2 after its last "
        "match, 2 with that face gone)" in out[1]
    )
    assert out[-1].endswith(
        "; 2 after their track's last match, 2 of them with that face gone (a face that left, "
        "still reported)"
    )


def test_a_box_off_a_face_still_in_view_is_not_a_face_gone():
    # Face 7 is swapped in place for another image (same truth id) on frame 2 and the track's
    # box shifts off it; face 8 leaves on frame 2 and its track's box stays. Both boxes are
    # phantoms after their last match; only the second is a face that left.
    swapped = {"id": 7, "box": FACE, "label": "happy"}
    leaving = {"id": 8, "box": [400, 100, 100, 100], "label": "sad"}
    truth = [[swapped, leaving]] * 2 + [[{**swapped, "label": "angry"}]] * 2
    off = [160, 40, 100, 100]  # IoU 0.1 with FACE: no match
    events = [[{"id": 0, "box": FACE}, {"id": 1, "box": leaving["box"]}]] * 2 + [
        [{"id": 0, "box": off}, {"id": 1, "box": leaving["box"]}]
    ] * 2
    tracks = {t.id: t for t in phantom_tracks(events, truth)}
    assert (tracks[0].after_match, tracks[0].after_gone) == (2, 0)
    assert (tracks[1].after_match, tracks[1].after_gone) == (2, 2)
