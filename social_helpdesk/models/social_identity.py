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
    def _find_or_create(self, authors):
        """The identities of ``authors`` ((channel, adapter Author) pairs of
        distinct users), in order, created with a new contact each when
        unknown; profile data is refreshed. Set-based: one search, one
        update, one create of contacts and one of identities. The caller
        holds a lock on each author, so two workers never race here; one
        whose snapshot is older than the other's commit fails
        (SerializationFailure or UniqueViolation) and processes the events
        again later."""
        keys = [
            (identity_network(channel), author.external_id)
            for channel, author in authors
        ]
        found = {
            (identity.network, identity.external_id): identity
            for identity in self.search(
                [("external_id", "in", [external_id for _network, external_id in keys])]
            )
        }
        known = self.browse([found[key].id for key in keys if key in found])
        if known:
            # Touch the rows: a worker whose snapshot predates another's
            # committed work on these customers then fails to serialize, and
            # retries with fresh data instead of opening a second ticket.
            with mute_logger("odoo.sql_db"):  # an expected conflict, retried
                self.env.cr.execute(
                    "UPDATE social_identity SET write_date = NOW() AT TIME ZONE 'UTC' "
                    "WHERE id = ANY(%s)",
                    [known.ids],
                )
        missing = []
        for key, (_channel, author) in zip(keys, authors, strict=True):
            values = _profile_values(author)
            identity = found.get(key)
            if identity:
                changed = {
                    name: value
                    for name, value in values.items()
                    if identity[name] != value
                }
                if changed:
                    identity.write(changed)
            else:
                missing.append((key, values, author))
        if missing:
            # The identity says where each contact came from: no creation note.
            partners = (
                self.env["res.partner"]
                .with_context(mail_create_nolog=True)
                .create(
                    [
                        {"name": author.name or author.handle or author.external_id}
                        for _key, _values, author in missing
                    ]
                )
            )
            with mute_logger("odoo.sql_db"):  # a concurrent first message: retried
                created = self.create(
                    [
                        dict(
                            values,
                            network=key[0],
                            external_id=key[1],
                            partner_id=partner.id,
                        )
                        for (key, values, _author), partner in zip(
                            missing, partners, strict=True
                        )
                    ]
                )
            found.update(
                zip((key for key, _values, _author in missing), created, strict=True)
            )
        return [found[key] for key in keys]


def _profile_values(author):
    """The identity fields an adapter Author refreshes."""
    values = {
        "handle": author.handle or False,
        "display_label": author.name or False,
        "profile_url": author.profile_url or False,
    }
    if author.followers_count is not None:
        values["followers_count"] = author.followers_count
    return values
