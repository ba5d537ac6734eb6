# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).


def post_init_hook(env):
    """Every company but the main one gets its copy of the default rules.
    After the install's translations are loaded, so that copies carry them."""
    env["helpdesk.ticket.rule"]._install_default_rules()
