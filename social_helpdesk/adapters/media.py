"""Downloading the media customers attach (photos, videos, voice notes,
files), once, so that agents see them in Odoo: network CDN addresses expire
(Meta's are signed for days), and an image shown from the network's server
would tell it who reads the ticket, and when.

Nothing here imports Odoo.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import requests

from .base import AdapterError, TransientError

# Kinds worth keeping: a "link" is an address the customer shared, never
# fetched (it may point anywhere, the server's own network included).
DOWNLOADED_KINDS = frozenset({"image", "video", "audio", "file"})
CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 3
FILE_NAME = re.compile(r"[^\w.\- ]+")


class MediaTooLarge(AdapterError):
    """The file is larger than the limit: it stays a link."""


# What makes an image: its first bytes, whatever the server says it is.
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class Media:
    content: bytes
    mimetype: str
    name: str


# Images an agent may attach to a reply, recognised by their first bytes:
# a file name or a browser's declared type can say anything.
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(content):
    """The MIME type of a JPEG, PNG, GIF or WEBP image from its content, or
    None for anything else."""
    head = bytes(content[:16])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next(
        (mimetype for magic, mimetype in IMAGE_SIGNATURES if head.startswith(magic)),
        None,
    )


def fetch_media(url, max_bytes, timeout, session=None):
    """The file at ``url`` (http or https), read up to ``max_bytes``: a
    :class:`Media`. Raises :class:`MediaTooLarge` past the limit (announced
    or read), :class:`TransientError` when the server may answer later (a
    timeout, a refused connection, a 5xx or 429 answer), :class:`AdapterError`
    on any other failure."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise AdapterError(f"Not a web address: {url!r}")
    session = session or requests.Session()
    session.max_redirects = MAX_REDIRECTS
    try:
        with session.get(url, stream=True, timeout=timeout) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise TransientError(
                    f"The network answered {response.status_code} for {url}"
                )
            if response.status_code != 200:
                raise AdapterError(
                    f"The network answered {response.status_code} for {url}"
                )
            announced = response.headers.get("Content-Length", "")
            if announced.isdigit() and int(announced) > max_bytes:
                raise MediaTooLarge(f"{announced} bytes, over {max_bytes}")
            content = bytearray()
            for chunk in response.iter_content(CHUNK_BYTES):
                content += chunk
                if len(content) > max_bytes:
                    raise MediaTooLarge(f"over {max_bytes} bytes")
            mimetype = response.headers.get("Content-Type", "").split(";")[0].strip()
    except requests.RequestException as exc:
        raise TransientError(f"Could not download {url}: {exc}") from exc
    return Media(
        content=bytes(content),
        mimetype=mimetype or "application/octet-stream",
        name=_file_name(url),
    )


def _file_name(url):
    """The last part of the address' path, made safe as a file name."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return FILE_NAME.sub("_", name).strip("._ ")[:100] or "media"


def image_mimetype(content):
    """The type of a JPEG, PNG, GIF or WebP image from its first bytes, else
    "": a page or an SVG (script inside) never passes for a picture."""
    for signature, mimetype in IMAGE_SIGNATURES:
        if content.startswith(signature):
            return mimetype
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return ""
