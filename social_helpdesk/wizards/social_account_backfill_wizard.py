# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import AdapterError

MAX_BACKFILL_DAYS = 30


class SocialAccountBackfillWizard(models.TransientModel):
    """Import an account's recent history; on a metered network (X) the
    estimated cost is shown, and confirmed, before anything is read."""

    _name = "social.account.backfill.wizard"
    _description = "Import Social Account History"

    account_id = fields.Many2one("social.account", required=True, ondelete="cascade")
    network = fields.Selection(related="account_id.network")
    days = fields.Integer(
        "Days to import",
        default=7,
        required=True,
        help="X returns mentions of the last 7 days at most (800 posts) and DMs of "
        "the last 30 days.",
    )
    estimate = fields.Text(compute="_compute_estimate")
    cost = fields.Float("Estimated cost (USD)", compute="_compute_estimate")
    cost_confirmed = fields.Boolean("I accept this estimated cost")

    @api.depends("account_id", "days")
    def _compute_estimate(self):
        for wizard in self:
            wizard.cost = 0.0
            wizard.estimate = False
            if wizard.network != "x" or not wizard.account_id or wizard.days <= 0:
                continue
            try:
                estimate = wizard.account_id._estimate_backfill_cost(wizard.days)
            except AdapterError as exc:
                wizard.estimate = self.env._("The cost could not be estimated: %s", exc)
                continue
            if estimate is None:
                continue
            account = wizard.account_id
            wizard.cost = estimate["cost"]
            wizard.estimate = self.env._(
                "%(precision)s %(posts)s posts, %(dms)s direct messages and "
                "%(users)s profiles to read: %(cost).2f USD. Spent this month: "
                "%(spent).2f USD%(budget)s.",
                precision=self.env._("About")
                if estimate["exact"]
                else self.env._("At most"),
                posts=estimate["reads"].get("owned_post", 0),
                dms=estimate["reads"].get("dm_event", 0),
                users=estimate["reads"].get("user", 0),
                cost=estimate["cost"],
                spent=account.api_spend_month,
                budget=self.env._(" of a %s USD budget", account.x_monthly_budget)
                if account.x_monthly_budget
                else "",
            )

    def action_start(self):
        self.ensure_one()
        if not 0 < self.days <= MAX_BACKFILL_DAYS:
            raise UserError(
                self.env._(
                    "Import between 1 and %s days of history.", MAX_BACKFILL_DAYS
                )
            )
        if self.network == "x" and self.cost and not self.cost_confirmed:
            raise UserError(
                self.env._(
                    "Confirm the estimated cost of %.2f USD to start the import.",
                    self.cost,
                )
            )
        self.account_id._start_backfill(self.days)
        return {"type": "ir.actions.act_window_close"}
