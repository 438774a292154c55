"""Moved to ``edge.sinks.events``; this name stays only until ``edge/bench.py`` imports the new
one (phase 2 of issue 13 removes it). New code imports ``edge.sinks.events``."""

from edge.sinks.events import EventWriter

__all__ = ["EventWriter"]
