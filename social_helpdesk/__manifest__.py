# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Social Helpdesk",
    "summary": "Turn X, Facebook, Messenger and Instagram messages into helpdesk "
    "tickets on the right contact",
    "version": "18.0.1.0.0",
    "license": "AGPL-3",
    "category": "After-Sales",
    "author": "social_helpdesk contributors",
    "website": "https://github.com/social-helpdesk/social_helpdesk",
    "depends": ["helpdesk_mgmt", "helpdesk_mgmt_sla", "crm"],
    "external_dependencies": {"python": ["tweepy", "requests"]},
    "data": [
        "security/social_helpdesk_security.xml",
        "security/ir.model.access.csv",
        "data/helpdesk_ticket_channel_data.xml",
        "data/ir_cron_data.xml",
        "data/social_api_price_data.xml",
        "wizards/social_identity_link_wizard_views.xml",
        "wizards/social_reply_wizard_views.xml",
        "views/social_reply_views.xml",
        "views/helpdesk_ticket_channel_views.xml",
        "views/social_account_views.xml",
        "views/social_event_views.xml",
        "views/social_identity_views.xml",
        "views/social_message_views.xml",
        "views/social_api_price_views.xml",
        "views/helpdesk_ticket_views.xml",
        "views/res_partner_views.xml",
        "views/social_helpdesk_menus.xml",
    ],
    "demo": ["demo/social_account_demo.xml"],
    "assets": {
        "web.assets_tests": ["social_helpdesk/static/tests/tours/*.esm.js"],
    },
    "installable": True,
}
