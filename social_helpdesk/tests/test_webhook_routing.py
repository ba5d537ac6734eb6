# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Webhook events filed under the accounts they are addressed to, through
Odoo's real HTTP server with real signatures. A Meta app has one callback URL
for all its pages, and an X app one webhook for every account subscribed to
it: the signature proves the sender holds the app's secret, so an event may go
to any account holding it, never to another."""

import base64
import hashlib
import hmac
import json
import time

from odoo.tests import HttpCase, tagged

META_SECRET = "routing-meta-app-secret"
OTHER_META_SECRET = "routing-other-meta-app-secret"
X_SECRET = "routing-x-consumer-secret"
OTHER_X_SECRET = "routing-other-x-consumer-secret"
PAGE_A, INSTAGRAM_A, PAGE_B, PAGE_C = "5001", "17841400000005001", "5002", "5003"
WABA, PHONE_NUMBER_ID = "102290129340398", "106540352242922"
STRANGER = "5999"  # a page that no account owns
USER_A, USER_B, USER_C = "7001", "7002", "7003"
CUSTOMER = {"id": "6001", "name": "Lucía Gómez"}


@tagged("post_install", "-at_install")
class TestWebhookRouting(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Routing"})
        cls.page_a = cls.meta_account("Page A", PAGE_A, instagram=INSTAGRAM_A)
        cls.page_b = cls.meta_account("Page B", PAGE_B)
        cls.page_c = cls.meta_account("Page C", PAGE_C, secret=OTHER_META_SECRET)
        cls.x_a = cls.x_account("X A", USER_A)
        cls.x_b = cls.x_account("X B", USER_B)
        cls.x_c = cls.x_account("X C", USER_C, secret=OTHER_X_SECRET)
        # The WhatsApp number of page A and B's Meta app.
        cls.whatsapp = cls.env["social.account"].create(
            {
                "name": "WhatsApp A",
                "network": "whatsapp",
                "team_id": cls.team.id,
                "whatsapp_business_account_id": WABA,
                "whatsapp_phone_number_id": PHONE_NUMBER_ID,
                "meta_app_secret": META_SECRET,
            }
        )
        cls.Event = cls.env["social.event"]

    @classmethod
    def meta_account(cls, name, page, instagram=False, secret=META_SECRET):
        return cls.env["social.account"].create(
            {
                "name": name,
                "network": "meta",
                "team_id": cls.team.id,
                "poll_enabled": False,
                "meta_page_id": page,
                "meta_instagram_account_id": instagram,
                "meta_app_secret": secret,
            }
        )

    @classmethod
    def x_account(cls, name, user_id, secret=X_SECRET):
        return cls.env["social.account"].create(
            {
                "name": name,
                "network": "x",
                "team_id": cls.team.id,
                "poll_enabled": False,
                "x_user_id": user_id,
                "x_api_secret": secret,
            }
        )

    # -- deliveries ---------------------------------------------------------
    def post(self, account, raw, headers):
        url = f"/social_helpdesk/webhook/{account.network}/{account.webhook_token}"
        headers = dict(headers, **{"Content-Type": "application/json"})
        return self.url_open(url, data=raw, headers=headers)

    def deliver_meta(self, account, *entries, obj="page", secret=META_SECRET):
        """Meta's delivery of ``entries`` to ``account``'s URL; its answer."""
        raw = json.dumps({"object": obj, "entry": list(entries)}).encode()
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        response = self.post(account, raw, {"X-Hub-Signature-256": f"sha256={digest}"})
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def deliver_whatsapp(self, account, wamid, secret=META_SECRET):
        """Meta's delivery of one WhatsApp text to ``account``'s URL, in the
        Cloud API's documented shape; its answer."""
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "34910000000",
                "phone_number_id": PHONE_NUMBER_ID,
            },
            "contacts": [{"profile": {"name": "Ana Ruiz"}, "wa_id": "34612345678"}],
            "messages": [
                {
                    "from": "34612345678",
                    "id": wamid,
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": "¿Dónde está mi pedido?"},
                }
            ],
        }
        entry = {"id": WABA, "changes": [{"field": "messages", "value": value}]}
        return self.deliver_meta(
            account, entry, obj="whatsapp_business_account", secret=secret
        )

    def deliver_x(self, account, body, secret=X_SECRET):
        """X's delivery of ``body`` to ``account``'s URL; its answer."""
        raw = json.dumps(body).encode()
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
        signature = "sha256=" + base64.b64encode(digest).decode()
        response = self.post(account, raw, {"x-twitter-webhooks-signature": signature})
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def comment(self, page, comment_id, text="Where is my order?"):
        now = int(time.time())
        return {
            "id": page,
            "time": now,
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "comment_id": comment_id,
                        "post_id": f"{page}_1",
                        "parent_id": f"{page}_1",
                        "from": CUSTOMER,
                        "message": text,
                        "created_time": now,
                    },
                }
            ],
        }

    def dm_for(self, user_id, dm_id, text="Hello, my parcel is late"):
        """A legacy Account Activity delivery of one DM to ``user_id``."""
        return {
            "for_user_id": user_id,
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": dm_id,
                    "created_timestamp": str(int(time.time() * 1000)),
                    "message_create": {
                        "target": {"recipient_id": user_id},
                        "sender_id": CUSTOMER["id"],
                        "message_data": {"text": text, "entities": {}},
                    },
                }
            ],
        }

    def mention(self, post_id, user_id=None):
        """An X Activity API mention, for ``user_id`` when given."""
        data = {
            "event_type": "post.mention.create",
            "payload": {
                "id": post_id,
                "text": "@brand help",
                "author_id": CUSTOMER["id"],
                "created_at": "2026-07-24T21:23:23.000Z",
            },
        }
        if user_id:
            data["filter"] = {"user_id": user_id}
        return {"data": data}

    def events(self, account, state=None):
        domain = [("account_id", "=", account.id)]
        if state:
            domain.append(("state", "=", state))
        return self.Event.search(domain)

    def messages(self, account):
        return self.env["social.message"].search([("account_id", "=", account.id)])

    # -- Meta -----------------------------------------------------------------
    def test_one_delivery_for_two_pages_files_each_entry_under_its_page(self):
        entries = self.comment(PAGE_A, "a_1"), self.comment(PAGE_B, "b_1")
        answer = self.deliver_meta(self.page_a, *entries)
        self.assertEqual(
            (answer["received"], answer["duplicates"], answer["rejected"]), (2, 0, 0)
        )
        self.assertEqual(len(self.events(self.page_a, "new")), 1)
        self.assertEqual(len(self.events(self.page_b, "new")), 1)
        # Any URL of the app's accounts serves: a redelivery is dropped.
        again = self.deliver_meta(self.page_b, *entries)
        self.assertEqual((again["duplicates"], again["rejected"]), (2, 0))
        self.Event._cron_process()
        self.assertEqual(self.messages(self.page_a).mapped("external_id"), ["a_1"])
        self.assertEqual(self.messages(self.page_b).mapped("external_id"), ["b_1"])
        self.assertEqual(len(self.messages(self.page_b).ticket_id), 1)

    def test_instagram_entry_goes_to_the_account_of_its_instagram_id(self):
        entry = {
            "id": INSTAGRAM_A,
            "time": int(time.time()),
            "changes": [
                {
                    "field": "comments",
                    "value": {
                        "id": "ig_1",
                        "text": "Love it, but it leaks",
                        "from": {"id": "8001", "username": "ana"},
                        "media": {"id": "ig_media_1"},
                    },
                }
            ],
        }
        self.deliver_meta(self.page_b, entry, obj="instagram")
        self.assertEqual(len(self.events(self.page_a, "new")), 1)
        self.assertFalse(self.events(self.page_b))

    def test_entry_for_a_page_no_account_owns_is_rejected_with_its_reason(self):
        entries = self.comment(PAGE_A, "a_2"), self.comment(STRANGER, "s_1")
        answer = self.deliver_meta(self.page_a, *entries)
        self.assertEqual((answer["received"], answer["rejected"]), (2, 1))
        rejected = self.events(self.page_a, "rejected")
        self.assertEqual(len(rejected), 1)
        self.assertEqual(
            rejected.ignore_reason,
            f"Addressed to page or Instagram account {STRANGER}, which no account "
            "of this app owns.",
        )
        self.assertEqual(rejected.payload["entry_id"], STRANGER)
        self.Event._cron_process()
        self.assertEqual(rejected.state, "rejected", "never processed")
        self.assertEqual(self.messages(self.page_a).mapped("external_id"), ["a_2"])
        self.assertFalse(
            self.env["social.message"].search([("external_id", "=", "s_1")])
        )
        self.assertFalse(
            self.env["helpdesk.ticket"].search(
                [("description", "ilike", "Where is my order")]
            )
            - self.messages(self.page_a).ticket_id
        )
        # An admin's retry leaves it alone: it is no account's to process.
        rejected.action_retry()
        self.assertEqual(rejected.state, "rejected")

    def test_entry_for_a_page_of_another_app_is_rejected(self):
        """Page C's account has its own app secret: an entry for page C signed
        with the secret of pages A and B is not filed under it."""
        answer = self.deliver_meta(self.page_a, self.comment(PAGE_C, "c_1"))
        self.assertEqual(answer["rejected"], 1)
        self.assertEqual(len(self.events(self.page_a, "rejected")), 1)
        self.assertFalse(self.events(self.page_c))
        raw = json.dumps({"object": "page", "entry": [self.comment(PAGE_C, "c_2")]})
        digest = hmac.new(META_SECRET.encode(), raw.encode(), hashlib.sha256)
        signature = {"X-Hub-Signature-256": f"sha256={digest.hexdigest()}"}
        self.assertEqual(
            self.post(self.page_c, raw.encode(), signature).status_code, 403
        )

    def test_a_delivery_of_foreign_entries_only_is_acknowledged(self):
        """Refused, Meta would retry it, then disable the app's webhook, and
        with it every page's deliveries."""
        entries = self.comment(STRANGER, "s_2"), self.comment("5998", "s_3")
        for _delivery in range(2):
            answer = self.deliver_meta(self.page_b, *entries)
            self.assertEqual(
                (answer["received"], answer["duplicates"], answer["rejected"]),
                (2, 0, 2),
            )
        self.assertEqual(len(self.events(self.page_b, "rejected")), 2, "kept once")
        self.assertEqual(len(self.events(self.page_b)), 2)
        # Others' traffic is not this account's: it still reads as silent.
        self.page_b.invalidate_recordset()
        self.assertFalse(self.page_b.last_webhook_date)
        self.assertFalse(self.page_b.last_event_date)

    def test_a_rejected_entry_is_filed_once_its_page_is_connected(self):
        entry = self.comment(STRANGER, "s_4")
        self.deliver_meta(self.page_a, entry)
        page_d = self.meta_account("Page D", STRANGER)
        answer = self.deliver_meta(self.page_a, entry)
        self.assertEqual((answer["duplicates"], answer["rejected"]), (0, 0))
        self.Event._cron_process()
        self.assertEqual(self.messages(page_d).mapped("external_id"), ["s_4"])
        # The same once the URL's own account is the one fixed: its rejected
        # copy is no duplicate of the event it then receives.
        later = self.comment("5997", "s_5")
        self.deliver_meta(self.page_b, later)
        self.page_b.meta_page_id = "5997"
        answer = self.deliver_meta(self.page_b, later)
        self.assertEqual((answer["duplicates"], answer["rejected"]), (0, 0))
        self.assertEqual(len(self.events(self.page_b, "rejected")), 1)
        self.assertEqual(len(self.events(self.page_b, "new")), 1)

    def test_a_page_of_two_accounts_goes_to_neither_but_through_its_own_url(self):
        twin = self.meta_account("Page B again", PAGE_B)
        answer = self.deliver_meta(self.page_a, self.comment(PAGE_B, "b_2"))
        self.assertEqual(answer["rejected"], 1)
        self.assertEqual(
            self.events(self.page_a, "rejected").ignore_reason,
            f"Addressed to page or Instagram account {PAGE_B}, which several "
            "accounts of this app own.",
        )
        self.deliver_meta(twin, self.comment(PAGE_B, "b_3"))
        self.assertEqual(len(self.events(twin, "new")), 1)
        self.assertFalse(self.events(self.page_b))

    # -- one callback URL for all the Meta app's objects ------------------
    def test_whatsapp_delivery_on_a_page_url_goes_to_the_whatsapp_number(self):
        """An app that gives its WhatsApp Business Account the callback URL
        of its pages: the delivery is WhatsApp's, filed under the number."""
        answer = self.deliver_whatsapp(self.page_a, "wamid.shared1")
        self.assertEqual((answer["received"], answer["rejected"]), (1, 0))
        self.assertFalse(self.events(self.page_a))
        self.assertEqual(
            self.events(self.whatsapp, "new").mapped("external_id"),
            ["wa:msg:wamid.shared1"],
        )
        self.Event._cron_process()
        message = self.messages(self.whatsapp)
        self.assertEqual(message.ticket_id.channel_id.code, "whatsapp")
        # And the other way round: a page's delivery on the number's URL.
        self.deliver_meta(self.whatsapp, self.comment(PAGE_B, "b_shared"))
        self.assertEqual(len(self.events(self.page_b, "new")), 1)
        self.assertEqual(len(self.events(self.whatsapp)), 1)

    def test_whatsapp_delivery_of_another_app_is_kept_rejected(self):
        """Page C's app has no WhatsApp number here: its WhatsApp delivery
        is kept under page C, rejected with the number it names, and
        acknowledged, so that Meta does not disable the app's webhook."""
        answer = self.deliver_whatsapp(self.page_c, "wamid.other", OTHER_META_SECRET)
        self.assertEqual(answer["rejected"], 1)
        rejected = self.events(self.page_c, "rejected")
        self.assertIn(
            f"WhatsApp phone number id {PHONE_NUMBER_ID}", rejected.ignore_reason
        )
        self.assertFalse(self.events(self.whatsapp))

    # -- X ------------------------------------------------------------------
    def test_x_delivery_goes_to_the_account_of_its_user(self):
        answer = self.deliver_x(self.x_a, self.dm_for(USER_B, "9100000000000000001"))
        self.assertEqual((answer["received"], answer["rejected"]), (1, 0))
        self.assertFalse(self.events(self.x_a))
        self.assertEqual(len(self.events(self.x_b, "new")), 1)
        again = self.deliver_x(self.x_b, self.dm_for(USER_B, "9100000000000000001"))
        self.assertEqual(again["duplicates"], 1)
        self.Event._cron_process()
        self.assertEqual(
            self.messages(self.x_b).mapped("text"), ["Hello, my parcel is late"]
        )
        self.assertFalse(self.messages(self.x_a))

    def test_x_delivery_for_a_user_of_another_app_is_rejected(self):
        answer = self.deliver_x(self.x_a, self.dm_for(USER_C, "9100000000000000002"))
        self.assertEqual(answer["rejected"], 1)
        self.assertEqual(
            self.events(self.x_a, "rejected").ignore_reason,
            f"Addressed to X user {USER_C}, which no account of this app owns.",
        )
        self.assertFalse(self.events(self.x_c))

    def test_x_event_that_names_no_user_goes_only_to_an_account_alone(self):
        answer = self.deliver_x(self.x_a, self.mention("9100000000000000003"))
        self.assertEqual(answer["rejected"], 1)
        self.assertIn("does not say which account", self.events(self.x_a).ignore_reason)
        mention = self.mention("9100000000000000004")
        answer = self.deliver_x(self.x_c, mention, secret=OTHER_X_SECRET)
        self.assertEqual(answer["rejected"], 0)
        self.assertEqual(len(self.events(self.x_c, "new")), 1)
        addressed = self.mention("9100000000000000005", user_id=USER_A)
        self.assertEqual(self.deliver_x(self.x_b, addressed)["rejected"], 0)
        self.assertEqual(len(self.events(self.x_a, "new")), 1)
