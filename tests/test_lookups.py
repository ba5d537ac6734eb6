"""Customers' pictures and the posts comments answer, as the adapters read
them: from payloads when the network sends them, else from the profile and
post APIs (fake servers on loopback), with X's billed reads counted."""

import base64
import copy

import pytest
from meta_samples import IGSID, MEDIA_ID, POST_ID, PSID
from test_meta_adapter import CONFIG, NOW, only_event, only_message
from test_x_adapter import OWN_ID, load, make_adapter, messages_of

from social_helpdesk.adapters.base import ParentPost
from social_helpdesk.adapters.media import image_mimetype
from social_helpdesk.adapters.meta import MetaAdapter
from social_helpdesk.tests.fakes.fake_meta import FakeMetaServer
from social_helpdesk.tests.fakes.fake_x import MENTIONS, POST_LOOKUP, FakeXServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


# -- X --------------------------------------------------------------------------
def test_x_activity_reply_to_the_brand_names_the_post_to_look_up():
    """X Activity API deliveries carry no referenced post: only its id."""
    adapter = make_adapter()
    (event,) = adapter.split_delivery(load("xaa_post_reply_create"))
    (message,) = adapter.parse_event(event.payload)
    assert message.parent_post == ParentPost("2080761390344937796")


def test_x_account_activity_reply_and_the_authors_picture():
    """v1.1 users carry profile_image_url_https, in its 48-pixel variant:
    the original is taken. A reply to the brand names the post to look up."""
    adapter = make_adapter(user_id="2244994945")
    events = adapter.split_delivery(load("aaa_tweet_create_events"))
    message = messages_of(adapter, events)[0]
    assert message.author.avatar_url == (
        "https://pbs.twimg.com/profile_images/851526626785480705/cW4WTi7C.jpg"
    )
    assert message.parent_post == ParentPost("1849999999999999999")
    other = make_adapter(user_id="99")  # a reply to someone else's post
    assert messages_of(other, events)[0].parent_post is None


def test_x_reply_to_a_customer_quotes_nothing():
    payload = copy.deepcopy(load("xaa_post_reply_create"))
    payload["data"]["payload"]["in_reply_to_user_id"] = "42"
    adapter = make_adapter()
    (event,) = adapter.split_delivery(payload)
    assert adapter.parse_event(event.payload)[0].parent_post is None


def test_x_poll_carries_the_brands_post_its_image_and_pictures():
    """Mentions are read with the post they answer and its media: nothing
    to look up; the post is billed once (an owned read)."""
    with FakeXServer(me_id=OWN_ID) as fake:
        fake.add_user(
            "2001",
            "customer",
            profile_image_url="https://pbs.twimg.com/profile_images/1/a_normal.png",
        )
        brand_post = fake.add_post(
            OWN_ID, "Our <new> grinder", image_url="https://pbs.twimg.com/media/g.jpg"
        )
        reply = fake.add_mention("2001", "mine broke", reply_to=brand_post["id"])
        adapter = make_adapter(fake)
        result = adapter.poll({})
        (request,) = fake.requests_to(MENTIONS)
    messages = {m.message_id: m for m in messages_of(adapter, result.events)}
    message = messages[reply["id"]]
    assert message.author.avatar_url == ("https://pbs.twimg.com/profile_images/1/a.png")
    assert message.parent_post == ParentPost(
        post_id=brand_post["id"],
        text="Our <new> grinder",
        url=f"https://x.com/i/web/status/{brand_post['id']}",
        image_url="https://pbs.twimg.com/media/g.jpg",
    )
    assert message.attachments == (), "the post's photo is not the customer's"
    assert "referenced_tweets.id" in request.query["expansions"]
    assert "profile_image_url" in request.query["user.fields"]
    assert f"post:{brand_post['id']}" in result.reads["resource_ids"]
    assert "post" not in result.reads  # no post of anyone else


def test_x_fetch_post_reads_the_post_once_billed():
    with FakeXServer(me_id=OWN_ID) as fake:
        post = fake.add_post(
            OWN_ID, "Spring sale", image_url="https://pbs.twimg.com/media/s.jpg"
        )
        found = make_adapter(fake).fetch_post("x", post["id"])
        assert len(fake.requests_to(POST_LOOKUP)) == 1
    assert (found.text, found.image_url) == (
        "Spring sale",
        "https://pbs.twimg.com/media/s.jpg",
    )
    assert found.reads["owned_post"] == 1
    assert found.reads["resource_ids"] == [f"post:{post['id']}"]


# -- Meta -----------------------------------------------------------------------
@pytest.fixture
def graph():
    with FakeMetaServer() as server:
        yield server


def meta_adapter(graph):
    return MetaAdapter(
        graph.config(instagram_account_id=CONFIG["instagram_account_id"])
    )


def test_meta_comments_on_a_post_name_it_and_answers_to_comments_do_not():
    adapter = MetaAdapter(dict(CONFIG), clock=lambda: NOW)
    comment = only_message(adapter, "feed_comment_add")
    assert comment.parent_post == ParentPost(POST_ID)
    instagram = only_message(adapter, "instagram_comment")
    assert instagram.parent_post == ParentPost(MEDIA_ID)
    # An answer to another comment quotes that comment, not the post.
    answer = dict(only_event(adapter, "feed_comment_add").payload)
    answer["change"] = copy.deepcopy(answer["change"])
    answer["change"]["value"]["parent_id"] = "122131676912594941_1"
    assert adapter.parse_event(answer)[0].parent_post is None


def test_meta_profile_pictures_from_the_user_profile_api(graph):
    graph.add_profile(PSID, name="Jane", profile_pic="https://scontent.example/j.jpg")
    graph.add_profile(IGSID, username="jane", profile_pic="https://cdn.example/i.jpg")
    adapter = meta_adapter(graph)
    assert adapter.profile_picture_url("messenger", PSID) == (
        "https://scontent.example/j.jpg"
    )
    assert adapter.profile_picture_url("instagram", IGSID) == (
        "https://cdn.example/i.jpg"
    )
    (messenger, instagram) = graph.requests_to("GET node")
    assert messenger.query["fields"] == "name,profile_pic"
    assert instagram.query["fields"] == "name,username,profile_pic"
    # A Facebook commenter's picture is not given to pages: no call.
    assert adapter.profile_picture_url("facebook", "7216389548374411") == ""
    assert len(graph.requests_to("GET node")) == 2


def test_meta_fetch_post_and_instagram_media(graph):
    graph.add_post(
        POST_ID,
        "Our <b>spring</b> menu",
        NOW,
        full_picture="https://scontent.example/p.jpg",
        permalink_url="https://www.facebook.com/acme/posts/1",
    )
    graph.add_media(
        MEDIA_ID,
        NOW,
        caption="New colours",
        media_type="VIDEO",
        media_url="https://cdn.example/v.mp4",
        thumbnail_url="https://cdn.example/v.jpg",
        permalink="https://www.instagram.com/p/abc/",
    )
    adapter = meta_adapter(graph)
    post = adapter.fetch_post("facebook", POST_ID)
    assert post == ParentPost(
        POST_ID,
        "Our <b>spring</b> menu",
        "https://www.facebook.com/acme/posts/1",
        "https://scontent.example/p.jpg",
    )
    media = adapter.fetch_post("instagram", MEDIA_ID)
    assert media == ParentPost(
        MEDIA_ID,
        "New colours",
        "https://www.instagram.com/p/abc/",
        "https://cdn.example/v.jpg",  # a video quotes its thumbnail
    )
    assert post.reads == {} and media.reads == {}


# -- images ---------------------------------------------------------------------
def test_only_real_images_pass_for_pictures():
    assert image_mimetype(PNG) == "image/png"
    assert image_mimetype(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert image_mimetype(b"GIF89a...") == "image/gif"
    assert image_mimetype(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_mimetype(b"<svg onload='alert(1)'/>") == ""
    assert image_mimetype(b"<html>") == ""
    assert image_mimetype(b"") == ""
