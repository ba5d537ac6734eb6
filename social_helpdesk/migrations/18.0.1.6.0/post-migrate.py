# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The tickets by creation date and by first response are now indexed with
the columns the channel dashboard and the KPI report read
(``helpdesk_ticket_created_kpi_index`` and
``helpdesk_ticket_answered_kpi_index``, made by the model's ``init`` before
this runs): the plain indexes on those dates they replace only cost writes."""


def migrate(cr, version):
    cr.execute(
        "DROP INDEX IF EXISTS helpdesk_ticket_create_date_index, "
        "helpdesk_ticket__first_response_date_index"
    )
