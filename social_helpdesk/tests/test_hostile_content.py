# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import re

from odoo.tests import HttpCase, tagged

from .common import demo_item

# The hostile customer; static/tests/tours/hostile_content_tour.esm.js holds
# the same strings. Every payload sets window.__sh_xss if it ever runs.
MARKER = "zqxhostile"
TEXT_IMG = "<img src=x onerror=\"window.__sh_xss='text-img'\">"
TEXT_SCRIPT = "<script>window.__sh_xss='text-script'</script>"
TEXT = f"{MARKER} {TEXT_IMG} {TEXT_SCRIPT} my parcel never arrived"
HANDLE = "<svg/onload=\"window.__sh_xss='handle'\">"
NAME = (
    "<b onmouseover=\"window.__sh_xss='name-hover'\">Mallory</b>"
    "<img src=y onerror=\"window.__sh_xss='name-img'\">"
)
TITLE_START = f"{MARKER} <img src=x"
# Customer markup parsed as HTML, even once a sanitizer has cleaned it: none
# of it may reach a page, only its escaped form.
LIVE_MARKUP = re.compile(
    r"<img\b[^>]*\bsrc=[\"']?[xy]\b|<script>window|<svg\b[^>]*onload"
    r"|<b\b[^>]*onmouseover|<b>Mallory",
    re.IGNORECASE,
)


@tagged("post_install", "-at_install")
class TestHostileContent(HttpCase):
    """HTML and script in a post, a handle and a display name are shown as
    text wherever agents and customers see them, and never run."""

    def setUp(self):
        super().setUp()
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Hostile team", "show_in_portal": True}
        )
        account = self.env["social.account"].create(
            {
                "name": "Hostile demo",
                "network": "demo",
                "state": "connected",
                "team_id": team.id,
            }
        )
        # The opening post becomes the ticket's description and creation
        # message; the follow-up is a comment, which the portal chatter shows.
        items = [
            demo_item(TEXT, author="u-hostile", handle=HANDLE, name=NAME)
            for _post in range(2)
        ]
        events = account._get_adapter().split_delivery({"messages": items})
        self.env["social.event"]._store(account, events)
        self.env["social.event"]._cron_process()
        self.message = self.env["social.message"].search(
            [("account_id", "=", account.id)], order="id", limit=1
        )
        self.ticket = self.message.ticket_id
        self.partner = self.ticket.partner_id
        self.portal_user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "hostile_portal",
                    "password": "hostile_portal",
                    "partner_id": self.partner.id,
                    "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
                }
            )
        )

    def test_hostile_values_are_stored_as_text(self):
        """Plain fields keep the customer's text as is; HTML fields hold it
        escaped."""
        self.assertEqual(len(self.ticket), 1)
        self.assertEqual(self.partner.name, NAME)
        self.assertEqual(self.ticket.social_author_handle, HANDLE)
        self.assertEqual(self.message.identity_id.handle, HANDLE)
        self.assertEqual(self.message.identity_id.display_label, NAME)
        self.assertTrue(self.ticket.name.startswith(TITLE_START), self.ticket.name)
        for html in (str(self.message.mail_message_id.body), self.ticket.description):
            self.assertIn("&lt;img src=x onerror=", html)
            self.assertIn("&lt;script&gt;window.__sh_xss=", html)
            self.assertFalse(LIVE_MARKUP.search(html), html)
        self.assertEqual(self.message.mail_message_id.author_id, self.partner)

    def test_portal_pages_serve_escaped_html(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        # The title is the customer's text, without their handle.
        pages = {
            "/my/tickets": ["&lt;b onmouseover="],
            f"/my/ticket/{self.ticket.id}": [
                "&lt;b onmouseover=",
                "&lt;img src=x onerror=",
                "&lt;script&gt;window.__sh_xss=",
            ],
        }
        for url, escaped in pages.items():
            response = self.url_open(url, allow_redirects=False)
            self.assertEqual(response.status_code, 200, url)
            page = response.text
            self.assertIn(MARKER, page, url)
            for text in escaped:
                self.assertIn(text, page, url)
            live = LIVE_MARKUP.search(page)
            self.assertFalse(live, f"{url}: {live and live.group()}")

    def test_backend_tour_runs_nothing(self):
        """List, kanban, form and chatter, as an agent."""
        self.start_tour(
            "/odoo/helpdesk-tickets",
            "social_helpdesk_hostile_backend_tour",
            login="admin",
        )

    def test_portal_tour_runs_nothing(self):
        """My tickets, the ticket page and its chatter, as the customer."""
        self.start_tour(
            "/my/tickets", "social_helpdesk_hostile_portal_tour", login="hostile_portal"
        )
