"""A network's media host on loopback (its CDN): serves the files it is
given, by path, so that downloads of customer media run over real HTTP in
tests::

    with MediaServer({"/a.png": (PNG, "image/png")}) as cdn:
        fetch_media(cdn.url("/a.png"), ...)

Any other path is a 404; ``requests`` lists the paths asked for.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MediaServer:
    """Serves ``files`` ({path: (bytes, content type)}) on 127.0.0.1."""

    def __init__(self, files):
        self.files = files
        self.requests = []
        self._httpd = None
        self._thread = None

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.media = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-media",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def url(self, path):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        media = self.server.media
        media.requests.append(self.path)
        body, content_type = media.files.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if self.path in media.files else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: tests read MediaServer.requests instead."""
