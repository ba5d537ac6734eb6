# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The default social first-response policies never let a customer wait more
than 24 hours: they get the cap (the data file is noupdate), unless someone
set one already, and the targets still running are planned again."""

from odoo import SUPERUSER_ID, api

CAPPED = (
    "social_helpdesk.sla_x_first_response",
    "social_helpdesk.sla_meta_first_response",
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    policies = (
        env["helpdesk.sla"]
        .browse(policy.id for xmlid in CAPPED if (policy := env.ref(xmlid, False)))
        .filtered(lambda policy: not policy.max_calendar_hours)
    )
    policies.max_calendar_hours = 24
    lines = env["helpdesk.ticket.sla"].search(
        [("sla_id", "in", policies.ids), ("state", "=", "in_progress")]
    )
    env.add_to_compute(lines._fields["deadline"], lines)
    env.add_to_compute(lines._fields["deadline_capped"], lines)
    lines.flush_recordset()
    env["helpdesk.ticket.sla"]._update_status(lines.ticket_id.ids)
