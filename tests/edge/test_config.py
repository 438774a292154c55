from pathlib import Path

import pytest

from edge import config
from edge.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "edge" / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_example_config_loads_and_matches_defaults():
    cfg = config.load(EXAMPLE)
    default = config.Config()
    assert cfg.faces == default.faces
    assert cfg.tracking == default.tracking
    assert cfg.source == default.source
    assert (cfg.run, cfg.trigger, cfg.capture) == (default.run, default.trigger, default.capture)
    assert cfg.model.backend == default.model.backend
    assert cfg.model.path.name == default.model.path.name


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"faces\.min_sise"):
        config.load(write(tmp_path, "[faces]\nmin_sise = 3\n"))


def test_unknown_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"\[trigger_\]"):
        config.load(write(tmp_path, "[trigger_]\nx = 1\n"))


def test_new_sections_reject_unknown_keys_by_name(tmp_path):
    for section in ("run", "trigger", "capture"):
        with pytest.raises(ConfigError, match=rf"{section}\.nope"):
            config.load(write(tmp_path, f"[{section}]\nnope = 1\n"))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[faces]\nmin_size = 2\n", "faces.min_size"),
        ("[faces]\nscale_factor = 'big'\n", "faces.scale_factor"),
        ("[model]\nbackend = 'gpu'\n", "model.backend"),
        ("[tracking]\nema_alpha = 0\n", "tracking.ema_alpha"),
        ("[source]\nlores_width = 9000\n", "source.lores_width"),
        ("[log]\nlevel = 'LOUD'\n", "log.level"),
        ("[run]\nmode = 'party'\n", "run.mode"),
        ("[trigger]\nframes = 0\n", "trigger.frames"),
        ("[capture]\nmax_mb = -1\n", "capture.max_mb"),
        ("[source]\nread_retries = true\n", "source.read_retries"),
        ("[faces]\nsure_neighbors = -1\n", "faces.sure_neighbors"),
        ("[faces]\nbackdrop_match = 1.5\n", "faces.backdrop_match"),
        ("[faces]\nwhole_every = -8\n", "faces.whole_every"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config.load(write(tmp_path, text))


def test_toml_syntax_error_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        config.load(write(tmp_path, "[faces\n"))


def test_cli_values_override_file_and_are_validated(tmp_path):
    cfg = config.load(write(tmp_path, "[model]\nbackend = 'edgetpu'\nnum_threads = 3\n"))
    cfg = config.override(cfg, model={"backend": "cpu", "path": None})
    assert cfg.model.backend == "cpu" and cfg.model.num_threads == 3
    with pytest.raises(ConfigError, match="model.backend"):
        config.override(cfg, model={"backend": "tpu"})


def test_two_models_by_default_fast_on_cpu_accurate_on_the_tpu():
    model = config.ModelConfig()
    assert model.path.name == "emotion_fast_int8.tflite"
    assert model.edgetpu_path.name == "emotion_int8_edgetpu.tflite"
    assert model.tpu_source == model.edgetpu_path.with_name("emotion_int8.tflite")
    # Both CPU files ship (the compiled one is made on an x86-64 machine with the compiler).
    assert model.path.is_file() and model.tpu_source.is_file()
    assert config.ModelConfig(edgetpu_path=Path("/m/x_edgetpu.tflite")).tpu_source == Path(
        "/m/x.tflite"
    )
