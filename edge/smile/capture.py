"""Smile captures: atomic JPEG + JSON sidecar, a disk budget, errors that never stop the loop.

Layout of ``directory``::

    smile-20260101-120000-123.jpg    the still (full-resolution frame), JPEG
    smile-20260101-120000-123.json   its sidecar: time, size, sha256 of the JPEG, plus ``meta``
    .smile-...jpg.tmp                being written (hidden); stale ones are removed at start

Both files are written to a hidden temporary name in the same directory, fsynced, then renamed
(``os.replace``, atomic on POSIX: ``edge.fsio.write_atomic``), so a reader never sees a partial
file under a final name.
The **sidecar goes first and the JPEG's rename is the commit point**: every ``*.jpg`` under a
final name is complete and already has its sidecar (whose ``bytes``/``sha256`` describe it). A
crash between the two renames leaves an orphan sidecar, removed at the next start; the budget
deletes a JPEG before its sidecar for the same reason.

The budget (``max_files`` captures and/or ``max_mb`` megabytes, JPEG + sidecar) deletes the
oldest captures, by the timestamp in their names, after each save; the capture just written is
kept even if it alone exceeds ``max_mb``. An ``OSError`` (full disk, unwritable or missing
directory...) is logged as one ERROR line, repeated only after a success, for a different error,
or every ``error_interval_s``; ``save`` then returns None and the daemon carries on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.errors import config_check
from edge.fsio import fsync_dir, write_atomic

log = logging.getLogger(__name__)

PREFIX = "smile"
_NAME = re.compile(rf"^{PREFIX}-(\d{{8}}-\d{{6}}-\d{{3}})(?:_(\d+))?\.(jpg|json)$")


_check = config_check("capture")


@dataclass(frozen=True)
class CaptureConfig:
    """The ``[capture]`` section.

    Attributes:
        directory: where stills go (made if missing). A relative path is taken under
            ``$STATE_DIRECTORY`` when systemd sets it (the unit's ``StateDirectory``, i.e.
            /var/lib/emotion-edge/captures), else under the working directory.
        max_files: keep at most this many captures (0 = no limit).
        max_mb: keep at most this many megabytes (MiB) of captures (0 = no limit).
        jpeg_quality: cv2.IMWRITE_JPEG_QUALITY, 1..100.
        error_interval_s: repeat an unchanged write error in the log at most this often.
    """

    directory: Path = Path("captures")
    max_files: int = 1000
    max_mb: float = 0.0
    jpeg_quality: int = 92
    error_interval_s: float = 300.0

    def __post_init__(self) -> None:
        _check(str(self.directory) != "", "directory", "a non-empty path")
        _check(self.max_files >= 0, "max_files", ">= 0 (0 = no limit)")
        _check(self.max_mb >= 0, "max_mb", ">= 0 (0 = no limit)")
        _check(1 <= self.jpeg_quality <= 100, "jpeg_quality", "in [1, 100]")
        _check(self.error_interval_s >= 0, "error_interval_s", ">= 0")


def capture_name(when: datetime, seq: int = 0) -> str:
    """``smile-YYYYmmdd-HHMMSS-fff.jpg``; ``seq`` > 0 adds ``_N`` for a clash in the same ms."""
    stamp = when.strftime("%Y%m%d-%H%M%S-") + f"{when.microsecond // 1000:03d}"
    return f"{PREFIX}-{stamp}{f'_{seq}' if seq else ''}.jpg"


def _order(name: str) -> tuple[str, int]:
    """Sort key of a capture name: its timestamp, then its clash number."""
    m = _NAME.match(name)
    return (m.group(1), int(m.group(2) or 0)) if m else ("", 0)


def capture_event(path: Path, ts: float) -> dict[str, Any]:
    """The events-stream line for one capture (``ts`` as in the per-frame events)."""
    return {
        "event": "capture",
        "ts": round(ts, 3),
        "image": str(path),
        "sidecar": str(path.with_suffix(".json")),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path | datetime):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class CaptureWriter:
    """``save(frame, when, meta) -> Path | None``; never raises ``OSError`` into the loop."""

    def __init__(
        self, config: CaptureConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or CaptureConfig()
        self.directory = Path(self.config.directory)
        self.clock = clock
        self.saved = 0
        self.failed = 0
        self._last_error: tuple[str, float] | None = None  # (message, clock time logged)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._clean_leftovers()
            self._enforce_budget()  # a writer killed between a save and its pruning
        except OSError as exc:
            self._report(exc)

    def save(
        self, frame_bgr: np.ndarray, when: datetime | float, meta: Mapping[str, Any]
    ) -> Path | None:
        """Save one still and its sidecar, then apply the budget.

        Args:
            frame_bgr: HxWx3 uint8 BGR, the full-resolution frame.
            when: the capture time, a ``datetime`` or epoch seconds (local time in the name).
            meta: more sidecar fields (faces, boxes, scores, backend, model); numpy values OK.

        Returns:
            The JPEG's path, or None if it could not be written (logged).
        """
        stamp = when if isinstance(when, datetime) else datetime.fromtimestamp(when)
        try:
            data = self._encode(frame_bgr)
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self._free_path(stamp)
            sidecar = self._sidecar(path, stamp, frame_bgr.shape, data, meta)
            write_atomic(path.with_suffix(".json"), sidecar)
            try:
                write_atomic(path, data)
            except OSError:
                with contextlib.suppress(OSError):
                    path.with_suffix(".json").unlink()
                raise
            fsync_dir(self.directory)
        except (OSError, ValueError, TypeError, cv2.error) as exc:
            self._report(exc)
            return None
        self._recovered()
        self.saved += 1
        log.info("capture %s (%d KiB)", path, len(data) // 1024)
        try:
            self._enforce_budget(keep=path)
        except OSError as exc:
            self._report(exc)
        return path

    def captures(self) -> list[Path]:
        """The JPEGs under final names, oldest first."""
        names = [e.name for e in os.scandir(self.directory) if _NAME.match(e.name)]
        return [self.directory / n for n in sorted(names, key=_order) if n.endswith(".jpg")]

    def _encode(self, frame_bgr: np.ndarray) -> bytes:
        params = [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]
        ok, buf = cv2.imencode(".jpg", frame_bgr, params)
        if not ok:
            raise ValueError(f"cannot encode a {frame_bgr.shape} frame as JPEG")
        return buf.tobytes()

    @staticmethod
    def _sidecar(
        path: Path, stamp: datetime, shape: tuple[int, ...], data: bytes, meta: Mapping[str, Any]
    ) -> bytes:
        fields: dict[str, Any] = {
            "image": path.name,
            "time": stamp.isoformat(timespec="milliseconds"),
            "width": int(shape[1]),
            "height": int(shape[0]),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        fields.update((k, v) for k, v in meta.items() if k not in fields)
        return (json.dumps(fields, indent=1, default=_jsonable) + "\n").encode()

    def _free_path(self, stamp: datetime) -> Path:
        seq = 0
        while (path := self.directory / capture_name(stamp, seq)).exists():
            seq += 1
        return path

    def _enforce_budget(self, keep: Path | None = None) -> None:
        cfg = self.config
        jpgs = self.captures()
        sizes = {p: self._size(p) + self._size(p.with_suffix(".json")) for p in jpgs}
        total = sum(sizes.values())
        limit = cfg.max_mb * 1024 * 1024
        count = len(jpgs)
        for old in jpgs:
            over_count = cfg.max_files and count > cfg.max_files
            over_size = cfg.max_mb and total > limit
            if not (over_count or over_size) or old == keep:
                break
            old.unlink(missing_ok=True)  # the JPEG first: it is the commit point
            old.with_suffix(".json").unlink(missing_ok=True)
            count -= 1
            total -= sizes[old]
            log.debug("budget: deleted %s", old.name)
        if keep is not None and cfg.max_mb and total > limit:
            log.warning("capture %s alone exceeds capture.max_mb=%g", keep.name, cfg.max_mb)

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    def _clean_leftovers(self) -> None:
        """Remove ``.*.tmp`` from an interrupted write and sidecars whose JPEG never landed."""
        for entry in os.scandir(self.directory):
            path = Path(entry.path)
            tmp = entry.name.startswith(".") and entry.name.endswith(".tmp")
            orphan = bool(_NAME.match(entry.name)) and path.suffix == ".json"
            if tmp or (orphan and not path.with_suffix(".jpg").exists()):
                path.unlink(missing_ok=True)
                log.info("removed leftover %s", path)

    def _report(self, exc: Exception) -> None:
        self.failed += 1
        message = f"{type(exc).__name__}: {exc}"
        now = self.clock()
        if self._last_error is not None:
            last, at = self._last_error
            if last == message and now - at < self.config.error_interval_s:
                return
        self._last_error = (message, now)
        log.error(
            "capture not saved in %s: %s (the daemon goes on; repeated at most every %gs)",
            self.directory,
            message,
            self.config.error_interval_s,
        )

    def _recovered(self) -> None:
        if self._last_error is not None:
            log.info("captures are being saved again in %s", self.directory)
            self._last_error = None
