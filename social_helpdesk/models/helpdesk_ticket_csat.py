# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import PRIVATE

# The rating request, sent to the customer in their language (the contact's,
# else English): customer-facing texts of a network message, kept here so that
# they do not depend on which languages the database has installed.
CSAT_TEXTS = {
    "en": "Thank you for contacting us. How satisfied are you with our help? "
    "Choose from 1 (not at all) to 5 (very satisfied).",
    "es": "Gracias por contactarnos. ¿Qué tan satisfecho está con nuestra "
    "ayuda? Elija de 1 (nada satisfecho) a 5 (muy satisfecho).",
    "pt_BR": "Obrigado por entrar em contato. Qual é a sua satisfação com o "
    "nosso atendimento? Escolha de 1 (nada satisfeito) a 5 (muito satisfeito).",
}


# Where a customer's country says more than their contact's language, which
# is the language of whoever created the contact until someone sets it.
COUNTRY_LANGS = {
    **dict.fromkeys(
        "AR BO CL CO CR CU DO EC ES GT HN MX NI PA PE PR PY SV UY VE".split(), "es"
    ),
    **dict.fromkeys("AO BR MZ PT".split(), "pt_BR"),
}


def csat_text(*langs):
    """The rating request in the first of ``langs`` it exists in (es_MX
    reads Spanish, pt_PT the Brazilian text), else in English."""
    for lang in langs:
        lang = (lang or "").replace("-", "_")
        if lang in CSAT_TEXTS:
            return CSAT_TEXTS[lang]
        prefix = lang.split("_")[0]
        for code, text in CSAT_TEXTS.items():
            if prefix and code.split("_")[0] == prefix:
                return text
    return CSAT_TEXTS["en"]


# Satisfaction apart from helpdesk_ticket.py, which holds the social thread.
class HelpdeskTicket(models.Model):
    """Customer satisfaction on WhatsApp: closing a WhatsApp ticket while its
    window is open asks the customer for a rating from 1 to 5, once per
    closing; the answer is stored on the ticket, which it never reopens."""

    _inherit = "helpdesk.ticket"  # pylint: disable=consider-merging-classes-inherited

    social_rating = fields.Integer(
        "Customer rating",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="The customer's answer (1 to 5) to the satisfaction request sent "
        "when the ticket was closed.",
    )
    # The dashboard reads a period's ratings beside its new and answered
    # tickets: indexed like their dates, so no period scans every ticket.
    social_rating_date = fields.Datetime(
        "Rated on", readonly=True, copy=False, index="btree_not_null"
    )

    def write(self, vals):
        if "stage_id" not in vals:
            return super().write(vals)
        opened = self.filtered(lambda ticket: not ticket.stage_id.closed)
        result = super().write(vals)
        opened.filtered(
            lambda ticket: (
                ticket.stage_id.closed
                and ticket.social_account_id.network == "whatsapp"
            )
        )._social_request_rating()
        return result

    def _social_request_rating(self):
        """Queue a satisfaction request to each ticket's customer, on their
        last message: an automatic message, so that the window and the
        budget apply. One the network would refuse is noted on the ticket."""
        Reply = self.env["social.reply"]
        queued = False
        for ticket in self:
            target = ticket.social_message_ids.filtered(
                lambda message: message.kind == PRIVATE
            ).sorted(lambda message: (message.message_date, message.id))[-1:]
            if not target:
                continue
            country = ticket.social_account_id._whatsapp_market_of(target)
            text = csat_text(
                *(
                    lang
                    for lang in (target.partner_id.lang, COUNTRY_LANGS.get(country))
                    if lang and not lang.startswith("en")
                )
            )
            try:
                Reply._queue(target, PRIVATE, text, csat_request=True)
                queued = True
            except UserError as exc:
                ticket.message_post(
                    body=self.env._("Satisfaction request not sent: %s", exc.args[0]),
                    subtype_xmlid="mail.mt_note",
                )
        if queued:
            self.env.ref("social_helpdesk.ir_cron_send_social_replies")._trigger()

    @api.model
    def _social_rated_ticket(self, account, message, reference):
        """The ticket a rating ``message`` answers: the one whose request
        ``reference`` names (its WhatsApp message id, else the ticket's
        number), else the last one asked in the same conversation."""
        Reply = self.env["social.reply"].sudo()
        domain = [("account_id", "=", account.id), ("csat_request", "=", True)]
        reply = Reply.browse()
        if reference:
            reply = Reply.search(domain + [("external_id", "=", reference)], limit=1)
            if not reply:
                ticket = self.sudo().search(
                    [
                        ("social_account_id", "=", account.id),
                        ("number", "=", reference),
                    ],
                    limit=1,
                )
                if ticket:
                    return ticket
        if not reply:
            reply = Reply.search(
                domain
                + [
                    ("state", "=", "sent"),
                    ("target_id.thread_key", "=", message.thread_key),
                ],
                order="id desc",
                limit=1,
            )
        return reply.ticket_id

    def _social_rate(self, score, moment=None):
        """Store the customer's rating and note it, leaving the ticket's stage
        alone: a rating never reopens it."""
        self.ensure_one()
        moment = moment and moment.replace(tzinfo=None)
        self.write(
            {
                "social_rating": score,
                "social_rating_date": moment or fields.Datetime.now(),
            }
        )
        self.message_post(
            body=self.env._("The customer rated this conversation %s out of 5.", score),
            subtype_xmlid="mail.mt_note",
        )
