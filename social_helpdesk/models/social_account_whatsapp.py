# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import AdapterError
from ..adapters.whatsapp.countries import country_of
from .access import MANAGER, require_group
from .social_whatsapp_usage import SERVICE, month_of

# The shares of the monthly budget at which the managers are warned.
BUDGET_WARNINGS = (80, 100)
# What WhatsApp leaves free after a customer came from an ad or a Page button.
FREE_ENTRY_POINT = timedelta(hours=72)


# One file per network's part of the account, beside social_account.py.
class SocialAccount(models.Model):
    """What a WhatsApp number costs: the month's spend from the meter
    (``social.whatsapp.usage``), a monthly budget that warns the account's
    followers at 80% and 100% and, once reached, stops the automatic
    messages (never an agent's reply), and the cost of a reply before it
    is sent."""

    _inherit = "social.account"  # pylint: disable=consider-merging-classes-inherited

    whatsapp_monthly_budget = fields.Float(
        "Monthly WhatsApp budget (USD)",
        help="The account's followers and its team's leader are warned at 80% "
        "and 100% of it; once reached, automatic messages (acknowledgements, "
        "satisfaction requests) are not sent until next month. Agents' replies "
        "are always sent. 0 means no budget.",
    )
    whatsapp_spend_month = fields.Float(
        "WhatsApp spend this month (USD)",
        compute="_compute_whatsapp_spend",
        digits=(16, 4),
    )
    whatsapp_budget_state = fields.Selection(
        [
            ("none", "No budget"),
            ("ok", "Within budget"),
            ("warning", "Over 80%"),
            ("reached", "Reached"),
        ],
        "Budget",
        compute="_compute_whatsapp_spend",
    )
    whatsapp_usage_ids = fields.One2many(
        "social.whatsapp.usage",
        "account_id",
        "WhatsApp usage",
        readonly=True,
        groups="helpdesk_mgmt.group_helpdesk_manager",
    )
    whatsapp_budget_warned_month = fields.Date(readonly=True, copy=False)
    whatsapp_budget_warned_pct = fields.Integer(
        readonly=True,
        copy=False,
        help="The last budget share the managers were warned of, in the month above.",
    )

    def _compute_whatsapp_spend(self):
        spend = self.env["social.whatsapp.usage"]._spend(
            self, month_of(fields.Datetime.now())
        )
        for account in self:
            account.whatsapp_spend_month = spend.get(account.id, 0.0)
            account.whatsapp_budget_state = account._whatsapp_budget_level()

    def _whatsapp_budget_level(self):
        budget = self.whatsapp_monthly_budget
        if self.network != "whatsapp" or budget <= 0:
            return "none"
        share = self.whatsapp_spend_month / budget
        if share >= 1:
            return "reached"
        return "warning" if share * 100 >= BUDGET_WARNINGS[0] else "ok"

    def _whatsapp_budget_reached(self):
        """The reason automatic messages are not sent, or "" when they are."""
        self.ensure_one()
        self.invalidate_recordset(["whatsapp_spend_month", "whatsapp_budget_state"])
        if self.whatsapp_budget_state != "reached":
            return ""
        return self.env._(
            "The monthly WhatsApp budget of %(budget).2f USD is reached (spent "
            "%(spend).2f USD): automatic messages are not sent until next month.",
            budget=self.whatsapp_monthly_budget,
            spend=self.whatsapp_spend_month,
        )

    def _whatsapp_check_budget(self):
        """Warn the account's managers, its followers and its team's leader,
        once per month at 80% and once at 100% of its budget."""
        month = month_of(fields.Datetime.now())
        for account in self.sudo():
            account.invalidate_recordset(["whatsapp_spend_month"])
            budget = account.whatsapp_monthly_budget
            if account.network != "whatsapp" or budget <= 0:
                continue
            share = 100 * account.whatsapp_spend_month / budget
            level = max((pct for pct in BUDGET_WARNINGS if share >= pct), default=0)
            warned = (
                account.whatsapp_budget_warned_pct
                if account.whatsapp_budget_warned_month == month
                else 0
            )
            if level <= warned:
                continue
            account.write(
                {
                    "whatsapp_budget_warned_month": month,
                    "whatsapp_budget_warned_pct": level,
                }
            )
            account.message_post(
                body=account._whatsapp_budget_warning(level),
                subtype_xmlid="mail.mt_comment",
                message_type="notification",
                partner_ids=account.team_id.user_id.partner_id.ids,
            )

    def _whatsapp_budget_warning(self, level):
        if level >= 100:
            return self.env._(
                "WhatsApp spend this month is %(spend).2f USD: the monthly budget "
                "of %(budget).2f USD is reached. Automatic messages "
                "(acknowledgements, satisfaction requests) are no longer sent "
                "this month; agents' replies still are.",
                spend=self.whatsapp_spend_month,
                budget=self.whatsapp_monthly_budget,
            )
        return self.env._(
            "WhatsApp spend this month is %(spend).2f USD, %(share)s%% of the "
            "monthly budget of %(budget).2f USD.",
            spend=self.whatsapp_spend_month,
            share=int(100 * self.whatsapp_spend_month / self.whatsapp_monthly_budget),
            budget=self.whatsapp_monthly_budget,
        )

    @api.model
    def _whatsapp_price_of(self, category, market, day=None):
        """(price in USD, monthly allowance) of one message of ``category``
        to ``market`` on ``day`` (today by default)."""
        Price = self.env["social.whatsapp.price"]
        table = Price._price_table(day or fields.Date.today())
        return Price._lookup(table, category, market)

    def _whatsapp_reply_cost(self, market, category=SERVICE):
        """What one more message of ``category`` to ``market`` will cost
        this month: (price in USD, a sentence for the agent). A service
        message is free within the month's allowance."""
        self.ensure_one()
        price, allowance = self._whatsapp_price_of(category, market)
        if category == SERVICE:
            used = self.env["social.whatsapp.usage"]._service_count(
                self, month_of(fields.Datetime.now())
            )
            if used < allowance:
                return 0.0, self.env._(
                    "Free: a service message within the monthly allowance "
                    "(%(used)s of %(allowance)s used).",
                    used=used,
                    allowance=allowance,
                )
        if not price:
            return 0.0, self.env._("Free.")
        labels = dict(
            self.env["social.whatsapp.price"]
            ._fields["category"]
            ._description_selection(self.env)
        )
        return price, self.env._(
            "About %(price).4f USD (%(category)s message to %(market)s).",
            price=price,
            category=labels.get(category, category),
            market=market or self.env._("another country"),
        )

    def _whatsapp_cost_info(self, message, category=SERVICE):
        """The composer's line: what a reply of ``category`` to the customer
        of ``message`` (a stored social.message) will cost, and the budget."""
        self.ensure_one()
        if self._whatsapp_free_entry_point(message):
            cost = self.env._(
                "Free: the customer came from an ad or a Page button, and "
                "WhatsApp bills nothing for 72 hours (free entry point)."
            )
        else:
            cost = self._whatsapp_reply_cost(
                self._whatsapp_market_of(message), category
            )[1]
        account = self.sudo()
        if account.whatsapp_budget_state == "none":
            return cost
        if account.whatsapp_budget_state == "reached":
            budget = self.env._(
                "The monthly budget of %(budget).2f USD is reached: automatic "
                "messages are paused; your reply is sent.",
                budget=account.whatsapp_monthly_budget,
            )
        else:
            budget = self.env._(
                "%(spend).2f of %(budget).2f USD spent this month.",
                spend=account.whatsapp_spend_month,
                budget=account.whatsapp_monthly_budget,
            )
        return f"{cost} {budget}"

    @api.model
    def _whatsapp_free_entry_point(self, message):
        """Whether a message to the author of ``message`` is free as part of
        a free entry point conversation: started from an ad or a Page
        button, within 72 hours of the customer's last message."""
        last = message._last_customer_date()
        return bool(
            last
            and message._thread_from_ad()
            and fields.Datetime.now() - last.replace(tzinfo=None) < FREE_ENTRY_POINT
        )

    @api.model
    def _whatsapp_market_of(self, message):
        """The market a message to the author of ``message`` is billed in:
        the country of their business-scoped user id or phone number, else
        their contact's."""
        identity = message.identity_id.sudo()
        digits = "".join(char for char in identity.phone or "" if char.isdigit())
        return (
            country_of(identity.external_id, digits)
            or message.partner_id.sudo().country_id.code
            or ""
        )

    # Message templates: outside the 24-hour window, the only way to reach
    # the customer.

    whatsapp_template_ids = fields.One2many(
        "social.whatsapp.template", "account_id", "Message templates"
    )
    whatsapp_templates_synced_date = fields.Datetime(
        "Templates synchronised", readonly=True, copy=False
    )

    def action_whatsapp_sync_templates(self):
        """Read the templates again now (Meta approves new ones within
        minutes to a day). Helpdesk managers of the account's company."""
        require_group(self.env, MANAGER, self.env._("synchronise message templates"))
        self.check_access("write")
        Template = self.env["social.whatsapp.template"].sudo()
        counts = []
        for account in self.sudo():
            if account.network != "whatsapp":
                raise UserError(
                    self.env._("Only WhatsApp accounts have message templates.")
                )
            try:
                counts.append(Template._sync(account))
            except AdapterError as exc:
                raise UserError(
                    self.env._("The templates could not be read: %s", exc)
                ) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Templates synchronised"),
                "message": self.env._("%s templates read from WhatsApp.", sum(counts)),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
