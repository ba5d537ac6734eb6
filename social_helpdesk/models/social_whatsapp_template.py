# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging
import re

from odoo import api, fields, models

from ..adapters.base import AdapterError

_logger = logging.getLogger(__name__)

APPROVED = "APPROVED"
# A template's variables: {{1}} (positional) or {{order_id}} (named).
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# The components whose text the customer reads, in the order they show.
TEXT_COMPONENTS = ("HEADER", "BODY", "FOOTER")
# What a named variable is prefilled with, by a word of its name.
NAMED_FILLS = (
    ("agent", "agent"),
    ("ticket", "reference"),
    ("reference", "reference"),
    ("case", "reference"),
    ("name", "customer"),
    ("customer", "customer"),
)
# Positional body variables are prefilled in this order.
POSITIONAL_FILLS = ("customer", "reference", "agent")


class SocialWhatsAppTemplate(models.Model):
    """A message template of a WhatsApp Business Account, as Meta approved
    it: outside the 24-hour window, only these reach the customer. Kept in
    sync from the account (the WABA is the source), never edited here."""

    _name = "social.whatsapp.template"
    _description = "WhatsApp message template"
    _order = "name, language"

    account_id = fields.Many2one(
        "social.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    name = fields.Char(required=True, readonly=True)
    language = fields.Char(required=True, readonly=True)
    category = fields.Char(readonly=True, help="MARKETING, UTILITY or AUTHENTICATION.")
    status = fields.Char(
        readonly=True,
        help="Meta's review status: only APPROVED templates can be sent.",
    )
    approved = fields.Boolean(compute="_compute_approved", store=True, index=True)
    body = fields.Text(
        readonly=True, help="The text the customer reads, with its variables."
    )
    components = fields.Json(readonly=True)
    parameters = fields.Json(
        readonly=True,
        help="The template's variables: component, index (a number or a "
        "name) and Meta's example.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "name_language_uniq",
            "unique(account_id, name, language)",
            "A template is synchronised once per account and language.",
        )
    ]

    @api.depends("status")
    def _compute_approved(self):
        for template in self:
            template.approved = template.status == APPROVED

    @api.depends("name", "language")
    def _compute_display_name(self):
        for template in self:
            template.display_name = f"{template.name} ({template.language})"

    # ------------------------------------------------------------------
    # Synchronisation
    # ------------------------------------------------------------------
    @api.model
    def _cron_sync(self):
        """Daily: every connected WhatsApp account's templates. One account
        failing does not stop the others; its error is logged."""
        accounts = self.env["social.account"].search(
            [("network", "=", "whatsapp"), ("state", "=", "connected")]
        )
        for account in accounts:
            try:
                self._sync(account)
            except AdapterError as exc:
                _logger.warning("WhatsApp templates of account %s: %s", account.id, exc)

    @api.model
    def _sync(self, account):
        """Mirror the account's templates: new ones created, changed ones
        updated, those the WABA no longer has archived (replies keep
        naming them). Returns the number of templates the WABA has."""
        found = [
            item
            for item in account._get_adapter().list_templates()
            if item.get("name") and item.get("language")
        ]
        existing = {
            (template.name, template.language): template
            for template in self.with_context(active_test=False).search(
                [("account_id", "=", account.id)]
            )
        }
        kept = self.browse()
        for item in found:
            values = self._values_from(item)
            template = existing.get((values["name"], values["language"]))
            if template:
                template.write(values)
            else:
                template = self.create(dict(values, account_id=account.id))
            kept |= template
        (self.browse([t.id for t in existing.values()]) - kept).active = False
        account.whatsapp_templates_synced_date = fields.Datetime.now()
        return len(found)

    @api.model
    def _values_from(self, item):
        components = item.get("components") or []
        return {
            "name": item["name"],
            "language": item["language"],
            "category": item.get("category") or False,
            "status": item.get("status") or False,
            "components": components,
            "parameters": item.get("parameters") or [],
            "body": _render_components(components, {}),
            "active": True,
        }

    # ------------------------------------------------------------------
    # Filling and rendering
    # ------------------------------------------------------------------
    def _prefill(self, ticket, agent):
        """The template's parameters with a value each, for ``ticket``
        answered by ``agent``: named variables by a word of their name
        (name, customer, ticket, reference, agent), positional body
        variables in the order customer, reference, agent; the rest with
        Meta's example, for the agent to change."""
        self.ensure_one()
        fills = {
            "customer": ticket.partner_id.name or ticket.partner_name or "",
            "reference": ticket.number or ticket.name or "",
            "agent": agent.name or "",
        }
        positional = iter(POSITIONAL_FILLS)
        filled = []
        for parameter in self.parameters or []:
            index = str(parameter.get("index"))
            component = (parameter.get("component") or "").upper()
            if index.isdigit():
                key = next(positional, None) if component == "BODY" else None
            else:
                key = next(
                    (fill for word, fill in NAMED_FILLS if word in index.lower()),
                    None,
                )
            value = fills[key] if key else parameter.get("example") or ""
            filled.append(dict(parameter, value=value))
        return filled

    def _render(self, parameters):
        """The text the customer reads: header, body and footer with each
        variable replaced by its value (one left without stays as written)."""
        self.ensure_one()
        values = {
            ((p.get("component") or "").upper(), str(p.get("index"))): p.get("value")
            for p in parameters or []
            if p.get("value")
        }
        return _render_components(self.components or [], values)


def _render_components(components, values):
    """The text of the template's ``components``, each variable replaced by
    ``values[(component type, variable)]`` when there."""
    parts = []
    for kind in TEXT_COMPONENTS:
        for component in components:
            text = component.get("text")
            if (component.get("type") or "").upper() != kind or not text:
                continue
            parts.append(
                VARIABLE.sub(
                    lambda match, kind=kind: values.get(
                        (kind, match.group(1)), match.group(0)
                    ),
                    text,
                )
            )
    return "\n\n".join(parts)
