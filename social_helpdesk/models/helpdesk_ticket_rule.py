# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import logging
from datetime import timedelta

import pytz

from odoo import Command, api, fields, models, tools
from odoo.exceptions import ValidationError

from ..rules import engine
from ..rules.acknowledgement import PLACEHOLDERS, InvalidTemplate, check_template
from ..rules.engine import (
    InvalidRule,
    Lexicon,
    MessageFacts,
    Rule,
    RuleSet,
    validate_regex,
)

_logger = logging.getLogger(__name__)

TRISTATE = [("any", "Any"), ("yes", "Yes"), ("no", "No")]
TRISTATE_VALUE = {"any": None, "yes": True, "no": False}

# The shipped rules (data/helpdesk_ticket_rule_data.xml), which every company
# gets a copy of, and the shipped records they set, copied with them.
DEFAULT_RULES = (
    "rule_thanks_only",
    "rule_purchase_intent",
    "rule_billing",
    "rule_negative_complaint",
    "rule_angry_influencer",
)
DEFAULT_TARGETS = ("helpdesk_team_billing", "helpdesk_category_billing")


class HelpdeskTicketRule(models.Model):
    """A categorization rule a manager writes without code: when a message
    matches, route it, categorize it, prioritize it, only observe it, or hand
    it to sales as a CRM lead. Rules run on every channel, on the messages and
    tickets of their company (all companies when they have none), and what
    they set belongs to that company."""

    _name = "helpdesk.ticket.rule"
    _inherit = ["helpdesk.rules.cache.mixin"]
    _description = "Helpdesk Categorization Rule"
    _order = "sequence, id"
    _check_company_auto = True
    # Flagging a timeout changes nothing the compiled rule sets hold.
    _rules_cache_neutral = frozenset({"regex_error_date"})

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
        help="Empty: the rule applies to every company, and can only set "
        "teams, categories, tags and sales teams shared by all companies.",
    )
    # Scope
    channel_ids = fields.Many2many(
        "helpdesk.ticket.channel",
        string="Channels",
        check_company=True,
        help="Empty: every channel.",
    )
    message_kind = fields.Selection(
        [("any", "Any"), ("public", "Public"), ("private", "Private")],
        default="any",
        required=True,
    )
    # Conditions
    keywords = fields.Text(
        help="One per line or separated by commas. Case and accents are ignored; "
        "whole words only; several words make a phrase."
    )
    keyword_mode = fields.Selection(
        [
            ("any", "Any keyword"),
            ("all", "All keywords"),
            ("exact", "Only these words"),
        ],
        default="any",
        required=True,
        help="Only these words: the message holds nothing else, e.g. a bare 'Thanks!'.",
    )
    regex = fields.Char("Regular expression")
    regex_error_date = fields.Datetime(
        "Regular expression problem since",
        readonly=True,
        copy=False,
        help="Set when the regular expression took too long on a message; "
        "saving a new one clears it.",
    )
    regex_error = fields.Char(
        "Regular expression problem", compute="_compute_regex_error"
    )
    languages = fields.Char(help="Language codes separated by commas, e.g. es, pt.")
    min_followers = fields.Integer("Author has at least (followers)")
    known_customer = fields.Selection(
        TRISTATE,
        default="any",
        required=True,
        help="Yes: the contact already has tickets (or sales or invoices when "
        "those apps are installed).",
    )
    negative_sentiment = fields.Selection(
        TRISTATE,
        default="any",
        required=True,
        help="Based on the editable sentiment lexicon (Spanish, English, Portuguese).",
    )
    out_of_hours = fields.Selection(
        TRISTATE,
        "Out of business hours",
        default="any",
        required=True,
        help="Measured against the company's working hours.",
    )
    # Actions
    outcome = fields.Selection(
        [
            ("ticket", "Ticket"),
            ("observe", "Observe only (no ticket)"),
            ("lead", "CRM lead instead of a ticket"),
        ],
        default="ticket",
        required=True,
    )
    team_id = fields.Many2one("helpdesk.ticket.team", "Set team", check_company=True)
    category_id = fields.Many2one(
        "helpdesk.ticket.category", "Set category", check_company=True
    )
    tag_ids = fields.Many2many(
        "helpdesk.ticket.tag", string="Add tags", check_company=True
    )
    priority = fields.Selection(
        [("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High")],
        "Set priority",
    )
    user_id = fields.Many2one(
        "res.users", "Assign to", domain=[("share", "=", False)], check_company=True
    )
    lead_team_id = fields.Many2one("crm.team", "Sales team", check_company=True)
    ack_public_text = fields.Text(
        "Public acknowledgement",
        translate=True,
        help='Posted at once in reply to a new public message, e.g. "Thanks '
        "{name}, we've sent you a DM.\" Placeholders: "
        + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        + ".",
    )
    ack_private_text = fields.Text(
        "Private acknowledgement",
        translate=True,
        help="Sent at once as a private message (after the public "
        'acknowledgement, if any), e.g. "Hi {name}, your ticket is {ticket}."',
    )
    stop = fields.Boolean(
        "Stop here", help="No further rule is evaluated after this one matches."
    )

    @api.constrains(
        "keywords",
        "keyword_mode",
        "regex",
        "languages",
        "min_followers",
        "message_kind",
    )
    def _check_definition(self):
        for rule in self:
            try:
                rule._to_engine_rule()
                validate_regex(rule.regex or "")
            except InvalidRule as exc:
                raise ValidationError(
                    self.env._("Rule %(rule)s: %(error)s", rule=rule.name, error=exc)
                ) from exc

    @api.constrains("ack_public_text", "ack_private_text")
    def _check_acknowledgement(self):
        for rule in self:
            for field_name in ("ack_public_text", "ack_private_text"):
                try:
                    check_template(rule[field_name])
                except InvalidTemplate as exc:
                    raise ValidationError(
                        self.env._(
                            "Rule %(rule)s, %(field)s: %(error)s",
                            rule=rule.name,
                            field=rule._fields[field_name]._description_string(
                                self.env
                            ),
                            error=exc,
                        )
                    ) from exc

    def write(self, vals):
        """A new regular expression gets a clean slate."""
        if "regex" in vals:
            vals = dict(vals, regex_error_date=False)
        return super().write(vals)

    def _to_engine_rule(self):
        self.ensure_one()
        return Rule(
            id=self.id,
            sequence=self.sequence,
            name=self.name or "",
            channels=frozenset(self.channel_ids.mapped("code")) - {False},
            kind=self.message_kind,
            keywords=self.keywords or "",
            keyword_mode=self.keyword_mode,
            regex=self.regex or "",
            languages=self.languages or "",
            min_followers=self.min_followers,
            known_customer=TRISTATE_VALUE[self.known_customer],
            negative_sentiment=TRISTATE_VALUE[self.negative_sentiment],
            out_of_hours=TRISTATE_VALUE[self.out_of_hours],
            stop=self.stop,
        )

    # ------------------------------------------------------------------
    # Compiled rule sets, cached until any rule or lexicon term changes
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache("company_id")
    def _compiled(self, company_id):
        """The rule set of company ``company_id``: its rules and the rules of
        every company, whoever asks (a cron runs for all companies)."""
        rules = self.sudo().search([("company_id", "in", [company_id, False])])
        lexicon = Lexicon(self.env["helpdesk.sentiment.term"].sudo()._lexicon_data())
        return RuleSet([rule._to_engine_rule() for rule in rules], lexicon)

    # ------------------------------------------------------------------
    # Evaluation, in the company of the message or ticket
    # ------------------------------------------------------------------
    @api.model
    def _facts(
        self,
        text,
        channel_code,
        kind,
        company,
        lang="",
        followers=0,
        partner=None,
        moment=None,
    ):
        # Each of these costs queries: computed only when a rule looks at it.
        rules = self._compiled(company.id)
        return MessageFacts(
            text=text or "",
            channel=channel_code or "",
            kind=kind,
            lang=lang or "",
            followers=followers or 0,
            known_customer=rules.needs("known_customer")
            and bool(partner)
            and self._is_known_customer(partner),
            out_of_hours=rules.needs("out_of_hours")
            and self._is_out_of_hours(moment or fields.Datetime.now(), company),
        )

    @api.model
    def _evaluate(self, facts, company):
        """The matching rules of ``company``, in order, with the explanation of
        each in the environment's language. Rules whose regular expression
        timed out on the message do not match it, and are flagged."""
        result = self._compiled(company.id).evaluate(facts)
        if result.timeouts:
            self._flag_timeouts(result.timeouts)
        rules = self.browse([match.rule.id for match in result.matches])
        return [
            (rule, engine.explain_in(match.reasons, self.env._))
            for rule, match in zip(rules, result.matches, strict=True)
        ]

    @api.model
    def _flag_timeouts(self, verdicts):
        """Show managers the rules whose regular expression outlasted the time
        limit on a message (``verdicts`` of the engine), once until the
        expression changes. The write keeps the compiled rule sets cached."""
        rules = (
            self.sudo()
            .browse([verdict.rule.id for verdict in verdicts])
            .filtered(lambda rule: not rule.regex_error_date)
        )
        if not rules:
            return
        _logger.warning(
            "Categorization rules %s: regular expression timed out on a message",
            rules.ids,
        )
        rules.write({"regex_error_date": fields.Datetime.now()})

    @api.depends("regex_error_date")
    def _compute_regex_error(self):
        """The warning, in the reader's language (the flag is only a date)."""
        for rule in self:
            rule.regex_error = rule.regex_error_date and self.env._(
                "The regular expression took too long on a message (over "
                "%(limit)s s), so the rule was skipped for it. Simplify it: "
                "saving a new one clears this warning.",
                limit=engine.REGEX_TIMEOUT,
            )

    @api.model
    def _outcome(self, matches):
        """What the matching rules do together: the last rule that sets a
        value wins, tags add up, and any observe or lead outcome applies."""
        values, outcome, lead_team = {}, "ticket", self.env["crm.team"]
        for rule, _why in matches:
            if rule.team_id:
                values["team_id"] = rule.team_id.id
            if rule.category_id:
                values["category_id"] = rule.category_id.id
            if rule.priority:
                values["priority"] = rule.priority
            if rule.user_id:
                values["user_id"] = rule.user_id.id
            if rule.tag_ids:
                values.setdefault("tag_ids", []).extend(
                    (4, tag.id) for tag in rule.tag_ids
                )
            if rule.outcome != "ticket":
                outcome = rule.outcome
                lead_team = rule.lead_team_id or lead_team
        return outcome, values, lead_team

    @api.model
    def _log_body(self, matches):
        items = [
            self.env._("%(rule)s (%(why)s)", rule=rule.name, why=why)
            for rule, why in matches
        ]
        return self.env._("Rules applied: %s", "; ".join(items))

    @api.model
    def _is_known_customer(self, partner):
        partner = partner.commercial_partner_id
        if (
            self.env["helpdesk.ticket"]
            .sudo()
            .search_count([("commercial_partner_id", "=", partner.id)], limit=1)
        ):
            return True
        for model in ("sale.order", "account.move"):
            if model in self.env and self.env[model].sudo().search_count(
                [("partner_id", "child_of", partner.id)], limit=1
            ):
                return True
        return False

    @api.model
    def _is_out_of_hours(self, moment, company):
        """Outside ``company``'s working hours (its resource calendar)."""
        calendar = company.resource_calendar_id
        if not calendar:
            return False
        start = pytz.utc.localize(moment.replace(tzinfo=None))
        intervals = calendar._work_intervals_batch(start, start + timedelta(minutes=1))
        return not list(intervals[False])

    # ------------------------------------------------------------------
    # The shipped rules, in every company
    # ------------------------------------------------------------------
    @api.model
    def _install_default_rules(self, companies=None):
        """Give each company (all of them by default) its copy of every shipped
        rule, which the data file gives the main company: rules only apply in
        their own company. Once: a company that has its copy gets none again.
        An archived rule is copied archived."""
        Rule = self.sudo().with_context(active_test=False)
        companies = companies or Rule.env["res.company"].search([])
        for name in DEFAULT_RULES:
            template = Rule.env.ref(f"social_helpdesk.{name}", raise_if_not_found=False)
            if not template or not template.company_id:
                continue  # gone, or made common to all companies
            for company in companies - template.company_id:
                _company_copy(name, template, company, _copy_rule)


def _company_copy(name, template, company, make):
    """``company``'s copy of this module's record ``name`` (``template``),
    made by ``make(template, company)`` the first time. The copy is known by
    its xmlid, "<company id>_<name>", as Odoo's chart templates name their
    per-company records; noupdate, so that module updates keep it."""
    xmlid = f"social_helpdesk.{company.id}_{name}"
    record = template.env.ref(xmlid, raise_if_not_found=False)
    if not record:
        record = make(template, company)
        template.env["ir.model.data"]._update_xmlids(
            [{"xml_id": xmlid, "record": record, "noupdate": True}]
        )
    return record


def _copy_rule(rule, company):
    """A copy of ``rule`` for ``company``. Of what the rule sets, the shipped
    team and category become the company's own copies, and the rest stays
    only where ``company`` can use it."""
    values = {"company_id": company.id}
    for name, field in rule._fields.items():
        if not (field.store and field.relational and field.check_company):
            continue
        targets = rule[name].browse()
        for target in rule[name]:
            module, _dot, shipped = target.get_external_id()[target.id].partition(".")
            if module == "social_helpdesk" and shipped in DEFAULT_TARGETS:
                target = _company_copy(shipped, target, company, _copy_named)
            targets |= target
        targets = targets.filtered_domain(targets._check_company_domain(company))
        values[name] = (
            targets.id if field.type == "many2one" else [Command.set(targets.ids)]
        )
    return rule.copy(values)


def _copy_named(record, company):
    """A new ``record`` of ``company`` with its name, in every language."""
    copy = record.with_company(company).create(
        {"name": record.name, "company_id": company.id}
    )
    translations, _context = record.get_field_translations("name")
    copy.update_field_translations(
        "name", {item["lang"]: item["value"] for item in translations if item["value"]}
    )
    return copy
