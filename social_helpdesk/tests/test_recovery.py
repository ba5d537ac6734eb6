# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Recovery after downtime on Meta: a page whose webhook went silent while
it usually hears from customers is polled for the missed window; what was
already received is not filed twice. (X's replay: test_x_current.)"""

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

from odoo.tests import HttpCase, tagged

from .fakes.fake_meta import FakeMetaServer

CUSTOMER = {"id": "6001", "name": "Lucía Gómez"}
POST_ID = "448242228374517_9001"


@tagged("post_install", "-at_install")
class TestMetaRecovery(HttpCase):
    def setUp(self):
        super().setUp()
        self.fake = FakeMetaServer().start()
        self.addCleanup(self.fake.stop)
        self.account = self.env["social.account"].create(
            {
                "name": "Acme page (recovery)",
                "network": "meta",
                "state": "connected",
                "meta_page_id": self.fake.page_id,
                "meta_page_access_token": self.fake.access_token,
                "meta_app_secret": self.fake.app_secret,
                "meta_verify_token": "fake-verify-token",
                "api_base_url": self.fake.base_url,
                "poll_enabled": False,
            }
        )
        self.Event = self.env["social.event"]

    def deliver_comment(self, comment_id, text):
        entry = {
            "id": self.fake.page_id,
            "time": int(time.time()),
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "comment_id": comment_id,
                        "post_id": POST_ID,
                        "parent_id": POST_ID,
                        "from": CUSTOMER,
                        "message": text,
                        "created_time": int(time.time()),
                    },
                }
            ],
        }
        raw = json.dumps({"object": "page", "entry": [entry]}).encode()
        signature = hmac.new(
            self.fake.app_secret.encode(), raw, hashlib.sha256
        ).hexdigest()
        response = self.url_open(
            f"/social_helpdesk/webhook/meta/{self.account.webhook_token}",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )
        self.assertEqual(response.status_code, 200)

    def test_a_silent_page_is_polled_for_the_missed_window(self):
        now = datetime.now(timezone.utc)
        self.fake.add_post(POST_ID, "New grinder!", now - timedelta(hours=4))
        self.fake.add_comment(
            "9001_1", POST_ID, "Before the outage", now - timedelta(hours=3), CUSTOMER
        )
        self.deliver_comment("9001_1", "Before the outage")
        self.deliver_comment("9001_0", "Yesterday, same time")
        # Received 3 hours ago, and yesterday at this time.
        self.env.cr.execute(
            """
            UPDATE social_event
            SET received_date = received_date - interval '3 hours'
                - CASE WHEN external_id LIKE '%%9001_0%%' THEN interval '1 day'
                       ELSE interval '0' END
            WHERE account_id = %s
            """,
            [self.account.id],
        )
        self.Event.invalidate_model()
        self.account.invalidate_recordset()
        # Missed while the webhook was down.
        self.fake.add_comment(
            "9001_2", POST_ID, "Anyone there?", now - timedelta(hours=2), CUSTOMER
        )
        self.env["social.account"]._cron_recover()
        ids = self.Event.search([("account_id", "=", self.account.id)]).mapped(
            "external_id"
        )
        self.assertEqual(len(ids), len(set(ids)), "each event once")
        self.assertTrue(any("9001_2" in external_id for external_id in ids))
        self.assertTrue(self.account.recovered_until)
        chatter = " ".join(self.account.message_ids.mapped("body"))
        self.assertIn("the network was polled for that window", chatter)
        self.assertIn("new events recovered", chatter)
        # Recovered: the next run asks nothing.
        polls = len(self.fake.requests)
        self.env["social.account"]._cron_recover()
        self.assertEqual(len(self.fake.requests), polls)
