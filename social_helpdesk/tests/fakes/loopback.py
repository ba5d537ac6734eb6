"""The lifecycle every fake server shares: serve on 127.0.0.1 in a daemon
thread, as a context manager."""

import threading


class LoopbackServer:
    """Subclasses build their HTTP server in :meth:`_make_server`."""

    thread_name = "fake-server"
    poll_interval = 0.02  # how fast shutdown() is noticed
    _httpd = None
    _thread = None

    def _make_server(self):
        raise NotImplementedError

    def start(self):
        self._httpd = self._make_server()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=self.thread_name,
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

    @property
    def base_url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"
