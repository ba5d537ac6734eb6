# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class HelpdeskSla(models.Model):
    """Per-channel targets: how fast the first answer must come, how fast the
    case must be solved, on which clock, and who is warned when."""

    _inherit = "helpdesk.sla"

    # The policies the addon ships are named for agents in every language.
    name = fields.Char(translate=True)
    channel_ids = fields.Many2many(
        "helpdesk.ticket.channel",
        string="Channels",
        help="The policy applies to tickets of these channels; empty: every channel.",
    )
    target_type = fields.Selection(
        [("first_response", "First response"), ("stage", "Reach stage")],
        default="stage",
        required=True,
        help="First response: met when the first agent answer reaches the "
        "customer, on any channel. Reach stage: met when the ticket reaches the "
        "stage.",
    )
    use_business_hours = fields.Boolean(
        default=True,
        help="Count the target in business hours (the working hours below, or "
        "the team's). Unchecked: in calendar hours, round the clock, a day being "
        "24 hours.",
    )
    max_calendar_hours = fields.Float(
        "Never later than (hours)",
        help="First response targets: the deadline comes at the latest this many "
        "calendar hours after the ticket was created, round the clock, whatever "
        "the business hours say; the earlier deadline wins. 0: no cap.",
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working hours",
        help="Business hours of this policy; empty: the team's working hours.",
    )
    warning_type = fields.Selection(
        [("percent", "Share of the target used"), ("time", "Time left")],
        string="Warn",
        help="When the target turns at risk. Empty: it never does, only breaches.",
    )
    warning_percent = fields.Float(
        "Warning at (%)",
        default=80.0,
        help="At risk once this share of the target is used.",
    )
    warning_hours = fields.Float(
        "Warning time left (hours)",
        help="At risk once this much time is left, counted on the policy's clock.",
    )
    escalate_at_risk = fields.Boolean(
        "Activity when at risk",
        default=True,
        help="An activity for the assignee (or the team leader when nobody is "
        "assigned) when the target turns at risk, once.",
    )
    escalate_breach = fields.Boolean(
        "Escalate breaches",
        default=True,
        help="On breach, raise the ticket's priority one level and notify the "
        "team leader, once.",
    )
    window_warning_hours = fields.Float(
        "Reply window warning (hours)",
        default=4.0,
        help="For Messenger and Instagram conversations and private replies to "
        "comments: an activity this many hours before the platform's reply "
        "window closes, once per window. 0: no warning.",
    )

    _sql_constraints = [
        (
            "warning_percent_range",
            "CHECK(warning_percent >= 0 AND warning_percent <= 100)",
            "The warning share is a percentage, from 0 to 100.",
        ),
        (
            "max_calendar_hours_positive",
            "CHECK(max_calendar_hours >= 0)",
            "The calendar cap is a number of hours, 0 for none.",
        ),
    ]

    def _warning_lead(self, target_hours):
        """Time left on the target when it turns at risk, in hours; 0: never."""
        self.ensure_one()
        if self.warning_type == "percent":
            return target_hours * (100.0 - self.warning_percent) / 100.0
        if self.warning_type == "time":
            return min(self.warning_hours, target_hours)
        return 0.0
