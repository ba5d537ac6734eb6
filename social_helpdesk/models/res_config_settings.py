# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models

from .social_event import DEFAULT_RETENTION_DAYS, RETENTION_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    social_event_retention_days = fields.Integer(
        "Keep raw event payloads (days)",
        config_parameter=RETENTION_PARAM,
        default=DEFAULT_RETENTION_DAYS,
        help="Processed social events lose their raw payload after this many "
        "days; they keep their network id, so a redelivery is still dropped "
        "as a duplicate. Events in error keep theirs. 0 keeps every payload.",
    )
