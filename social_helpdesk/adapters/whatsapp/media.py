"""Customer media by id, and the agent's files uploaded for a reply.

A webhook gives a media id, never a URL: ``GET /{media-id}`` answers a URL
valid for five minutes, which is read with the same Bearer token
(https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media).
Files sent in replies are uploaded first (``POST /{phone-number-id}/media``)
and sent by id.
"""

import mimetypes
from dataclasses import replace

import requests

from ..base import AdapterError, NetworkAdapter
from ..media import MediaTooLarge, fetch_media
from ..meta.readers import _path, _text
from .parse import MEDIA_SCHEME


class WhatsAppMediaMixin(NetworkAdapter):
    """Download by media id, upload for replies."""

    def download_media(self, url, max_bytes, timeout):
        """``whatsapp-media:<id>``: look the id up, then read its URL with
        the token, up to ``max_bytes``. Other addresses as any network's."""
        if not url.startswith(MEDIA_SCHEME):
            return super().download_media(url, max_bytes, timeout)
        media_id = url.removeprefix(MEDIA_SCHEME)
        info = self._get(_path(media_id))
        size = _text(info.get("file_size")) or str(info.get("file_size") or "")
        if size.isdigit() and int(size) > max_bytes:
            raise MediaTooLarge(f"{size} bytes, over {max_bytes}")
        address = _text(info.get("url"))
        if not address:
            raise AdapterError(f"WhatsApp gave no address for media {media_id}.")
        session = requests.Session()
        # requests drops this header if the address redirects to another host.
        session.headers["Authorization"] = f"Bearer {self._token()}"
        media = fetch_media(address, max_bytes, timeout, session=session)
        mimetype = _text(info.get("mime_type")).split(";")[0].strip() or media.mimetype
        extension = mimetypes.guess_extension(mimetype) or ""
        return replace(media, mimetype=mimetype, name=f"whatsapp-{media_id}{extension}")

    def upload_media(self, media):
        """The id of ``media`` (a :class:`~..media.Media`) uploaded to the
        number, to send it by id."""
        answer = self._post(
            _path(self.phone_number_id, "media"),
            data={"messaging_product": "whatsapp", "type": media.mimetype},
            files={"file": (media.name, media.content, media.mimetype)},
        )
        media_id = answer.get("id")
        if not isinstance(media_id, str | int) or isinstance(media_id, bool):
            raise AdapterError("WhatsApp accepted the file but returned no id for it.")
        return str(media_id)
