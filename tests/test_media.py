"""Downloading customers' media: only web addresses, never past the size
limit (announced or not), over real HTTP on loopback."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from social_helpdesk.adapters.base import AdapterError
from social_helpdesk.adapters.media import MediaTooLarge, fetch_media, sniff_image
from social_helpdesk.tests.fakes.media_server import MediaServer


@pytest.fixture
def cdn():
    files = {
        "/a%20photo%3F.png": (b"x" * 100, "image/png; charset=binary"),
        "/big.bin": (b"x" * 5000, "application/octet-stream"),
    }
    with MediaServer(files) as server:
        yield server


def test_downloads_a_file_with_a_safe_name(cdn):
    media = fetch_media(cdn.url("/a%20photo%3F.png"), max_bytes=100, timeout=5)
    assert media.content == b"x" * 100
    assert media.mimetype == "image/png"
    assert media.name == "a photo_.png"


def test_refuses_a_file_announced_over_the_limit(cdn):
    with pytest.raises(MediaTooLarge):
        fetch_media(cdn.url("/big.bin"), max_bytes=4999, timeout=5)


def test_stops_reading_past_the_limit_when_the_size_is_not_announced():
    class Chunked(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            for _chunk in range(100):
                self.wfile.write(b"y" * 1024)

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/stream"
        with pytest.raises(MediaTooLarge):
            fetch_media(url, max_bytes=10_000, timeout=5)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_missing_file_is_an_error(cdn):
    with pytest.raises(AdapterError):
        fetch_media(cdn.url("/gone.png"), max_bytes=100, timeout=5)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/a"]
)
def test_only_web_addresses(url):
    with pytest.raises(AdapterError):
        fetch_media(url, max_bytes=100, timeout=5)


@pytest.mark.parametrize(
    ("content", "mimetype"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"%PDF-1.7", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
)
def test_reply_images_are_known_by_their_content(content, mimetype):
    assert sniff_image(content) == mimetype
