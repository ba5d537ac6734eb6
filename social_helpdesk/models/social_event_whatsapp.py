# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import models


class SocialEvent(models.Model):
    """WhatsApp events that file no message: a customer's answer to a
    satisfaction request rates its ticket (and never reopens it, nor opens a
    new one)."""

    _inherit = "social.event"

    def _process(self):
        rated = self._file_ratings()
        return rated | super(SocialEvent, self - rated)._process()

    def _file_ratings(self):
        """Rate the tickets of the events whose messages are all answers to a
        satisfaction request; returns those events, done. Any other event,
        or one whose request is unknown, is filed as usual."""
        handled = self.browse()
        Ticket = self.env["helpdesk.ticket"]
        for event in self.filtered(
            lambda event: event.network == "whatsapp" and not event.pruned_date
        ):
            account = event.account_id
            adapter = account._get_adapter()
            try:
                messages = adapter.parse_event(event.payload)
            except Exception:  # noqa: BLE001 - the usual processing records it
                continue
            ratings = [(message, adapter.rating_of(message)) for message in messages]
            if not ratings or not all(rating for _message, rating in ratings):
                continue
            rated = [
                (
                    Ticket._social_rated_ticket(account, message, reference),
                    score,
                    message,
                )
                for message, (reference, score) in ratings
            ]
            if not all(ticket for ticket, _score, _message in rated):
                continue
            for ticket, score, message in rated:
                ticket._social_rate(score, message.created_at)
            event.write({"state": "done", "ticket_id": rated[-1][0].id, "error": False})
            handled |= event
        return handled
