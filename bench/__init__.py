"""Benchmarks against the clip made by bench/make_clip.py (see bench/README.md)."""
