# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Social tickets lose the "@handle: " their titles started with (and the
@handles an X reply starts with), unless an agent renamed them; each ticket
learns when its customer last wrote and since when they wait for us. X
accounts connected before the X Activity API keep the webhook product they
were subscribed with, the Account Activity API. Set-based: a large helpdesk
upgrades in a few statements."""


def migrate(cr, version):
    # The first message's author labels the title: "@handle: " or the
    # identity's display name; LEADING_MENTIONS of social_message, in SQL.
    cr.execute(
        r"""
        WITH first_author AS (
                SELECT DISTINCT ON (message.ticket_id)
                       message.ticket_id, identity.display_label
                  FROM social_message AS message
                  JOIN social_identity AS identity
                    ON identity.id = message.identity_id
                 WHERE message.ticket_id IS NOT NULL
              ORDER BY message.ticket_id, message.id
             ),
             stripped AS (
                SELECT ticket.id,
                       regexp_replace(
                           substr(ticket.name, length(prefix.label) + 3),
                           '^(\s*@[\w.]+[\s,:]*)+', ''
                       ) AS words
                  FROM helpdesk_ticket AS ticket
                  JOIN first_author ON first_author.ticket_id = ticket.id
                 CROSS JOIN LATERAL (
                        SELECT label
                          FROM (VALUES ('@' || ticket.social_author_handle),
                                       (first_author.display_label)) AS v (label)
                         WHERE label IS NOT NULL
                           AND starts_with(ticket.name, label || ': ')
                         LIMIT 1
                       ) AS prefix
                 WHERE ticket.social_account_id IS NOT NULL
             )
        UPDATE helpdesk_ticket AS ticket
           SET name = stripped.words
          FROM stripped
         WHERE ticket.id = stripped.id
           AND btrim(stripped.words, ' …') <> ''
        """
    )
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
    cr.execute(
        "UPDATE social_account SET x_webhook_product = 'aaa' WHERE network = 'x'"
    )
