# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import json
import logging
import threading
from datetime import timedelta

from psycopg2.errors import SerializationFailure, UniqueViolation

from odoo import _, api, fields, models
from odoo.tools import SQL, mute_logger

from ..adapters.base import AdapterError
from .social_message import AuthorBusy

_logger = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_ATTEMPTS = 5
MAX_CLAIM_CONFLICTS = 5  # fresh transactions tried when claiming a batch


class SocialEvent(models.Model):
    """The raw event store: every webhook item and polled item is written here
    before anything else happens, so no customer message is ever lost, and the
    unique key (account, external id) drops duplicate deliveries."""

    _name = "social.event"
    _description = "Social Inbound Event"
    _order = "id desc"
    _rec_name = "external_id"

    account_id = fields.Many2one(
        "social.account", required=True, index=True, ondelete="cascade", readonly=True
    )
    network = fields.Selection(related="account_id.network", store=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    external_id = fields.Char(
        "Network event id",
        required=True,
        readonly=True,
        help="The network's id for this event (message id plus the change), "
        "unique per account.",
    )
    received_date = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now
    )
    payload = fields.Json(readonly=True)
    state = fields.Selection(
        [("new", "New"), ("done", "Done"), ("ignored", "Ignored"), ("error", "Error")],
        default="new",
        required=True,
        index=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt_date = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    ignore_reason = fields.Char(readonly=True)
    ticket_id = fields.Many2one(
        "helpdesk.ticket", readonly=True, index="btree_not_null"
    )
    social_message_ids = fields.One2many(
        "social.message", "event_id", string="Messages", readonly=True
    )

    _sql_constraints = [
        (
            "account_external_id_uniq",
            "unique(account_id, external_id)",
            "This event is already stored for this account.",
        )
    ]

    def init(self):
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS social_event_pending_idx
            ON social_event (id) WHERE state = 'new'
            """
        )

    # ------------------------------------------------------------------
    # Store
    # ------------------------------------------------------------------
    @api.model
    def _store(self, account, events, via_webhook=False):
        """Insert ``events`` (adapter InboundEvents) for ``account``; duplicates
        are dropped by the unique key, not by a search. Returns the number of
        new rows."""
        if not events:
            return 0
        uid = self.env.uid
        rows = [
            SQL(
                "(%s, %s, %s, %s, %s::jsonb, %s, %s)",
                account.id,
                account.network,
                account.company_id.id,
                event.event_id,
                json.dumps(event.payload),
                uid,
                uid,
            )
            for event in events
        ]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_event (account_id, network, company_id,
                    external_id, payload, create_uid, write_uid, state, attempts,
                    received_date, create_date, write_date)
                SELECT v.*, 'new', 0, now, now, now
                FROM (VALUES %s) AS v,
                     (SELECT NOW() AT TIME ZONE 'UTC' AS now) AS clock
                ON CONFLICT (account_id, external_id) DO NOTHING
                """,
                SQL(", ").join(rows),
            )
        )
        stored = self.env.cr.rowcount
        account._touch_activity(received=bool(stored), via_webhook=via_webhook)
        return stored

    @api.model
    def _trigger_processing(self):
        self.env.ref("social_helpdesk.ir_cron_process_social_events")._trigger()

    # ------------------------------------------------------------------
    # Process
    # ------------------------------------------------------------------
    @api.model
    def _claim_batch(self, limit=BATCH_SIZE):
        """Lock a batch of due events. SKIP LOCKED lets several workers or
        servers share the queue without waiting on, or repeating, each other."""
        self.flush_model(["state", "next_attempt_date"])
        self.env.cr.execute(
            """
            SELECT id FROM social_event
            WHERE state = 'new'
              AND (next_attempt_date IS NULL
                   OR next_attempt_date <= NOW() AT TIME ZONE 'UTC')
            ORDER BY id
            LIMIT %s
            FOR UPDATE SKIP LOCKED
            """,
            [limit],
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _cron_process(self, limit=BATCH_SIZE):
        """Process due events batch by batch, committing after each batch."""
        conflicts = 0
        while True:
            try:
                with mute_logger("odoo.sql_db"):  # an expected conflict, retried
                    events = self._claim_batch(limit)
            except SerializationFailure:
                # Another worker committed some of these rows after this
                # transaction's snapshot (REPEATABLE READ): start afresh.
                conflicts += 1
                if conflicts > MAX_CLAIM_CONFLICTS or not self._rollback():
                    raise
                continue
            if not events:
                return
            processed = events._process()
            if not self._commit():
                return
            if not processed:
                # Every customer of the batch is busy in another worker.
                self._trigger_processing()
                return

    @api.model
    def _commit(self):
        """Commit the work done so far, so that each batch or account stands on
        its own; not under Odoo's test runner, which forbids it."""
        if getattr(threading.current_thread(), "testing", False):
            return False
        self.env.cr.commit()  # pylint: disable=invalid-commit
        return True

    @api.model
    def _rollback(self):
        """Drop the current transaction (nothing uncommitted is pending at a
        batch boundary); not under Odoo's test runner."""
        if getattr(threading.current_thread(), "testing", False):
            return False
        self.env.cr.rollback()
        return True

    def _process(self):
        """Process each event in its own savepoint: one bad event never blocks
        or undoes the others. Events whose customer another worker holds stay
        queued, untouched. Returns the events that were handled."""
        handled = self.browse()
        for event in self:
            try:
                with self.env.cr.savepoint():
                    event._process_one()
            except (AuthorBusy, SerializationFailure, UniqueViolation):
                # Another worker holds or just committed this customer: the
                # event stays queued, for a transaction that sees that work.
                continue
            except Exception as exc:  # noqa: BLE001 - any failure is retried
                event._record_failure(exc)
            handled |= event
        return handled

    def _process_one(self):
        self.ensure_one()
        account = self.account_id
        adapter = account._get_adapter()
        messages = adapter.parse_event(self.payload)
        if not messages:
            self._mark_ignored(_("Nothing for the helpdesk in this event."))
            return
        inbound = self.env["social.message"]
        for message in messages:
            inbound |= inbound._ingest(account, self, message)
        if inbound:
            self.write(
                {
                    "state": "done",
                    "ticket_id": inbound[-1:].ticket_id.id,
                    "error": False,
                }
            )
        else:
            self.write({"state": "ignored"})

    def _mark_ignored(self, reason):
        self.write({"state": "ignored", "ignore_reason": reason})

    def _record_failure(self, exc):
        """Retry with exponential backoff, then stop in error; never delete."""
        self.invalidate_recordset()
        attempts = self.attempts + 1
        message = str(exc) if isinstance(exc, AdapterError) else repr(exc)
        _logger.warning(
            "Social event %s failed (attempt %s): %s", self.id, attempts, message
        )
        values = {"attempts": attempts, "error": message}
        if attempts >= MAX_ATTEMPTS:
            values["state"] = "error"
        else:
            delay = timedelta(minutes=2 ** (attempts - 1))
            values["next_attempt_date"] = fields.Datetime.now() + delay
            self.env.ref("social_helpdesk.ir_cron_process_social_events")._trigger(
                values["next_attempt_date"]
            )
        self.write(values)

    def action_retry(self):
        """Put events back in the queue (admins, after fixing the cause)."""
        self.write(
            {"state": "new", "attempts": 0, "next_attempt_date": False, "error": False}
        )
        self._trigger_processing()
