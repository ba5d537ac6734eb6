# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import re
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..adapters.base import PRIVATE
from ..adapters.documents import sniff_document
from ..adapters.media import FILE_NAME, Media
from ..adapters.whatsapp.replies import IMAGE_TYPES
from .social_message import CHANNEL_LABELS

# After a timeout, how long a WhatsApp reply waits for the status webhook
# that says it went out (Meta sends "sent" within seconds).
STATUS_WAIT = timedelta(minutes=10)
# What Meta refuses in a template parameter: new lines, tabs, and more than
# four spaces in a row.
BAD_PARAMETER = re.compile(r"[\n\r\t]| {5,}")


class SocialReply(models.Model):
    """WhatsApp's replies: a document with the text, or an approved template
    (the only reply outside the 24-hour window); and, as WhatsApp cannot
    look up a message sent, a reply that timed out is completed by its
    status webhook (its reference is the idempotency key), never resent."""

    _inherit = "social.reply"

    template_id = fields.Many2one(
        "social.whatsapp.template",
        "WhatsApp template",
        readonly=True,
        ondelete="restrict",
        help="Sent as this approved template; the text is the template as "
        "the customer reads it.",
    )
    template_parameters = fields.Json(
        readonly=True, help="The template's variables and the values sent."
    )
    document_id = fields.Many2one(
        "ir.attachment",
        copy=False,
        ondelete="set null",
        help="The document sent with the text (WhatsApp), kept on the reply so "
        "that the send job can send it again.",
    )

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------
    @api.model
    def _whatsapp_values(
        self, target, kind, document=None, template=None, parameters=None
    ):
        """The reply's values for a ``document`` (``(content, file name)``)
        or a ``template`` filled with ``parameters``, checked; the rendered
        template is the reply's ``text``."""
        values = {}
        if template:
            parameters = self._check_template(target, kind, template, parameters)
            values.update(
                template_id=template.id,
                template_parameters=parameters,
                text=template._render(parameters),
            )
        if document:
            content, name = document
            mimetype = self._check_document(target, kind, content, name)
            values["document"] = {
                "name": _file_name(name),
                "raw": content,
                "mimetype": mimetype,
            }
        return values

    @api.model
    def _check_template(self, target, kind, template, parameters):
        """The template is an approved one of the message's account, which
        the agent may read, and each of its variables has a value Meta
        takes. Returns the parameters as the adapter sends them: the
        template's own (component, index) with their value."""
        template.check_access("read")
        if (
            kind != PRIVATE
            or template.account_id != target.account_id
            or not template.approved
            or not template.active
        ):
            raise UserError(
                self.env._(
                    "The template %s is not an approved template of this "
                    "WhatsApp account.",
                    template.display_name,
                )
            )
        given = {
            ((p.get("component") or "").upper(), str(p.get("index"))): p.get("value")
            for p in parameters or []
        }
        sent = []
        for parameter in template.parameters or []:
            component = (parameter.get("component") or "").upper()
            index = str(parameter.get("index"))
            value = (given.get((component, index)) or "").strip()
            if not value:
                raise UserError(
                    self.env._(
                        "Fill in the variable {{%(index)s}} of the template's "
                        "%(component)s.",
                        index=index,
                        component=component.lower(),
                    )
                )
            if BAD_PARAMETER.search(value):
                raise UserError(
                    self.env._(
                        "The variable {{%s}} may not hold line breaks, tabs or "
                        "more than four spaces in a row (WhatsApp refuses them).",
                        index,
                    )
                )
            sent.append(
                {
                    "component": parameter.get("component"),
                    "index": parameter.get("index"),
                    "value": value,
                }
            )
        return sent

    @api.model
    def _check_image(self, target, kind, content):
        """WhatsApp takes JPEG and PNG images only: refused at once, not
        when the send job tries."""
        mimetype = super()._check_image(target, kind, content)
        if target.channel_code == "whatsapp" and mimetype not in IMAGE_TYPES:
            raise UserError(self.env._("WhatsApp takes JPEG and PNG images only."))
        return mimetype

    @api.model
    def _check_document(self, target, kind, content, name):
        """A PDF, Office or text file, recognised by its content, where the
        reply may carry one, within the network's size limit. Returns its
        MIME type."""
        network = CHANNEL_LABELS.get(target.channel_code, target.channel_code)
        limit = target.account_id._get_adapter().document_limit(
            target._to_adapter_message(), kind
        )
        if not limit:
            raise UserError(
                self.env._("This reply on %s cannot carry a document.", network)
            )
        mimetype = sniff_document(content or b"", name or "")
        if not mimetype:
            raise UserError(
                self.env._(
                    "Only a PDF, Word, Excel, PowerPoint or text file can be sent "
                    "as a document."
                )
            )
        if len(content) > limit:
            raise UserError(
                self.env._(
                    "The document is %(size).1f MB; %(network)s allows %(limit).0f MB.",
                    size=len(content) / 2**20,
                    network=network,
                    limit=limit / 2**20,
                )
            )
        return mimetype

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------
    def _document_to_send(self):
        """``{"document": Media}`` for the adapter when the reply carries
        one, checked again (an attachment could have been replaced)."""
        document = self.document_id.sudo()
        if not document:
            return {}
        content = document.raw or b""
        mimetype = self._check_document(
            self.target_id, self.kind, content, document.name
        )
        return {
            "document": Media(content=content, mimetype=mimetype, name=document.name)
        }

    def _send_template(self, adapter, message):
        """Send the reply's template, still approved, with its values."""
        template = self.template_id.sudo()
        if not template.approved or not template.active:
            raise UserError(
                self.env._(
                    "The template %(template)s is no longer approved (%(status)s).",
                    template=template.display_name,
                    status=template.status or self.env._("removed"),
                )
            )
        return adapter.send_template(
            message,
            template.name,
            template.language,
            self.template_parameters or [],
            self.idempotency_key,
        )

    def _may_be_out(self, error):
        """Whether the message may have gone out despite the TransientError
        ``error``: a timeout leaves it unknown, but an error WhatsApp
        answered (a Graph error, with its code) means it sent nothing, and
        the reply is simply tried again."""
        if self.account_id.network != "whatsapp":
            return super()._may_be_out(error)
        return getattr(error, "graph_code", None) is None

    def _awaits_status(self):
        """Whether this reply waits for its status webhook instead of being
        sent. WhatsApp cannot look a sent message up: after a timeout, only
        the status (``sent``, with the reply's reference) says it went out,
        and completes the reply. It is awaited ``STATUS_WAIT`` after the
        first attempt; without it, the message most likely never left, and
        the reply fails, for the agent to check and retry."""
        if self.account_id.network != "whatsapp" or not self.may_be_published:
            return False
        deadline = self.first_attempt_date + STATUS_WAIT
        if fields.Datetime.now() < deadline:
            self.write({"state": "queued", "next_attempt_date": deadline})
            self.env.ref("social_helpdesk.ir_cron_send_social_replies")._trigger(
                deadline
            )
        else:
            self._fail(
                self.env._(
                    "WhatsApp did not confirm the message: it was most likely not sent."
                )
            )
        return True

    def action_retry(self):
        """An agent retrying a WhatsApp reply that was never confirmed sends
        it again: nothing on WhatsApp can tell whether it went out."""
        whatsapp = self.filtered(
            lambda reply: (
                reply.state == "failed" and reply.account_id.network == "whatsapp"
            )
        )
        result = super().action_retry()
        whatsapp.sudo().may_be_published = False
        return result

    # ------------------------------------------------------------------
    # Chatter
    # ------------------------------------------------------------------
    def _chatter_body(self):
        """A template reply says which template carried the text."""
        body = super()._chatter_body()
        if not self.template_id:
            return body
        reply = self.with_context(lang=self._chatter_lang())
        return body + Markup(
            '<p class="o_social_reply_template text-muted small">%s</p>'
        ) % reply.env._("WhatsApp template %s", reply.template_id.sudo().display_name)


def _file_name(name):
    """``name`` made safe as a file name."""
    return FILE_NAME.sub("_", name or "").strip("._ ")[:100] or "document"
