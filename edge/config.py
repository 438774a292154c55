"""Configuration: nested frozen dataclasses loaded from TOML (stdlib ``tomllib``).

Sections: ``[run] [source] [model] [faces] [tracking] [trigger] [capture] [events] [log]``
(``TriggerConfig`` and ``CaptureConfig`` live beside the stages that use them). Unknown
sections or keys and out-of-range values raise ``ConfigError`` naming the key
(``faces.min_size must be >= 1``).
See ``edge/config.example.toml`` for every key with a comment.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from edge.errors import ConfigError, config_check
from edge.sinks.http import HttpConfig
from edge.sinks.mqtt import MqttConfig
from edge.smile.capture import CaptureConfig
from edge.smile.trigger import TriggerConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
BACKENDS = ("auto", "edgetpu", "cpu")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MODES = ("watch", "smile")


_check = config_check()


@dataclass(frozen=True)
class RunConfig:
    mode: str = "watch"  # watch: events only | smile: also the smile camera ([trigger], [capture])

    def __post_init__(self) -> None:
        _check(self.mode in MODES, "run.mode", f"one of {', '.join(MODES)}")


@dataclass(frozen=True)
class SourceConfig:
    uri: str = "auto"  # auto | sample | picamera | /dev/videoN | N | video file | image folder
    width: int = 640
    height: int = 480
    lores_width: int = 480  # the detection image on the Pi: keep = faces.detect_width
    lores_height: int = 360
    read_retries: int = 10
    retry_delay_s: float = 0.5
    require_camera: bool = False  # auto = camera or error (always so under systemd)

    def __post_init__(self) -> None:
        _check(bool(self.uri), "source.uri", "a non-empty string")
        for key in ("width", "height", "lores_width", "lores_height"):
            _check(getattr(self, key) >= 16, f"source.{key}", ">= 16")
        _check(self.lores_width <= self.width, "source.lores_width", "<= source.width")
        _check(self.lores_height <= self.height, "source.lores_height", "<= source.height")
        _check(self.read_retries >= 0, "source.read_retries", ">= 0")
        _check(0 <= self.retry_delay_s <= 60, "source.retry_delay_s", "in [0, 60]")


@dataclass(frozen=True)
class ModelConfig:
    # The CPU model: the fast one by default; emotion_int8.tflite (accurate, ~3x the cost) works too
    path: Path = MODELS_DIR / "emotion_fast_int8.tflite"
    # The accurate model compiled for the Edge TPU (from emotion_int8.tflite, see tpu_source)
    edgetpu_path: Path = MODELS_DIR / "emotion_int8_edgetpu.tflite"
    labels: Path = MODELS_DIR / "emotion.labels.txt"
    backend: str = "auto"
    device: str = ""  # Edge TPU device: "" (any), "usb", "usb:0", "pci", "pci:0"
    num_threads: int = 2

    def __post_init__(self) -> None:
        _check(self.backend in BACKENDS, "model.backend", f"one of {', '.join(BACKENDS)}")
        ok_device = self.device == "" or self.device.split(":")[0] in ("usb", "pci", "")
        _check(ok_device, "model.device", '"", "usb", "usb:N", "pci", "pci:N" or ":N"')
        _check(1 <= self.num_threads <= 16, "model.num_threads", "in [1, 16]")

    @property
    def tpu_source(self) -> Path:
        """The CPU int8 model that ``edgetpu_path`` is compiled from (``X_edgetpu.tflite`` ->
        ``X.tflite``): what to give ``edgetpu_compiler``, and the TPU's reference in selftest."""
        name = self.edgetpu_path.name.replace("_edgetpu", "", 1)
        return self.edgetpu_path.with_name(name)


@dataclass(frozen=True)
class FacesConfig:
    cascade: str = ""  # "" = opencv's haarcascade_frontalface_default.xml (pip or apt path)
    detect_width: int = 480
    detect_every: int = 8  # Haar every N-th frame; tracked faces are followed in between
    carry_min_match: float = 0.7  # ...while their crop matches the confirmed one this well
    max_coast: int = 1  # Haar runs a tracked face may be missed while its crop still matches
    arrival_change: float = 20.0  # mean grey change of a 16 px cell away from faces: run Haar
    window_scans: bool = True  # ...only around the changed cells / lost faces (False: all)
    rescan_change: float = 2.0  # the periodic scan: only cells changed this much (0: all)
    whole_every: int = 150  # ...but the whole frame at least every N frames (0: not forced)
    confirm_frames: int = 2  # a new face must be found again on N more frames...
    confirm_misses: int = 3  # ...missed on at most this many looks meanwhile (hidden then)
    backdrop_match: float = 0.8  # a Haar box this like the learned empty wall is none (0: off)
    scale_factor: float = 1.1
    min_neighbors: int = 4  # Haar's agreeing detections for a new face...
    known_neighbors: int = 3  # ...and for a tracked one found again (at most min_neighbors)
    verify_cascade: str = "haarcascade_frontalface_alt2.xml"  # a new face found by it too...
    verify_neighbors: int = 3  # ...with this many agreeing detections ("" above: no check)
    sure_neighbors: int = 16  # ...unless the first found it with this many (0: always checked)
    min_size: int = 36  # at detect_width 480: a 48 px face in a 640 px frame
    max_faces: int = 8
    # Crop geometry measured with `python -m edge.tools.measure_margin <fer2013>/val --limit 300`
    # (300 random val images, each upscaled x4 and pasted on a mid-grey canvas, the cascade run
    # with these settings; 206 gave one face): the FER crop extends the Haar box by a median
    # 0.016 of its side on each side (IQR -0.010..0.058), centre offset 0.000 / 0.001.
    crop_margin: float = 0.02
    crop_shift_y: float = 0.0

    def __post_init__(self) -> None:
        _check(64 <= self.detect_width <= 4096, "faces.detect_width", "in [64, 4096]")
        _check(1 <= self.detect_every <= 30, "faces.detect_every", "in [1, 30]")
        _check(0 <= self.max_coast <= 10, "faces.max_coast", "in [0, 10]")
        _check(0 <= self.confirm_frames <= 10, "faces.confirm_frames", "in [0, 10]")
        _check(0 <= self.confirm_misses <= 10, "faces.confirm_misses", "in [0, 10]")
        _check(0 <= self.arrival_change <= 255, "faces.arrival_change", "in [0, 255] (0: off)")
        _check(0 <= self.backdrop_match <= 1, "faces.backdrop_match", "in [0, 1] (0: off)")
        _check(0 <= self.rescan_change <= 255, "faces.rescan_change", "in [0, 255] (0: all)")
        _check(0 <= self.whole_every <= 100_000, "faces.whole_every", "in [0, 100000] (0: off)")
        _check(-1 <= self.carry_min_match <= 1, "faces.carry_min_match", "in [-1, 1]")
        _check(1.01 <= self.scale_factor <= 2.0, "faces.scale_factor", "in [1.01, 2.0]")
        _check(0 <= self.min_neighbors <= 50, "faces.min_neighbors", "in [0, 50]")
        _check(0 <= self.known_neighbors <= 50, "faces.known_neighbors", "in [0, 50]")
        _check(2 <= self.verify_neighbors <= 50, "faces.verify_neighbors", "in [2, 50]")
        _check(0 <= self.sure_neighbors <= 200, "faces.sure_neighbors", "in [0, 200] (0: off)")
        _check(self.min_size >= 8, "faces.min_size", ">= 8")
        _check(self.max_faces >= 1, "faces.max_faces", ">= 1")
        _check(-0.2 <= self.crop_margin <= 1.0, "faces.crop_margin", "in [-0.2, 1.0]")
        _check(-0.5 <= self.crop_shift_y <= 0.5, "faces.crop_shift_y", "in [-0.5, 0.5]")


@dataclass(frozen=True)
class TrackingConfig:
    iou_min: float = 0.3
    max_missed: int = 5
    ema_alpha: float = 0.3
    hysteresis: float = 0.15  # the smoothed label moves to a class leading the EMA by more...
    follow_frames: int = 4  # ...or to one that has led for this many frames in a row

    def __post_init__(self) -> None:
        _check(0 < self.iou_min < 1, "tracking.iou_min", "in (0, 1)")
        _check(self.max_missed >= 0, "tracking.max_missed", ">= 0")
        _check(0 < self.ema_alpha <= 1, "tracking.ema_alpha", "in (0, 1]")
        _check(0 <= self.hysteresis < 1, "tracking.hysteresis", "in [0, 1)")
        _check(1 <= self.follow_frames <= 30, "tracking.follow_frames", "in [1, 30]")


@dataclass(frozen=True)
class EventsConfig:
    path: str = ""  # "" = no events, "-" = stdout, else a file (appended)

    def __post_init__(self) -> None:
        _check(isinstance(self.path, str), "events.path", "a string")


@dataclass(frozen=True)
class LogConfig:
    level: str = "INFO"

    def __post_init__(self) -> None:
        _check(self.level.upper() in LOG_LEVELS, "log.level", f"one of {', '.join(LOG_LEVELS)}")


@dataclass(frozen=True)
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    faces: FacesConfig = field(default_factory=FacesConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    trigger: TriggerConfig = field(default_factory=TriggerConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    log: LogConfig = field(default_factory=LogConfig)


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """Check one TOML value against the dataclass field type; ints are accepted for floats."""
    if kind is Path:
        _check(isinstance(value, str | Path) and str(value) != "", key, "a non-empty path")
        return Path(value).expanduser()
    if kind is float:
        _check(isinstance(value, int | float) and not isinstance(value, bool), key, "a number")
        return float(value)
    if kind is int:
        _check(isinstance(value, int) and not isinstance(value, bool), key, "an integer")
        return value
    _check(isinstance(value, kind), key, f"a {kind.__name__}")
    return value


def _section(name: str, cls: type, values: Any) -> Any:
    _check(isinstance(values, dict), name, "a table")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"unknown key {name}.{key} (known: {', '.join(sorted(known))})")
    kwargs = {k: _coerce(f"{name}.{k}", v, hints[k]) for k, v in values.items()}
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> Config:
    """Build a validated ``Config`` from nested dicts (TOML tables)."""
    sections = {f.name: f for f in dataclasses.fields(Config)}
    for name in data:
        if name not in sections:
            raise ConfigError(f"unknown section [{name}] (known: {', '.join(sections)})")
    hints = get_type_hints(Config)
    return Config(**{n: _section(n, hints[n], v) for n, v in data.items()})


def load(path: Path | None) -> Config:
    """Load and validate a TOML file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    return from_dict(data)


def override(cfg: Config, **sections: dict[str, Any]) -> Config:
    """Return ``cfg`` with some keys replaced (CLI flags), validated like the file."""
    merged = dataclasses.asdict(cfg)
    for name, values in sections.items():
        merged[name].update({k: v for k, v in values.items() if v is not None})
    return from_dict(merged)
