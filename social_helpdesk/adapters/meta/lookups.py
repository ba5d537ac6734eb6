"""Graph lookups for the conversation on a ticket: a customer's profile
picture (Messenger and Instagram User Profile APIs) and the post a comment
answers, each read once by a cron, never in the webhook request.

A Facebook comment's ``from`` carries an id and a name only, and the Graph
API gives a page no picture of the people commenting: those customers keep
Odoo's default avatar.
"""

from ..base import NetworkAdapter, ParentPost
from .readers import _path, _text

CHANNEL_FACEBOOK = "facebook"
CHANNEL_MESSENGER = "messenger"
CHANNEL_INSTAGRAM = "instagram"

PROFILE_FIELDS = {
    CHANNEL_MESSENGER: "name,profile_pic",
    CHANNEL_INSTAGRAM: "name,username,profile_pic",
}
FACEBOOK_POST_FIELDS = "message,full_picture,permalink_url"
INSTAGRAM_MEDIA_FIELDS = "caption,media_type,media_url,thumbnail_url,permalink"


class MetaLookupsMixin(NetworkAdapter):
    """Profile pictures and the posts comments answer."""

    def profile_picture_url(self, channel, user_id):
        fields = PROFILE_FIELDS.get(channel)
        if not fields or not user_id:
            return ""
        body = self._get(_path(user_id), {"fields": fields})
        return _web_address(body.get("profile_pic"))

    def fetch_post(self, channel, post_id):
        """A page post (``message``, ``full_picture``, ``permalink_url``) or
        an Instagram media (``caption``, its image or a video's thumbnail,
        ``permalink``). Meta does not bill reads."""
        if channel == CHANNEL_INSTAGRAM:
            body = self._get(_path(post_id), {"fields": INSTAGRAM_MEDIA_FIELDS})
            image = body.get("media_url")
            if body.get("media_type") == "VIDEO":
                image = body.get("thumbnail_url")
            return ParentPost(
                post_id=str(post_id),
                text=_text(body.get("caption")),
                url=_web_address(body.get("permalink")),
                image_url=_web_address(image),
            )
        body = self._get(_path(post_id), {"fields": FACEBOOK_POST_FIELDS})
        return ParentPost(
            post_id=str(post_id),
            text=_text(body.get("message")),
            url=_web_address(body.get("permalink_url")),
            image_url=_web_address(body.get("full_picture")),
        )


def _web_address(value):
    value = _text(value)
    return value if value.startswith(("https://", "http://")) else ""
