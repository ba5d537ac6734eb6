# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from collections import defaultdict
from datetime import timezone

from odoo import api, fields, models
from odoo.tools import SQL

SERVICE = "service"


def month_of(moment):
    """The first day of the UTC month of ``moment`` (aware or naive UTC)."""
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc)
    return moment.date().replace(day=1)


class SocialWhatsappUsage(models.Model):
    """What a WhatsApp number's messages cost, per month, category and
    pricing model, as Meta reports each message's pricing in its statuses:
    the account's managers follow the spend against its budget."""

    _name = "social.whatsapp.usage"
    _description = "WhatsApp Usage"
    _order = "month desc, category"
    _rec_name = "category"

    account_id = fields.Many2one(
        "social.account", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        related="account_id.company_id", store=True, index=True
    )
    month = fields.Date(required=True, readonly=True, help="Its first day (UTC).")
    category = fields.Char(
        required=True,
        readonly=True,
        help="Meta's category: marketing, utility, authentication, service, or "
        "referral_conversion (a free entry point).",
    )
    pricing_model = fields.Char(
        required=True, readonly=True, help="PMP: per-message pricing."
    )
    message_count = fields.Integer("Messages", readonly=True)
    billable_count = fields.Integer(
        "Billable", readonly=True, help="Messages Meta said are billable."
    )
    free_count = fields.Integer(
        "Free",
        readonly=True,
        help="Messages not charged: not billable, or within the month's free "
        "allowance of service messages.",
    )
    cost = fields.Float("Cost (USD)", digits=(16, 4), readonly=True)

    _sql_constraints = [
        (
            "account_month_category_uniq",
            "unique(account_id, month, category, pricing_model)",
            "One usage line per account, month, category and pricing model.",
        )
    ]

    @api.model
    def _meter(self, account, statuses):
        """Count the priced messages of ``statuses`` (adapter DeliveryStatus
        items of ``account``) and their cost, in a few set-based queries
        whatever their number. Each message counts once, however many of its
        statuses carry its pricing (see ``social.whatsapp.billed``); its
        price is the one in force on its status's day in the recipient's
        market, and the service messages beyond the month's free allowance
        are charged. Returns the number of messages newly metered."""
        priced = {}
        for status in statuses:
            if (
                isinstance(status.pricing, dict)
                and status.message_id
                and status.status != "failed"
            ):
                priced.setdefault(status.message_id, status)
        if not priced:
            return 0
        now = fields.Datetime.now()
        rows = []
        for wamid, status in priced.items():
            pricing = status.pricing
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, 0)",
                    account.id,
                    wamid,
                    month_of(status.at or now),
                    str(pricing.get("category") or "unknown"),
                    str(pricing.get("pricing_model") or "PMP"),
                    pricing.get("billable") is not False,
                    (status.country or "").upper(),
                )
            )
        self.env["social.whatsapp.billed"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_whatsapp_billed (account_id, message_id, month,
                    category, pricing_model, billable, market, cost)
                VALUES %s
                ON CONFLICT (account_id, message_id) DO NOTHING
                RETURNING id, month, category, pricing_model, billable, market
                """,
                SQL(", ").join(rows),
            )
        )
        new = sorted(self.env.cr.fetchall())
        if new:
            self._add(account, new)
        return len(new)

    @api.model
    def _add(self, account, new):
        """Add the newly billed messages ``new`` (rows of id, month,
        category, pricing model, billable, market) to the month's lines and
        price them. The lines' upsert locks them first, so that two workers
        never both give away the same free allowance."""
        counts = defaultdict(lambda: [0, 0])
        for _id, month, category, model, billable, _market in new:
            counts[(month, category, model)][0] += 1
            counts[(month, category, model)][1] += int(billable)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_whatsapp_usage AS u (account_id, company_id,
                    month, category, pricing_model, message_count,
                    billable_count, free_count, cost)
                VALUES %s
                ON CONFLICT (account_id, month, category, pricing_model)
                DO UPDATE SET
                    message_count = u.message_count + EXCLUDED.message_count,
                    billable_count = u.billable_count + EXCLUDED.billable_count
                RETURNING id, month, category, pricing_model
                """,
                SQL(", ").join(
                    SQL(
                        "(%s, %s, %s, %s, %s, %s, %s, 0, 0)",
                        account.id,
                        account.company_id.id,
                        month,
                        category,
                        model,
                        number,
                        billable,
                    )
                    for (month, category, model), (number, billable) in counts.items()
                ),
            )
        )
        line_of = {tuple(row[1:]): row[0] for row in self.env.cr.fetchall()}
        service_before = self._service_sent_before(account, new)
        Price = self.env["social.whatsapp.price"]
        tables = {}
        costs, totals = [], defaultdict(lambda: [0, 0.0])
        for row_id, month, category, model, billable, market in new:
            table = tables.get(month)
            if table is None:
                table = tables[month] = Price._price_table(month)
            price, _allowance = Price._lookup(table, category, market)
            if category == SERVICE:
                service_before[month] += 1
                allowance = Price._lookup(table, SERVICE, "")[1]
                if service_before[month] <= allowance:
                    price = 0.0
            cost = price if billable else 0.0
            costs.append(SQL("(%s, %s::numeric)", row_id, cost))
            total = totals[line_of[(month, category, model)]]
            total[0] += int(not cost)
            total[1] += cost
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_whatsapp_billed b SET cost = v.cost
                FROM (VALUES %s) AS v(id, cost) WHERE b.id = v.id
                """,
                SQL(", ").join(costs),
            )
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_whatsapp_usage u
                SET free_count = u.free_count + v.free, cost = u.cost + v.cost
                FROM (VALUES %s) AS v(id, free, cost) WHERE u.id = v.id
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s::numeric)", line_id, free, cost)
                    for line_id, (free, cost) in totals.items()
                ),
            )
        )
        self.invalidate_model()
        self.env["social.whatsapp.billed"].invalidate_model()
        account.invalidate_recordset()

    @api.model
    def _service_sent_before(self, account, new):
        """{month: service messages metered before ``new``} (the lines are
        locked by the caller's upsert, which already counts ``new``)."""
        months = sorted({row[1] for row in new})
        self.env.cr.execute(
            SQL(
                """
                SELECT month, SUM(message_count) FROM social_whatsapp_usage
                WHERE account_id = %s AND category = %s AND month IN %s
                GROUP BY month
                """,
                account.id,
                SERVICE,
                tuple(months),
            )
        )
        before = defaultdict(int, self.env.cr.fetchall())
        for row in new:
            if row[2] == SERVICE:
                before[row[1]] -= 1
        return before

    @api.model
    def _spend(self, accounts, month):
        """{account id: cost of ``month``} in US dollars."""
        if not accounts:
            return {}
        rows = self.sudo()._read_group(
            [("account_id", "in", accounts.ids), ("month", "=", month)],
            ["account_id"],
            ["cost:sum"],
        )
        return {account.id: cost for account, cost in rows}

    @api.model
    def _service_count(self, account, month):
        """Service messages of ``account`` metered in ``month``."""
        rows = self.sudo()._read_group(
            [
                ("account_id", "=", account.id),
                ("month", "=", month),
                ("category", "=", SERVICE),
            ],
            [],
            ["message_count:sum"],
        )
        return rows[0][0] or 0
