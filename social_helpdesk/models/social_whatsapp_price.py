# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models

OTHER_MARKET = "other"
PRICED_CATEGORIES = [
    ("marketing", "Marketing"),
    ("utility", "Utility"),
    ("authentication", "Authentication"),
    ("service", "Service"),
]


class SocialWhatsappPrice(models.Model):
    """What Meta bills per delivered WhatsApp message, by category and the
    recipient's market: data, so that admins follow Meta's rate card
    without a code change. A new card is new rows with a later
    ``valid_from``; the meter prices a message with the rows in force."""

    _name = "social.whatsapp.price"
    _description = "WhatsApp Message Price"
    _order = "market, category, valid_from desc"
    _rec_name = "market"

    category = fields.Selection(PRICED_CATEGORIES, required=True)
    market = fields.Char(
        required=True,
        help='The recipient\'s ISO country code (BR, MX...), or "other" for '
        "every market without a row of its own.",
    )
    price = fields.Float(
        "Price per message", digits=(16, 4), required=True, help="In US dollars."
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.ref("base.USD"),
        help="Meta's rate card in US dollars.",
    )
    valid_from = fields.Date(required=True)
    free_monthly_allowance = fields.Integer(
        "Free messages per month",
        help="Service messages of this category that each business number "
        "sends free every month before they are billed.",
    )

    _sql_constraints = [
        (
            "category_market_valid_from_uniq",
            "unique(category, market, valid_from)",
            "One price per category, market and start date.",
        )
    ]

    @api.model
    def _price_table(self, day):
        """{(category, market): (price, free allowance)} in force on ``day``."""
        table = {}
        for row in self.sudo().search(
            [("valid_from", "<=", day)], order="valid_from asc"
        ):
            table[(row.category, row.market)] = (row.price, row.free_monthly_allowance)
        return table

    @api.model
    def _lookup(self, table, category, market):
        """(price, allowance) of ``category`` in ``market`` from ``table``,
        else the "other" market's; (0, 0) for categories Meta does not bill
        (a free entry point's referral_conversion)."""
        return table.get((category, market or OTHER_MARKET)) or table.get(
            (category, OTHER_MARKET), (0.0, 0)
        )
