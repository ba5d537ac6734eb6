# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.tools import mute_logger

IDENTITY_NETWORKS = [("x", "X"), ("facebook", "Facebook"), ("instagram", "Instagram")]
# Messenger ids are scoped to the Facebook page, like its comment authors'.
IDENTITY_NETWORK_OF_CHANNEL = {"messenger": "facebook"}


def identity_network(channel):
    """The namespace of a channel's user ids."""
    return IDENTITY_NETWORK_OF_CHANNEL.get(channel, channel)


class SocialIdentity(models.Model):
    """A customer's account on one network, attached to the contact that keeps
    their whole history across phone, email and social."""

    _name = "social.identity"
    _description = "Social Identity"
    _order = "network, handle, id"
    _rec_names_search = ["handle", "display_label", "external_id"]

    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    network = fields.Selection(IDENTITY_NETWORKS, required=True)
    external_id = fields.Char(
        "Network user id", required=True, help="The id the network gives this user."
    )
    handle = fields.Char(help="The user name, without @.")
    display_label = fields.Char("Display name")
    profile_url = fields.Char("Profile URL")
    followers_count = fields.Integer()
    blocked = fields.Boolean(
        help="Messages from a blocked identity are stored as ignored and open no "
        "ticket."
    )

    _sql_constraints = [
        (
            "network_external_id_uniq",
            "unique(network, external_id)",
            "This network user is already linked to a contact.",
        )
    ]

    @api.depends("network", "handle", "display_label", "external_id")
    def _compute_display_name(self):
        networks = dict(IDENTITY_NETWORKS)
        for identity in self:
            label = (
                f"@{identity.handle}"
                if identity.handle
                else identity.display_label or identity.external_id
            )
            identity.display_name = f"{networks.get(identity.network, '')} {label}"

    @api.model
    def _find_or_create(self, channel, author):
        """The identity of ``author`` (adapter Author) on ``channel``'s network,
        created with a new contact when unknown; profile data is refreshed. The
        caller holds a lock on the author, so two workers never race here; one
        whose snapshot is older than the other's commit fails (SerializationFailure
        or UniqueViolation) and processes the event again later."""
        network = identity_network(channel)
        identity = self.search(
            [("network", "=", network), ("external_id", "=", author.external_id)],
            limit=1,
        )
        values = {
            "handle": author.handle or False,
            "display_label": author.name or False,
            "profile_url": author.profile_url or False,
        }
        if author.followers_count is not None:
            values["followers_count"] = author.followers_count
        if identity:
            # Touch the row: a worker whose snapshot predates another's
            # committed work on this customer then fails to serialize, and
            # retries with fresh data instead of opening a second ticket.
            with mute_logger("odoo.sql_db"):  # an expected conflict, retried
                self.env.cr.execute(
                    "UPDATE social_identity SET write_date = NOW() AT TIME ZONE 'UTC' "
                    "WHERE id = %s",
                    [identity.id],
                )
            changed = {
                key: value for key, value in values.items() if identity[key] != value
            }
            if changed:
                identity.write(changed)
            return identity
        partner = self.env["res.partner"].create(
            {"name": author.name or author.handle or author.external_id}
        )
        with mute_logger("odoo.sql_db"):  # a concurrent first message: retried
            return self.create(
                dict(
                    values,
                    network=network,
                    external_id=author.external_id,
                    partner_id=partner.id,
                )
            )
