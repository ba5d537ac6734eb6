# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models


class SocialApiPrice(models.Model):
    """What a network bills per resource read: data, so that admins follow the
    network's price list without a code change."""

    _name = "social.api.price"
    _description = "Social API Price"
    _order = "network, resource_type"

    network = fields.Selection([("x", "X")], required=True, default="x")
    resource_type = fields.Char(
        required=True, help="The adapter's resource type, e.g. owned_post, user."
    )
    name = fields.Char(required=True, translate=True)
    unit_price = fields.Float(
        "Price per resource", digits=(16, 4), required=True, help="In US dollars."
    )

    _sql_constraints = [
        (
            "network_resource_uniq",
            "unique(network, resource_type)",
            "One price per network and resource type.",
        )
    ]

    @api.model
    def _estimate(self, network, reads):
        """USD cost of ``reads`` ({resource type: count}) at today's prices."""
        prices = {
            price.resource_type: price.unit_price
            for price in self.sudo().search([("network", "=", network)])
        }
        return sum(prices.get(kind, 0.0) * count for kind, count in reads.items())
