# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The tickets by creation date are now indexed with the columns the channel
dashboard and the KPI report read (``helpdesk_ticket_created_kpi_index``,
made by the model's ``init`` before this runs): the plain index on the
creation date it replaces only costs writes."""


def migrate(cr, version):
    cr.execute("DROP INDEX IF EXISTS helpdesk_ticket_create_date_index")
