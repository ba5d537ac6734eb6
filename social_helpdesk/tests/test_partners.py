# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from .common import SocialCase, demo_item


class TestPartners(SocialCase):
    def test_identity_is_reused_across_tickets(self):
        first = demo_item("Question one", author="u-20", conversation="a")
        second = demo_item("Another topic", author="u-20", conversation="b")
        self.deliver(first, second)
        one, two = self.message_of(first), self.message_of(second)
        self.assertNotEqual(one.ticket_id, two.ticket_id)
        self.assertEqual(one.identity_id, two.identity_id)
        self.assertEqual(one.ticket_id.partner_id, two.ticket_id.partner_id)
        identities = self.env["social.identity"].search(
            [("network", "=", "x"), ("external_id", "=", "u-20")]
        )
        self.assertEqual(len(identities), 1)

    def test_profile_changes_are_refreshed(self):
        self.deliver(demo_item("hi", author="u-21", handle="old", followers=5))
        self.deliver(demo_item("hi again", author="u-21", handle="new", followers=900))
        identity = self.env["social.identity"].search([("external_id", "=", "u-21")])
        self.assertEqual(identity.handle, "new")
        self.assertEqual(identity.followers_count, 900)

    def test_sparse_author_keeps_known_profile(self):
        """An Instagram DM carries no username, an X reply may come without
        ``includes``: what is known of the customer stays."""
        first = demo_item(
            "Hello", author="u-22", channel="instagram", handle="ana", name="Ana"
        )
        self.deliver(first)
        identity = self.message_of(first).identity_id
        identity.profile_url = "https://instagram.com/ana"
        sparse = demo_item(
            "Are you there?", author="u-22", channel="instagram", kind="private"
        )
        del sparse["author"]["handle"], sparse["author"]["name"]
        self.deliver(sparse)
        self.assertEqual(self.message_of(sparse).identity_id, identity)
        self.assertEqual(identity.handle, "ana")
        self.assertEqual(identity.display_label, "Ana")
        self.assertEqual(identity.profile_url, "https://instagram.com/ana")
        self.deliver(
            demo_item("New name", author="u-22", channel="instagram", handle="ana_b")
        )
        self.assertEqual(identity.handle, "ana_b")
        self.assertEqual(identity.display_label, "Customer u-22")
        self.assertEqual(identity.profile_url, "https://instagram.com/ana")

    def test_linked_identity_routes_to_its_partner(self):
        caller = self.env["res.partner"].create(
            {"name": "Marta (called us)", "phone": "+34 600 000 000"}
        )
        first = demo_item("My coffee tastes burnt", author="u-22", conversation="k")
        self.deliver(first)
        identity = self.message_of(first).identity_id
        wizard = self.env["social.identity.link.wizard"].create(
            {"identity_id": identity.id, "partner_id": caller.id}
        )
        wizard.action_link()
        self.assertEqual(identity.partner_id, caller)
        self.assertEqual(self.message_of(first).ticket_id.partner_id, caller)
        later = demo_item("New question", author="u-22", conversation="other")
        self.deliver(later)
        self.assertEqual(self.message_of(later).ticket_id.partner_id, caller)
        self.assertIn(identity, caller.social_identity_ids)

    def test_partner_merge_keeps_identities(self):
        first = demo_item("hello", author="u-23")
        self.deliver(first)
        social_partner = self.message_of(first).partner_id
        identity = self.message_of(first).identity_id
        customer = self.env["res.partner"].create(
            {"name": "Same person", "email": "same@example.com"}
        )
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((social_partner | customer).ids, customer)
        self.assertFalse(social_partner.exists())
        self.assertEqual(identity.partner_id, customer)
        self.assertIn(identity, customer.social_identity_ids)
