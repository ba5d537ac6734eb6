# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models
from odoo.exceptions import UserError

from ..adapters.base import AdapterError
from .access import MANAGER, require_group


class SocialAccount(models.Model):
    """A WhatsApp number's message templates, read from its WhatsApp
    Business Account: outside the 24-hour window they are the only way to
    reach the customer."""

    _inherit = "social.account"

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
