# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from markupsafe import Markup, escape

from odoo import api, fields, models

from ..rules.engine import MessageFacts, explain_in


class HelpdeskRuleTryWizard(models.TransientModel):
    """Paste a message and see which rules match, in order, and what they
    would do: rules are tested before customers meet them. The rules are
    those of the current company (and those of every company), as a message
    or ticket of that company meets them."""

    _name = "helpdesk.rule.try.wizard"
    _description = "Try categorization rules"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, readonly=True
    )
    text = fields.Text(required=True)
    channel_id = fields.Many2one("helpdesk.ticket.channel", check_company=True)
    kind = fields.Selection(
        [("public", "Public"), ("private", "Private")], default="public", required=True
    )
    lang = fields.Char("Language", help="e.g. es, en, pt; empty if unknown.")
    followers = fields.Integer("Author's followers")
    known_customer = fields.Boolean()
    out_of_hours = fields.Boolean("Out of business hours")
    result = fields.Html(compute="_compute_result", sanitize=False)
    outcome = fields.Char(compute="_compute_result")

    @api.depends(
        "company_id",
        "text",
        "channel_id",
        "kind",
        "lang",
        "followers",
        "known_customer",
        "out_of_hours",
    )
    def _compute_result(self):
        Rule = self.env["helpdesk.ticket.rule"]
        for wizard in self:
            facts = wizard._facts()
            verdicts = Rule._compiled(wizard.company_id.id).explain(facts)
            rules = Rule.browse([verdict.rule.id for verdict in verdicts])
            rows = [
                wizard._row(rule, verdict)
                for rule, verdict in zip(rules, verdicts, strict=True)
            ]
            fired = [
                (rule, verdict.explanation)
                for rule, verdict in zip(rules, verdicts, strict=True)
                if verdict.fired
            ]
            outcome, values, _team = Rule._outcome(fired)
            fired_rules = Rule.browse([rule.id for rule, _why in fired])
            wizard.outcome = (
                wizard._describe(outcome, values, fired_rules) if fired else False
            )
            wizard.result = Markup(
                '<p class="text-muted">%s</p>'
                '<table class="table table-sm o_rule_try_result"><thead><tr>'
                "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody>"
                "</table>"
            ) % (
                self.env._(
                    "Rules of %(company)s and rules of every company.",
                    company=wizard.company_id.name,
                ),
                self.env._("Rule"),
                self.env._("Result"),
                self.env._("Why"),
                Markup("").join(rows),
            )

    def _facts(self):
        return MessageFacts(
            text=self.text or "",
            channel=self.channel_id.code or "",
            kind=self.kind,
            lang=self.lang or "",
            followers=self.followers,
            known_customer=self.known_customer,
            out_of_hours=self.out_of_hours,
        )

    def _row(self, rule, verdict):
        if verdict.fired:
            status = Markup('<span class="badge text-bg-success">%s</span>') % (
                self.env._("fires")
            )
        elif verdict.timed_out:
            status = Markup('<span class="badge text-bg-danger">%s</span>') % (
                self.env._("timed out: no match")
            )
        elif verdict.matched:
            status = Markup('<span class="badge text-bg-warning">%s</span>') % (
                self.env._("skipped: an earlier rule stops")
            )
        else:
            status = Markup('<span class="badge text-bg-secondary">%s</span>') % (
                self.env._("no match")
            )
        return Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % (
            rule.name,
            status,
            escape(explain_in(verdict.reasons, self.env._)),
        )

    def _describe(self, outcome, values, fired_rules):
        labels = {
            "ticket": self.env._("a ticket"),
            "observe": self.env._("observed only, no ticket"),
            "lead": self.env._("a CRM lead instead of a ticket"),
        }
        parts = [labels[outcome]]
        Ticket = self.env["helpdesk.ticket"]
        fields_ = Ticket._fields
        for name in ("team_id", "category_id", "user_id"):
            if values.get(name):
                record = Ticket[name].browse(values[name])
                label = fields_[name]._description_string(self.env)
                parts.append(f"{label}: {record.display_name}")
        if values.get("priority"):
            priorities = dict(fields_["priority"]._description_selection(self.env))
            label = fields_["priority"]._description_string(self.env)
            parts.append(f"{label}: {priorities[values['priority']]}")
        if values.get("tag_ids"):
            tags = self.env["helpdesk.ticket.tag"].browse(
                [tag_id for _command, tag_id in values["tag_ids"]]
            )
            parts.append(", ".join(tags.mapped("name")))
        acknowledging = fired_rules.filtered(
            lambda rule: rule.ack_public_text or rule.ack_private_text
        )[-1:]
        if outcome == "ticket" and acknowledging:
            parts.append(
                self.env._(
                    "acknowledged as rule %s says (social messages)",
                    acknowledging.name,
                )
            )
        return " · ".join(parts)
