"""A network's media host on loopback (its CDN): serves the files it is
given, by path, so that downloads of customer media run over real HTTP in
tests::

    with MediaServer({"/a.png": (PNG, "image/png")}) as cdn:
        fetch_media(cdn.url("/a.png"), ...)

Any other path is a 404; ``requests`` lists the paths asked for.
"""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .loopback import LoopbackServer


class MediaServer(LoopbackServer):
    """Serves ``files`` ({path: (bytes, content type)}) on 127.0.0.1."""

    def __init__(self, files):
        self.files = files
        self.requests = []

    thread_name = "fake-media"

    def _make_server(self):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.media = self
        return httpd

    def url(self, path):
        return self.base_url + path


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
