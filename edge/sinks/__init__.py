"""Where a processed frame goes. Each sink sits beside its own config section:

    base.py     ``Sink`` (the protocol: ``handle(frame, result)``, ``close()``) and ``FanOut``
    events.py   one JSON line per frame to a file or stdout (``[events]``)
    mqtt.py     label changes, captures, summaries, availability to a broker (``[mqtt]``)
    metrics.py  the Prometheus registry behind ``/metrics``, plus the stage-latency timer
    http/       health, status page, ``/metrics`` and the annotated preview (``[http]``)

Smile stills are not a sink: ``edge.smile`` is a stage that runs before them and marks the
frame's result with ``capture``. A new sink is a class with ``handle`` and ``close`` in its own
module here (with its config dataclass beside it, gathered in ``edge/config.py``), added to the
``FanOut`` in ``edge/daemon.py``.

Only ``Sink`` and ``FanOut`` are imported here: each sink is imported where it is used, so a
disabled sink loads nothing (paho, prometheus_client).
"""

from edge.sinks.base import FanOut, Sink

__all__ = ["FanOut", "Sink"]
