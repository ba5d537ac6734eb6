# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.tools import SQL

# A poll reports resources as "<type>:<id>"; the type names its price.
PRICE_OF_RESOURCE = {
    "post": "owned_post",  # the account's own posts (mentions, its posts quoted)
    "tweet": "post",  # others' posts
    "dm_event": "dm_event",
    "user": "user",
}


class SocialApiRead(models.Model):
    """One billable resource read per account and UTC day: the network bills a
    resource once a day, so the unique key deduplicates exactly as it does.
    Writes are recorded here too, one per request (``<type>:reply-<id>``):
    each reply posted is billed."""

    _name = "social.api.read"
    _description = "Social API Billable Read"
    _log_access = False

    account_id = fields.Many2one(
        "social.account", required=True, ondelete="cascade", index=True
    )
    day = fields.Date(required=True, help="UTC day of the read.")
    resource_type = fields.Char(required=True)
    resource_key = fields.Char(required=True)

    _sql_constraints = [
        (
            "resource_day_uniq",
            "unique(account_id, day, resource_key)",
            "A resource is billed once per day.",
        )
    ]

    @api.model
    def _record(self, account, resource_ids, day):
        """Store the day's reads; returns how many were new, i.e. billed."""
        rows = [
            SQL(
                "(%s, %s, %s, %s)",
                account.id,
                day,
                PRICE_OF_RESOURCE.get(key.split(":", 1)[0], key.split(":", 1)[0]),
                key,
            )
            for key in set(resource_ids)
        ]
        if not rows:
            return 0
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_api_read (account_id, day, resource_type,
                    resource_key)
                VALUES %s
                ON CONFLICT (account_id, day, resource_key) DO NOTHING
                """,
                SQL(", ").join(rows),
            )
        )
        return self.env.cr.rowcount

    @api.model
    def _spend(self, accounts, date_from):
        """Estimated spend in USD per account since ``date_from``."""
        if not accounts:
            return {}
        self.env.cr.execute(
            SQL(
                """
                SELECT r.account_id, SUM(p.unit_price)
                FROM social_api_read r
                JOIN social_account a ON a.id = r.account_id
                JOIN social_api_price p
                  ON p.network = a.network AND p.resource_type = r.resource_type
                WHERE r.account_id IN %s AND r.day >= %s
                GROUP BY r.account_id
                """,
                tuple(accounts.ids),
                date_from,
            )
        )
        return dict(self.env.cr.fetchall())
