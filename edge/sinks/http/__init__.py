"""The optional HTTP side: health, Prometheus metrics, a status page and an annotated preview.

sink.py     ``WebSink`` (the sink the frame loop calls) and ``HttpConfig`` (``[http]``)
server.py   the threading server: a bounded number of connections, idle ones evicted
routes.py   the request handler: token check and one method per route
preview.py  the annotated MJPEG preview and capture thumbnails, encoded on their own thread
static/     the status page
"""

from edge.sinks.http.sink import HttpConfig, WebSink

__all__ = ["HttpConfig", "WebSink"]
