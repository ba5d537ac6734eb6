"""A webhook endpoint on loopback that answers verification requests, so the
fake networks' CRC and hub.challenge checks run over real HTTP in tests::

    with CallbackServer(adapter.handshake) as callback:
        adapter.register_webhook(callback.url)

``answer(params)`` gets the query parameters as a dict and returns
``(body, content_type)``, as :meth:`NetworkAdapter.handshake` does; an
exception it raises becomes a 403, as the webhook controller answers.
"""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .loopback import LoopbackServer


class CallbackServer(LoopbackServer):
    """Serves GET requests on 127.0.0.1 with ``answer``; a context manager."""

    def __init__(self, answer, path="/webhook"):
        self.answer = answer
        self.path = path
        self.requests = []  # the query parameters of each GET received

    thread_name = "fake-callback"

    def _make_server(self):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.callback = self
        return httpd

    @property
    def url(self):
        return self.base_url + self.path


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        callback = self.server.callback
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        callback.requests.append(params)
        status, content_type = 200, "text/plain"
        if parts.path != callback.path:
            status, body = 404, "not found"
        else:
            try:
                body, content_type = callback.answer(params)
            except Exception as exc:  # pylint: disable=broad-except
                status, body = 403, str(exc)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: tests read CallbackServer.requests instead."""
