# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Social tickets lose the "@handle: " their titles started with (and the
@handles an X reply starts with), unless an agent renamed them; each ticket
learns when its customer last wrote and since when they wait for us."""

from odoo import SUPERUSER_ID, api

from odoo.addons.social_helpdesk.models.social_message import LEADING_MENTIONS


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    tickets = (
        env["helpdesk.ticket"]
        .with_context(active_test=False)
        .search([("social_account_id", "!=", False)])
    )
    for ticket in tickets:
        first = ticket.social_message_ids.sorted("id")[:1].identity_id
        labels = {f"@{ticket.social_author_handle}", first.display_label}
        for label in filter(None, labels - {"@False"}):
            if ticket.name.startswith(f"{label}: "):
                words = LEADING_MENTIONS.sub("", ticket.name[len(label) + 2 :])
                if words.strip(" …"):
                    ticket.name = words
                break
    cr.execute(
        """
        UPDATE helpdesk_ticket AS ticket
           SET social_last_customer_date = customer.last,
               social_waiting_since = customer.unanswered
          FROM (
                SELECT message.ticket_id,
                       MAX(message.message_date) AS last,
                       MIN(message.message_date) FILTER (
                           WHERE answer.answered IS NULL
                              OR message.create_date > answer.answered
                       ) AS unanswered
                  FROM social_message AS message
             LEFT JOIN (
                        SELECT ticket_id, MAX(create_date) AS answered
                          FROM social_reply
                         WHERE state != 'failed' AND automatic IS NOT TRUE
                         GROUP BY ticket_id
                       ) AS answer ON answer.ticket_id = message.ticket_id
                 WHERE message.ticket_id IS NOT NULL
                 GROUP BY message.ticket_id
               ) AS customer
         WHERE ticket.id = customer.ticket_id
        """
    )
