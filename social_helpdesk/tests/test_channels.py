# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.tests.common import TransactionCase
from odoo.tools import convert_file


class TestChannels(TransactionCase):
    def test_every_channel_has_a_stable_code(self):
        Channel = self.env["helpdesk.ticket.channel"]
        for code in ("web", "email", "phone", "other"):
            self.assertTrue(Channel._get_by_code(code), code)
            self.assertFalse(Channel._get_by_code(code).is_social)
        for code in ("x", "facebook", "messenger", "instagram"):
            self.assertTrue(Channel._get_by_code(code).is_social, code)

    def test_code_lookup_ignores_translated_names(self):
        channel = self.env.ref("social_helpdesk.channel_x")
        channel.with_context(lang="en_US").name = "Twitter / X"
        self.assertEqual(self.env["helpdesk.ticket.channel"]._get_by_code("x"), channel)

    def test_an_update_leaves_the_channels_as_they_were_set(self):
        """Written again by every update, the channels had Odoo recompute the
        network of every social ticket (650,000 at a million tickets); and an
        administrator's name for a channel was lost."""
        channel = self.env.ref("social_helpdesk.channel_facebook")
        channel.name = "Facebook page"
        self.env.flush_all()
        convert_file(
            self.env,
            "social_helpdesk",
            "data/helpdesk_ticket_channel_data.xml",
            {},
            mode="update",
        )
        self.env.invalidate_all()
        self.assertEqual(channel.name, "Facebook page")
        self.assertEqual(channel.code, "facebook")
