# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A webhook delivery now runs one plain statement and writes nothing but its
events: the store's SQL functions go, and so do the columns of what became
computed (the accounts' last event dates, read from the event store) or
plain related fields (an event's company)."""


def migrate(cr, version):
    cr.execute(
        """
        DROP FUNCTION IF EXISTS social_helpdesk_store_events(
            integer, integer, boolean, integer, varchar[], jsonb[]);
        DROP FUNCTION IF EXISTS social_helpdesk_wake_cron(integer, integer);
        ALTER TABLE social_event DROP COLUMN IF EXISTS company_id;
        ALTER TABLE social_account
            DROP COLUMN IF EXISTS last_event_date,
            DROP COLUMN IF EXISTS last_webhook_date;
        """
    )
