# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import secrets

from odoo import fields, models

from ..adapters.meta.client import CONNECTION_INSTAGRAM_LOGIN, CONNECTION_PAGE

SYSTEM = "base.group_system"
X_OAUTH1 = ("x_api_key", "x_api_secret", "x_access_token", "x_access_token_secret")
META_REQUIRED = {
    CONNECTION_PAGE: ("meta_page_id", "meta_page_access_token", "meta_app_secret"),
    CONNECTION_INSTAGRAM_LOGIN: (
        "meta_instagram_account_id",
        "meta_instagram_access_token",
        "meta_instagram_app_secret",
    ),
}
WHATSAPP_REQUIRED = (
    "whatsapp_business_account_id",
    "whatsapp_phone_number_id",
    "whatsapp_access_token",
    "meta_app_secret",
)


def _credential(string, help_text):
    return fields.Char(string, groups=SYSTEM, help=help_text)


class SocialAccountSetupCredentials(models.AbstractModel):
    """The credentials the setup wizard holds until the account is saved,
    each with where to find it, and which of them the chosen ``network``
    (the wizard's) needs."""

    _name = "social.account.setup.credentials"
    _description = "Credentials of a social account being set up"

    x_api_key = _credential(
        "API key",
        "X developer portal, Projects & Apps, your app, Keys and tokens: "
        "Consumer Keys, API Key.",
    )
    x_api_secret = _credential(
        "API key secret",
        "Shown with the API key (Consumer Keys, API Key Secret). It also "
        "signs X's webhook deliveries.",
    )
    x_access_token = _credential(
        "Access token",
        "Keys and tokens, Authentication Tokens: the Access Token of the "
        "brand's account, generated with Read, Write and Direct Messages "
        "permission (User authentication settings).",
    )
    x_access_token_secret = _credential(
        "Access token secret", "Generated with the access token."
    )
    x_oauth2_user_token = _credential(
        "OAuth 2.0 user token",
        "Instead of the access token and secret: a user access token of the "
        "brand's account from X's OAuth 2.0 flow, with the tweet.read, "
        "tweet.write, users.read, dm.read and dm.write scopes.",
    )
    x_bearer_token = _credential(
        "Bearer token",
        "Keys and tokens, Bearer Token: registers the webhook. Alone, it "
        "only reads public posts, and needs the X handle.",
    )
    x_username = fields.Char(
        "X handle",
        help="Only needed with just a bearer token: X then can't tell whose "
        "account it is.",
    )
    x_user_id = fields.Char(readonly=True)
    meta_connection = fields.Selection(
        # The account's list, repeated so that its labels are translated here.
        [
            (CONNECTION_PAGE, "Facebook Page"),
            (CONNECTION_INSTAGRAM_LOGIN, "Instagram Login (no page)"),
        ],
        "Connection",
        default=CONNECTION_PAGE,
        groups=SYSTEM,
        help="Facebook Page: the page, its Messenger and its linked Instagram "
        "account, with a page token. Instagram Login: an Instagram professional "
        "account alone, with an Instagram user token (graph.instagram.com).",
    )
    meta_page_id = _credential(
        "Facebook page id",
        "The page's About section, Page transparency, or Meta Business "
        "Suite, Settings, Business assets.",
    )
    meta_instagram_account_id = _credential(
        "Instagram business account id",
        "Optional: the Instagram professional account linked to the page "
        "(Graph API Explorer: the page's instagram_business_account field).",
    )
    meta_page_access_token = _credential(
        "Page access token",
        "Meta for Developers, your app, Tools, Graph API Explorer: a Page "
        "access token of the page with the permissions listed above (extend "
        "it to a long-lived token with the Access Token Debugger).",
    )
    meta_app_secret = _credential(
        "App secret",
        "Meta for Developers, your app, App settings, Basic: App secret. It "
        "signs Meta's webhook deliveries.",
    )
    meta_instagram_access_token = _credential(
        "Instagram access token",
        "Instagram Login: a user access token of the Instagram professional "
        "account (Meta for Developers, your app, Instagram, API setup with "
        "Instagram login: Generate token), with the instagram_business_basic, "
        "instagram_business_manage_messages and "
        "instagram_business_manage_comments permissions.",
    )
    meta_instagram_app_secret = _credential(
        "Instagram app secret",
        "Instagram Login: the Instagram app secret (your app, Instagram, API "
        "setup with Instagram login, Business login settings). It signs the "
        "webhook deliveries of Instagram Login.",
    )
    whatsapp_business_account_id = _credential(
        "WhatsApp Business Account id",
        "Meta for Developers, your app, WhatsApp, API Setup: WhatsApp "
        "Business Account ID (also in WhatsApp Manager, Account tools).",
    )
    whatsapp_phone_number_id = _credential(
        "Phone number id",
        "Meta for Developers, your app, WhatsApp, API Setup: Phone number ID, "
        "below the business number (an id, not the number itself).",
    )
    whatsapp_access_token = _credential(
        "System user access token",
        "Meta Business Suite, Business settings, Users, System users: a "
        "system user with the app and the WhatsApp account assigned, Generate "
        "token with whatsapp_business_messaging and "
        "whatsapp_business_management (it never expires, unlike API Setup's "
        "temporary token).",
    )
    meta_verify_token = fields.Char(
        "Verify token",
        groups=SYSTEM,
        default=lambda self: secrets.token_urlsafe(24),
        help="Paste it with the webhook URL in the app's Webhooks settings.",
    )
    api_base_url = fields.Char(
        "API base URL",
        groups=SYSTEM,
        help="Leave empty for the network's public API (a proxy or a test server).",
    )

    def _missing_credentials(self):
        """The labels of the credentials still to fill in for the network."""
        self.ensure_one()

        def labels(names):
            return [
                self._fields[name].get_description(self.env)["string"]
                for name in names
                if not self[name]
            ]

        if self.network == "meta":
            return labels(META_REQUIRED[self.meta_connection or CONNECTION_PAGE])
        if self.network == "whatsapp":
            return labels(WHATSAPP_REQUIRED)
        if self.network != "x" or self.x_oauth2_user_token:
            return []
        if self.x_bearer_token and not any(self[name] for name in X_OAUTH1):
            return labels(["x_username"])
        missing = labels(X_OAUTH1)
        if missing and len(missing) == len(X_OAUTH1):
            missing.append(
                self.env._("or an OAuth 2.0 user token, or a bearer token and handle")
            )
        return missing
