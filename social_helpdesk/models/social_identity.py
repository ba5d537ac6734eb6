# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import base64
import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, mute_logger

from ..adapters.base import AdapterError
from ..adapters.media import MediaTooLarge, fetch_media, image_mimetype
from .access import ALL_TICKETS, MANAGER, require_group

_logger = logging.getLogger(__name__)

IDENTITY_NETWORKS = [
    ("x", "X"),
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
    ("whatsapp", "WhatsApp"),
]
# Messenger ids are scoped to the Facebook page, like its comment authors'.
IDENTITY_NETWORK_OF_CHANNEL = {"messenger": "facebook"}
# A profile picture is tried this many times (the network down, say), then
# the contact keeps Odoo's default avatar.
AVATAR_ATTEMPTS = 3


def identity_network(channel):
    """The namespace of a channel's user ids."""
    return IDENTITY_NETWORK_OF_CHANNEL.get(channel, channel)


class SocialIdentity(models.Model):
    """A customer's account on one network, attached to the contact that keeps
    their whole history across phone, email and social."""

    _name = "social.identity"
    _description = "Social Identity"
    _order = "network, handle, id"
    _rec_names_search = ["handle", "display_label", "external_id"]

    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    network = fields.Selection(IDENTITY_NETWORKS, required=True)
    external_id = fields.Char(
        "Network user id", required=True, help="The id the network gives this user."
    )
    handle = fields.Char(help="The user name, without @.")
    display_label = fields.Char("Display name")
    profile_url = fields.Char("Profile URL")
    followers_count = fields.Integer()
    avatar_url = fields.Char(
        "Picture URL",
        readonly=True,
        help="Where the network serves the customer's picture: downloaded once "
        "onto the contact, never shown from the network.",
    )
    avatar_pending = fields.Boolean(
        "Picture to download", readonly=True, copy=False, index="btree_not_null"
    )
    avatar_attempts = fields.Integer(
        "Picture downloads tried", readonly=True, copy=False
    )
    phone = fields.Char(
        readonly=True,
        index="btree_not_null",
        help="The customer's phone number in E.164 form, where the network "
        "gives it (WhatsApp, unless the user hides it behind a username).",
    )
    suggested_partner_ids = fields.Many2many(
        "res.partner",
        "social_identity_suggested_partner_rel",
        "identity_id",
        "partner_id",
        string="Same number as",
        readonly=True,
        help="Contacts that hold this customer's phone number too. Several "
        "matched, so none was chosen: link the right one, never merged "
        "silently.",
    )
    blocked = fields.Boolean(
        readonly=True,
        help="Messages from a blocked identity are stored as ignored and open no "
        "ticket. Helpdesk managers block and unblock; the contact's chatter "
        "keeps a trace.",
    )

    _sql_constraints = [
        (
            "network_external_id_uniq",
            "unique(network, external_id)",
            "This network user is already linked to a contact.",
        )
    ]

    @api.depends("network", "handle", "display_label", "external_id")
    def _compute_display_name(self):
        networks = dict(IDENTITY_NETWORKS)
        for identity in self:
            label = (
                f"@{identity.handle}"
                if identity.handle
                else identity.display_label or identity.external_id
            )
            identity.display_name = f"{networks.get(identity.network, '')} {label}"

    def write(self, vals):
        """Blocking and relinking are decisions on a customer that stop or
        move their conversations: they need a stated group and authority
        over every company the customer writes to, and leave a trace on the
        contact."""
        blocking = "blocked" in vals and self.filtered(
            lambda identity: identity.blocked != bool(vals["blocked"])
        )
        relinking = "partner_id" in vals and self.filtered(
            lambda identity: identity.partner_id.id != vals["partner_id"]
        )
        if blocking:
            require_group(self.env, MANAGER, self.env._("block or unblock customers"))
            blocking._check_companies_covered()
        if relinking:
            require_group(
                self.env, ALL_TICKETS, self.env._("link a customer to another contact")
            )
            relinking._check_companies_covered()
            relinking._check_partner_fits(
                self.env["res.partner"].browse(vals["partner_id"])
            )
        previous = {identity: identity.partner_id for identity in relinking or ()}
        if "partner_id" in vals:
            # The agent chose (the same contact too, to keep it): the contacts
            # once suggested are settled.
            vals = dict(vals, suggested_partner_ids=[Command.clear()])
        result = super().write(vals)
        for identity in blocking or ():
            identity._trace(
                self.env._("%s was blocked: their messages open no ticket.")
                if identity.blocked
                else self.env._("%s was unblocked: their messages open tickets again.")
            )
        for identity, partner in previous.items():
            note = self.env._("%s was linked to another contact.")
            identity._trace(note, partner=partner)
            identity._trace(self.env._("%s was linked to this contact."))
        return result

    def action_block(self):
        return self.write({"blocked": True})

    def action_unblock(self):
        return self.write({"blocked": False})

    def _check_companies_covered(self):
        """The user works for every company these identities wrote to: a
        customer's identity is shared by all companies, so one company's
        decision must not silence or move another's customer."""
        if self.env.su:
            return
        companies = (
            self.env["social.message"]
            .sudo()
            .search([("identity_id", "in", self.ids)])
            .company_id
        )
        if companies - self.env.user.company_ids:
            raise AccessError(
                self.env._(
                    "This customer also writes to companies you do not work for; "
                    "an administrator of all of them can do this."
                )
            )

    def _check_partner_fits(self, partner):
        """A contact of one company only takes identities of that company."""
        companies = (
            self.env["social.message"]
            .sudo()
            .search([("identity_id", "in", self.ids)])
            .company_id
        )
        if partner.company_id and companies - partner.company_id:
            raise UserError(
                self.env._(
                    "%(contact)s belongs to %(company)s, but this customer also "
                    "writes to other companies: choose a contact shared by all.",
                    contact=partner.display_name,
                    company=partner.company_id.name,
                )
            )

    def _trace(self, template, partner=None):
        """A note on the contact's chatter, by the user who acted."""
        (partner or self.partner_id).sudo().message_post(
            body=Markup("<p>%s</p>") % (template % self.display_name),
            author_id=self.env.user.partner_id.id,
            subtype_xmlid="mail.mt_note",
        )

    @api.model
    def _find_or_create(self, authors, companies=None):
        """The identities of ``authors`` ((channel, adapter Author) pairs of
        distinct users), in order, created when unknown; profile data is
        refreshed. ``companies``: the company each author wrote to, where a
        new customer's phone number is looked up among its contacts (see
        ``_new_partners``). Set-based: one search by key, one by phone, one
        update, one create of contacts and one of identities. The caller
        holds a lock on each author (and on their phone number), so two
        workers never race here; one whose snapshot is older than the
        other's commit fails (SerializationFailure or UniqueViolation) and
        processes the events again later."""
        companies = companies or [self.env.company] * len(authors)
        keys = [
            (identity_network(channel), author.external_id)
            for channel, author in authors
        ]
        # Both columns of the unique key (network, external id): an index
        # lookup, where the ids alone would scan every identity.
        found = {
            (identity.network, identity.external_id): identity
            for identity in self.search(
                [
                    ("network", "in", list({network for network, _id in keys})),
                    ("external_id", "in", [external_id for _n, external_id in keys]),
                ]
            )
        }
        by_phone = self._find_by_phone(
            [
                (key, author)
                for key, (_channel, author) in zip(keys, authors, strict=True)
                if key not in found and author.phone
            ]
        )
        known = self.browse([found[key].id for key in keys if key in found])
        if known:
            # Touch the rows: a worker whose snapshot predates another's
            # committed work on these customers then fails to serialize, and
            # retries with fresh data instead of opening a second ticket.
            with mute_logger("odoo.sql_db"):  # an expected conflict, retried
                self.env.cr.execute(
                    "UPDATE social_identity SET write_date = NOW() AT TIME ZONE 'UTC' "
                    "WHERE id = ANY(%s)",
                    [known.ids],
                )
        found.update(by_phone)
        missing = []
        for key, (_channel, author), company in zip(
            keys, authors, companies, strict=True
        ):
            values = _profile_values(author)
            identity = found.get(key)
            if identity:
                changed = {
                    name: value
                    for name, value in values.items()
                    if identity[name] != value
                }
                if "avatar_url" in changed and not identity.partner_id.image_1920:
                    changed.update(avatar_pending=True, avatar_attempts=0)
                if changed:
                    identity.write(changed)
            else:
                missing.append((key, values, author, company))
        if missing:
            partners, suggestions = self._new_partners(
                [(author, company) for _key, _values, author, company in missing]
            )
            with mute_logger("odoo.sql_db"):  # a concurrent first message: retried
                created = self.create(
                    [
                        dict(
                            values,
                            network=key[0],
                            external_id=key[1],
                            partner_id=partner.id,
                            suggested_partner_ids=[Command.set(suggested.ids)],
                            # The picture: in the payload, or from the
                            # network's profile API (see _fetch_avatars).
                            avatar_pending=True,
                        )
                        for (key, values, _author, _company), partner, suggested in zip(
                            missing, partners, suggestions, strict=True
                        )
                    ]
                )
            found.update(
                zip((key for key, _v, _a, _c in missing), created, strict=True)
            )
        return [found[key] for key in keys]

    @api.model
    def _find_by_phone(self, pending):
        """The identities of ``pending`` ((key, Author) pairs not found by
        their key) found by their phone number instead, by key: WhatsApp
        names a customer by their number until it gives their
        business-scoped user id (BSUID). An identity keyed by the number
        takes the BSUID as its key (``_rekey``); a message that carries the
        number alone goes to the identity holding it. An identity with
        another BSUID is another WhatsApp user (a number given to someone
        else): left alone, an agent links them if they are one person."""
        if not pending:
            return {}
        holders = defaultdict(list)
        for identity in self.search(
            [
                ("network", "in", list({key[0] for key, _author in pending})),
                ("phone", "in", list({author.phone for _key, author in pending})),
            ],
            order="id desc",
        ):
            holders[identity.network, identity.phone].append(identity)
        result = {}
        for key, author in pending:
            digits = author.phone.lstrip("+")
            candidates = holders[key[0], author.phone]
            by_number = [i for i in candidates if i.external_id == digits]
            if by_number and key[1] != digits:
                by_number[0]._rekey(key[1])
                result[key] = by_number[0]
            elif candidates and key[1] == digits:
                result[key] = candidates[0]
        return result

    def _rekey(self, external_id):
        """Name this customer by ``external_id`` from now on; the private
        threads named after the old key (WhatsApp's conversations) are
        renamed with it, so that they go on in the same tickets."""
        self.ensure_one()
        old = self.external_id
        _logger.info("Social identity %s: key %s becomes %s", self.id, old, external_id)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH renamed AS (
                    UPDATE social_message
                       SET conversation_id = %(new)s,
                           thread_key = left(thread_key, -length(%(old)s)) || %(new)s
                     WHERE identity_id = %(identity)s AND kind = 'private'
                       AND conversation_id = %(old)s
                 RETURNING thread_key
                )
                UPDATE helpdesk_ticket
                   SET social_thread_key = left(social_thread_key, -length(%(old)s))
                       || %(new)s
                 WHERE social_thread_key IN (
                       SELECT left(thread_key, -length(%(new)s)) || %(old)s
                         FROM renamed
                 )
                """,
                new=external_id,
                old=old,
                identity=self.id,
            )
        )
        self.env["social.message"].invalidate_model(["conversation_id", "thread_key"])
        self.env["helpdesk.ticket"].invalidate_model(["social_thread_key"])
        self.external_id = external_id

    @api.model
    def _new_partners(self, customers):
        """The contacts of new customers (``customers``: (Author, company)
        pairs), and the contacts suggested for each, in order. A customer
        whose phone number is on exactly one contact of the company (or a
        shared one) is attached to it: their phone and social tickets are
        one history. When it is on several, a new contact is made and those
        are suggested to the agent, never merged silently."""
        Partner = self.env["res.partner"]
        matches = Partner._social_phone_matches(
            [(author.phone, company) for author, company in customers]
        )
        to_create = [
            {
                "name": author.name
                or author.handle
                or author.phone
                or author.external_id,
                **({"phone": author.phone} if author.phone else {}),
            }
            for (author, _company), match in zip(customers, matches, strict=True)
            if len(match) != 1
        ]
        # The identity says where each contact came from: no creation note.
        created = iter(Partner.with_context(mail_create_nolog=True).create(to_create))
        partners = [match if len(match) == 1 else next(created) for match in matches]
        suggestions = [match if len(match) > 1 else Partner for match in matches]
        return partners, suggestions

    def _fetch_avatars(self, max_bytes, timeout):
        """Download these customers' pictures onto their contacts, once: the
        chatter shows a message author's avatar from Odoo, so the network
        never learns who reads the ticket. A contact that has a picture
        keeps it. The profile API is asked through the account of the
        customer's latest message, when the payload gave no address."""
        latest = {
            identity.id: self.env["social.message"].browse(last_id)
            for identity, last_id in self.env["social.message"]._read_group(
                [("identity_id", "in", self.ids)], ["identity_id"], ["id:max"]
            )
        }
        adapters = {}
        for identity in self:
            identity._fetch_avatar(
                latest.get(identity.id), adapters, max_bytes, timeout
            )

    def _fetch_avatar(self, message, adapters, max_bytes, timeout):
        self.ensure_one()
        partner = self.partner_id.sudo()
        if partner.image_1920 or not message:
            self.avatar_pending = False
            return
        account = message.account_id
        try:
            url = self.avatar_url
            if not url:
                if account not in adapters:
                    adapters[account] = account._get_adapter()
                url = adapters[account].profile_picture_url(
                    message.channel_code, self.external_id
                )
                self.avatar_url = url or False
            if url:
                media = fetch_media(url, max_bytes, timeout)
                if image_mimetype(media.content):
                    with self.env.cr.savepoint():
                        partner.image_1920 = base64.b64encode(media.content)
                else:
                    _logger.info("Picture of social identity %s: no image", self.id)
        except (MediaTooLarge, UserError) as exc:  # too large, or undecodable
            _logger.info("No picture for social identity %s: %s", self.id, exc)
        except AdapterError as exc:
            _logger.info("Picture of social identity %s not taken: %s", self.id, exc)
            attempts = self.avatar_attempts + 1
            self.write(
                {
                    "avatar_attempts": attempts,
                    "avatar_pending": attempts < AVATAR_ATTEMPTS,
                }
            )
            return
        self.avatar_pending = False


def _profile_values(author):
    """The identity fields an adapter Author refreshes: only those it carries,
    since a sparse payload (an Instagram DM, an X reply without ``includes``)
    must not erase what is known."""
    values = {
        name: value
        for name, value in (
            ("handle", author.handle),
            ("display_label", author.name),
            ("profile_url", author.profile_url),
            ("avatar_url", author.avatar_url),
            ("phone", author.phone),
        )
        if value
    }
    if author.followers_count is not None:
        values["followers_count"] = author.followers_count
    return values
