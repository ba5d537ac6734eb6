# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).


def uninstall_hook(env):
    """Drop the SQL functions the event store created (Odoo drops only the
    tables)."""
    env.cr.execute(
        """
        DROP FUNCTION IF EXISTS social_helpdesk_store_events(
            integer, integer, boolean, integer, varchar[], jsonb[]);
        DROP FUNCTION IF EXISTS social_helpdesk_wake_cron(integer, integer);
        """
    )
