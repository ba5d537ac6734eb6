# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The group check of the operations any user could call over RPC: Odoo checks
access rights on records, not on who may run a method."""

from odoo.exceptions import AccessError

# The groups the security model (README.md, "Security model") names.
AGENT = "helpdesk_mgmt.group_helpdesk_user_own"
ALL_TICKETS = "helpdesk_mgmt.group_helpdesk_user"
MANAGER = "helpdesk_mgmt.group_helpdesk_manager"
ADMIN = "base.group_system"
SALESMAN = "sales_team.group_sale_salesman"


def require_group(env, group, what):
    """Raise AccessError unless the current user is in ``group``; ``what``
    names the operation in the message. The superuser (crons) passes."""
    if env.su or env.user.has_group(group):
        return
    raise AccessError(
        env._(
            "You are not allowed to %(what)s: it needs the group %(group)s.",
            what=what,
            group=env.ref(group).full_name,
        )
    )
