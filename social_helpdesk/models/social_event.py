# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import dataclasses
import logging
import threading
from collections import defaultdict
from datetime import timedelta

from psycopg2.errors import SerializationFailure, UniqueViolation

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger

from ..adapters.base import AdapterError
from ..adapters.jsonb import jsonb_text
from .access import ADMIN, require_group
from .social_account import AMBIGUOUS_RECIPIENT, UNADDRESSED
from .social_identity import identity_network
from .social_message import CHANNEL_LABELS, reacted_to

_logger = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_ATTEMPTS = 5
MAX_CLAIM_CONFLICTS = 5  # fresh transactions tried when claiming a batch

# Retention: the payloads of processed events are pruned after this many days
# (the system parameter overrides it; 0 keeps them forever), in batches of
# PRUNE_BATCH_SIZE rows, each committed on its own. The rows and their
# dedup keys stay: a network's redelivery or replay is still a duplicate.
RETENTION_PARAM = "social_helpdesk.event_retention_days"
DEFAULT_RETENTION_DAYS = 90
PRUNE_BATCH_SIZE = 1000
PRUNABLE_STATES = ("done", "ignored")
# The store's size is counted exactly up to this many rows, and estimated
# above from a sample of the table's pages of about as many rows.
STORE_SIZE_SAMPLE_ROWS = 50_000

# The processing cron's wake is "armed" while this sequence holds a recent
# time (epoch seconds): the cron was triggered since it last claimed, so a
# delivery that sees it armed needs no trigger of its own. A sequence because
# it is read and written outside transactions: a flag shared by every worker
# and server. Arming expires after WAKE_ARMED_SECONDS, in case the
# transaction that armed it never committed its trigger.
WAKE_SEQUENCE = "social_event_wake_seq"
WAKE_ARMED_SECONDS = 60
# Deliveries hold this advisory lock (shared) from reading the flag to their
# commit; the cron takes it alone to disarm before each claim, so that claim
# sees every delivery that relied on the flag. Two-key form: the customer
# locks of ``_lock_customers`` use the one-key form, another key space.
WAKE_LOCK = (0x534F43, 1)

# A webhook delivery's one statement: store the events (duplicates dropped by
# the unique key, a deleted account refused by the foreign key) and, once an
# event is new, take the wake lock and read the wake flag, returned with each
# new event. Odoo's pool discards a connection's query plans each time it
# lends it, so every statement is planned anew: this one is a plain INSERT,
# its text built from constants only (see BENCHMARKS.md).
STORE_EVENTS_HEAD = """INSERT INTO social_event (account_id, external_id, payload,
    via_webhook, create_uid, write_uid, state, attempts, received_date,
    create_date, write_date) VALUES """
STORE_EVENT_ROW = """(%s, %s, %s, %s, %s, %s, 'new', 0, NOW() AT TIME ZONE 'UTC',
    NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC')"""
STORE_EVENTS_TAIL = f"""
ON CONFLICT (account_id, external_id) DO NOTHING
RETURNING (
    SELECT pg_sequence_last_value('{WAKE_SEQUENCE}'::regclass)
           > extract(epoch FROM NOW()) - {WAKE_ARMED_SECONDS}
    FROM (SELECT pg_advisory_xact_lock_shared({WAKE_LOCK[0]}, {WAKE_LOCK[1]})) AS held
)"""


def store_events_query(account_id, events, via_webhook, uid):
    """The store statement for ``events`` (adapter InboundEvents) of one
    account: a row of the wake flag comes back for each new event."""
    params = []
    for event in events:
        payload = jsonb_text(event.payload)
        params += (account_id, event.event_id, payload, via_webhook, uid, uid)
    rows = ", ".join([STORE_EVENT_ROW] * len(events))
    return SQL(STORE_EVENTS_HEAD + rows + STORE_EVENTS_TAIL, *params)


# Webhook events addressed to no account that their signature allows are kept
# for an admin, rejected: never claimed for processing. Their ids carry this
# prefix, so that a rejected event never passes for a duplicate of the same
# event filed later under an account it is addressed to (once an admin has
# connected its page, say); a rejected event delivered twice is kept once.
REJECTED_PREFIX = "rejected:"
STORE_REJECTED_HEAD = """INSERT INTO social_event (account_id, external_id, payload,
    ignore_reason, via_webhook, create_uid, write_uid, state, attempts,
    received_date, create_date, write_date) VALUES """
STORE_REJECTED_ROW = """(%s, %s, %s, %s, true, %s, %s, 'rejected', 0,
    NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC')"""
STORE_REJECTED_TAIL = "\nON CONFLICT (account_id, external_id) DO NOTHING"


def store_rejected_query(account_id, rejected, uid):
    """The statement that keeps ``rejected`` ((InboundEvent, reason) pairs)
    under one account."""
    params = []
    for event, reason in rejected:
        external_id = REJECTED_PREFIX + event.event_id
        payload = jsonb_text(event.payload)
        params += (account_id, external_id, payload, reason, uid, uid)
    rows = ", ".join([STORE_REJECTED_ROW] * len(rejected))
    return SQL(STORE_REJECTED_HEAD + rows + STORE_REJECTED_TAIL, *params)


class SocialEvent(models.Model):
    """The raw event store: every webhook item and polled item is written here
    before anything else happens, so no customer message is ever lost, and the
    unique key (account, external id) drops duplicate deliveries."""

    _name = "social.event"
    _description = "Social Inbound Event"
    _order = "id desc"
    _rec_name = "external_id"

    # Indexed by the unique key (account_id, external_id): one index less to
    # update on every webhook delivery.
    account_id = fields.Many2one(
        "social.account", required=True, ondelete="cascade", readonly=True
    )
    # Not stored: a delivery inserts its events without reading the account.
    network = fields.Selection(related="account_id.network")
    # Not stored: a stored copy would cost every delivery a foreign-key check
    # (and a lock on the company's row) for the record rule alone.
    company_id = fields.Many2one(related="account_id.company_id")
    via_webhook = fields.Boolean(
        "Delivered by webhook",
        required=True,
        default=False,
        readonly=True,
        help="Pushed by the network to the webhook, rather than polled or imported.",
    )
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
    pruned_date = fields.Datetime(
        "Payload pruned on",
        readonly=True,
        help="The raw payload was deleted after the retention period; the "
        "event keeps its network id, so a redelivery is still dropped as a "
        "duplicate.",
    )
    state = fields.Selection(
        [
            ("new", "New"),
            ("done", "Done"),
            ("ignored", "Ignored"),
            ("error", "Error"),
            ("rejected", "Rejected"),
        ],
        default="new",
        required=True,
        readonly=True,
    )  # Indexed where it is searched for: new and error (see init).
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
            SQL(
                """
                CREATE INDEX IF NOT EXISTS social_event_pending_idx
                ON social_event (id) WHERE state = 'new';
                CREATE INDEX IF NOT EXISTS social_event_error_idx
                ON social_event (account_id) WHERE state = 'error';
                CREATE INDEX IF NOT EXISTS social_event_latest_idx
                ON social_event (account_id, via_webhook, id);
                CREATE INDEX IF NOT EXISTS social_event_prunable_idx
                ON social_event (received_date)
                WHERE pruned_date IS NULL AND state IN ('done', 'ignored');
                CREATE SEQUENCE IF NOT EXISTS %s MINVALUE 0
                OWNED BY social_event.id;
                """,
                SQL.identifier(WAKE_SEQUENCE),
            )
        )

    # ------------------------------------------------------------------
    # Store
    # ------------------------------------------------------------------
    @api.model
    def _store(self, account, events, via_webhook=False):
        """Insert ``events`` (adapter InboundEvents) for ``account`` and wake
        the processing cron unless its wake is armed: one query, all that a
        webhook delivery runs while the processing keeps up (see
        ``store_events_query``). Returns the number of new rows. For an account
        deleted meanwhile, the foreign key refuses the events: this raises
        ForeignKeyViolation, and the transaction is aborted."""
        if not events:
            return 0
        self.env.cr.execute(
            store_events_query(account.id, events, via_webhook, self.env.uid),
            log_exceptions=False,  # its caller reports what fails
        )
        # The wake is armed when its flag is true (NULL before the sequence's
        # first value); a delivery of duplicates only needs no wake.
        armed_flags = self.env.cr.fetchall()
        # Computed from the event store, never written: nothing to flush.
        account.invalidate_recordset(
            ["last_event_date", "last_webhook_date", "is_silent"], flush=False
        )
        if armed_flags and not armed_flags[0][0]:
            self._trigger_processing()
        return len(armed_flags)

    @api.model
    def _store_delivery(self, network, target, events, api_version=None):
        """Store a webhook delivery's ``events`` under the accounts they are
        addressed to among those its signature allows (see
        ``WebhookTarget.route``): one ``_store`` statement per account, so
        one in the common case, where all are for the URL's account. The
        others are kept apart, rejected under the URL's account, in one more
        statement. ``api_version``: the delivery's Facebook-API-Version,
        recorded on its accounts when it changed. Returns (new events
        stored, events rejected)."""
        addressed, rejected = {}, []
        for event in events:
            account_id, why_not = target.route(event.recipient_id)
            if account_id:
                addressed.setdefault(account_id, []).append(event)
            else:
                reason = self._rejection_reason(network, why_not, event.recipient_id)
                rejected.append((event, reason))
        Account = self.env["social.account"]
        stored = 0
        for account_id, account_events in addressed.items():
            stored += self._store(
                Account.browse(account_id), account_events, via_webhook=True
            )
        if rejected:
            self._store_rejected(Account.browse(target.account_id), rejected)
        if api_version and addressed:
            Account._record_api_version(target, list(addressed), api_version)
        return stored, len(rejected)

    @api.model
    def _store_rejected(self, account, rejected):
        """Keep ``rejected`` ((InboundEvent, reason) pairs) under ``account``,
        whose URL received them, for an admin (see ``REJECTED_PREFIX``)."""
        _logger.info(
            "Social webhook %s: rejected %s event(s): %s",
            account.id,
            len(rejected),
            "; ".join(dict.fromkeys(reason for _event, reason in rejected)),
        )
        self.env.cr.execute(
            store_rejected_query(account.id, rejected, self.env.uid),
            log_exceptions=False,  # its caller reports what fails
        )
        account.invalidate_recordset(
            ["last_event_date", "last_webhook_date", "is_silent"], flush=False
        )

    @api.model
    def _rejection_reason(self, network, why_not, recipient_id):
        """The reason an admin reads on a rejected event."""
        if why_not == UNADDRESSED:
            return _(
                "The event does not say which account it is for, and several "
                "accounts share this webhook's secret."
            )
        if network == "x":
            recipient = _("X user %s", recipient_id)
        elif network == "whatsapp":
            recipient = _("WhatsApp phone number id %s", recipient_id)
        else:  # Meta: the only other network whose events name their account
            recipient = _("page or Instagram account %s", recipient_id)
        if why_not == AMBIGUOUS_RECIPIENT:
            return _(
                "Addressed to %s, which several accounts of this app own.", recipient
            )
        return _("Addressed to %s, which no account of this app owns.", recipient)

    @api.model
    def _trigger_processing(self):
        """Trigger the processing cron and arm its wake: until the cron next
        claims, the deliveries need no trigger of their own, so a webhook
        flood makes one trigger (and one NOTIFY, which opens a connection)
        per batch processed, not one per delivery (see ``WAKE_SEQUENCE``)."""
        self.env["ir.cron"].browse(self._processing_cron_id())._trigger()
        self.env.cr.execute(
            SQL(
                "SELECT setval(%s::regclass, "
                "extract(epoch FROM clock_timestamp())::bigint)",
                WAKE_SEQUENCE,
            )
        )

    @api.model
    def _processing_cron_id(self):
        return self.env["ir.model.data"]._xmlid_to_res_id(
            "social_helpdesk.ir_cron_process_social_events"
        )

    @api.model
    def _disarm_wake(self):
        """Disarm the processing cron's wake and commit, before a batch is
        claimed in a fresh transaction. Disarming takes the wake lock alone,
        which waits for the deliveries that relied on the armed wake: they
        have committed their events by then, so the claim sees them, and the
        deliveries after it trigger the cron again. The triggers are left to
        Odoo's scheduler, which deletes those that started the run when the
        run ends (deleting them here would fail its own deletion)."""
        self.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s, %s); SELECT setval(%s::regclass, 0)",
                *WAKE_LOCK,
                WAKE_SEQUENCE,
            )
        )
        self._commit()

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
            self._disarm_wake()
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
        """Process a claimed batch. Its events are parsed, their customers
        locked at once, and they are filed in waves that hold each customer
        and conversation at most once (so that a customer's messages keep
        their order), a wave in one savepoint with set-based queries. A wave
        that fails is filed again one event at a time: one bad event never
        blocks or undoes the others. Events whose customer another worker
        holds stay queued, untouched. Delivery statuses (WhatsApp's) update
        the replies they are about, locked alike, after the messages.
        Returns the events that were handled."""
        handled = self.browse()
        parsed, reported = [], []
        adapters = {}
        for event in self:
            account = event.account_id
            if event.pruned_date:
                event.write({"state": "error", "error": event._pruned_error()})
                handled |= event
                continue
            try:
                if account not in adapters:
                    adapters[account] = account._get_adapter()
                messages = _with_notices(
                    self.env, adapters[account].parse_event(event.payload)
                )
                statuses = adapters[account].parse_statuses(event.payload)
            except Exception as exc:  # noqa: BLE001 - any failure is retried
                event._record_failure(exc)
                handled |= event
                continue
            if messages:
                parsed.append((event, messages))
            elif statuses:
                reported.append((event, statuses))
            else:
                event._mark_ignored(_("Nothing for the helpdesk in this event."))
                handled |= event
        busy = self._lock_customers(parsed, reported)
        ready = [item for item in parsed if not _customer_keys(item[1]) & busy]
        for wave in _waves(ready, lambda item: _sequence_keys(*item)):
            handled |= self._file_wave(wave)
        reported = [item for item in reported if not _reply_keys(*item) & busy]
        if reported:
            handled |= self._file_wave(reported, file=self._file_statuses)
        return handled

    @api.model
    def _lock_customers(self, parsed, reported=()):
        """Serialize work on each customer across workers, in one query: their
        identity and ticket are found or created by one transaction at a
        time. A worker that finds a customer busy leaves those events for a
        later batch instead of waiting, so two workers can never deadlock on
        each other's customers. The replies that ``reported`` ((event,
        DeliveryStatus list) pairs) are about are locked alike. Returns the
        keys of the busy customers and replies."""
        keys = sorted(
            {key for _event, messages in parsed for key in _customer_keys(messages)}
            | {
                key
                for event, statuses in reported
                for key in _reply_keys(event, statuses)
            }
        )
        if not keys:
            return set()
        self.env.cr.execute(
            "SELECT key FROM unnest(%s::text[]) AS key "
            "WHERE NOT pg_try_advisory_xact_lock(hashtext(key))",
            [keys],
        )
        return {key for (key,) in self.env.cr.fetchall()}

    def _file_wave(self, wave, file=None):
        """File ``wave`` ((event, messages) pairs; with ``file``, the method
        that files them, ``_file`` by default) in one savepoint, else one
        event at a time. Returns the events handled."""
        file = file or self._file
        events = self.browse([event.id for event, _messages in wave])
        try:
            with self.env.cr.savepoint():
                file(wave)
            return events
        except (SerializationFailure, UniqueViolation):
            if len(wave) == 1:
                # Another worker just committed this customer's work: the
                # event stays queued, for a transaction that sees that work.
                return self.browse()
        except Exception as exc:  # noqa: BLE001 - any failure is retried
            if len(wave) == 1:
                events._record_failure(exc)
                return events
        handled = self.browse()
        for item in wave:
            handled |= self._file_wave([item], file=file)
        return handled

    @api.model
    def _file(self, wave):
        """File the messages of ``wave`` and mark its events done or ignored.
        An event's own messages are filed in rounds when they share a
        customer or conversation."""
        Message = self.env["social.message"]
        filed = {}
        entries = [(event, message) for event, messages in wave for message in messages]
        for round_entries in _waves(
            entries, lambda entry: _sequence_keys(entry[0], [entry[1]])
        ):
            records = Message._ingest(round_entries)
            for (event, _message), record in zip(round_entries, records, strict=True):
                filed[event] = filed.get(event, Message) | record
        for event, _messages in wave:
            inbound = filed.get(event, Message)
            if inbound:
                event.write(
                    {
                        "state": "done",
                        "ticket_id": inbound[-1:].ticket_id.id,
                        "error": False,
                    }
                )
            else:
                event.write({"state": "ignored"})

    @api.model
    def _file_statuses(self, reported):
        """Apply the delivery statuses of ``reported`` ((event, DeliveryStatus
        list) pairs) to the replies they are about, account by account,
        and meter them. An event whose statuses match no reply of the
        helpdesk (a message sent from the phone, say) is kept as ignored.
        The caller holds a lock on each reply (see ``_lock_customers``): a
        reply is updated by one worker at a time."""
        by_account = defaultdict(list)
        for event, statuses in reported:
            by_account[event.account_id].append((event, statuses))
        Reply = self.env["social.reply"]
        for account, items in by_account.items():
            statuses = [status for _event, batch in items for status in batch]
            replies = iter(Reply._apply_delivery_statuses(account, statuses))
            matched = [
                (event, [next(replies) for _status in batch]) for event, batch in items
            ]
            self._meter_statuses(
                account, statuses, [reply for _e, found in matched for reply in found]
            )
            for event, event_replies in matched:
                found = Reply.concat(*event_replies)
                if found:
                    event.write(
                        {
                            "state": "done",
                            "ticket_id": found[-1:].ticket_id.id,
                            "error": False,
                        }
                    )
                else:
                    event._mark_ignored(
                        _("A status of a message the helpdesk did not send.")
                    )

    @api.model
    def _meter_statuses(self, account, statuses, replies):
        """The hook of the cost meter: WhatsApp bills messages, and says so
        in their statuses' ``pricing``. ``replies`` (aligned with
        ``statuses``; empty records for messages the helpdesk did not send)
        are what each is about. The meter model, ``social.whatsapp.usage``,
        counts each status once: its event is filed once (this runs in the
        event's savepoint, undone with it)."""
        if "social.whatsapp.usage" in self.env:
            self.env["social.whatsapp.usage"]._record_statuses(
                account, statuses, replies
            )

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
        """Put events back in the queue (admins, after fixing the cause).
        Rejected events stay out: they would be filed under the account whose
        URL received them, which they are not addressed to."""
        require_group(self.env, ADMIN, _("retry inbound events"))
        pruned = self.filtered("pruned_date")
        if pruned:
            raise UserError(pruned[0]._pruned_error())
        self.filtered(lambda event: event.state != "rejected").write(
            {"state": "new", "attempts": 0, "next_attempt_date": False, "error": False}
        )
        self._trigger_processing()

    def _pruned_error(self):
        return _(
            "The payload of event %(event)s was pruned on %(date)s, after the "
            "retention period: it cannot be processed again.",
            event=self.external_id,
            date=self.pruned_date,
        )

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------
    @api.model
    def _retention_days(self):
        """Days a processed event keeps its payload; 0 keeps it forever."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(RETENTION_PARAM, DEFAULT_RETENTION_DAYS)
        )
        try:
            return max(int(value), 0)
        except ValueError:
            _logger.warning(
                "Ignored %s=%r: not a number of days", RETENTION_PARAM, value
            )
            return DEFAULT_RETENTION_DAYS

    @api.model
    def _cron_prune_payloads(self, batch_size=PRUNE_BATCH_SIZE):
        """Empty the payloads of the events processed (done or ignored) before
        the retention period, batch by batch, each committed on its own. The
        rows and their unique keys stay, so the webhook's insert still drops a
        redelivery as a duplicate; events in error, new or rejected keep
        their payload. SKIP LOCKED passes over the rows another transaction
        holds, and a batch locks only its own rows: a delivery waits on one
        only if it redelivers an event of the batch being pruned. Returns the
        number of events pruned."""
        days = self._retention_days()
        if not days:
            return 0
        self.flush_model()
        cutoff = fields.Datetime.now() - timedelta(days=days)
        pruned = 0
        while True:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE social_event SET payload = NULL,
                           pruned_date = NOW() AT TIME ZONE 'UTC'
                    WHERE id IN (
                        SELECT id FROM social_event
                        WHERE pruned_date IS NULL AND state IN %s
                          AND received_date < %s
                        LIMIT %s
                        FOR UPDATE SKIP LOCKED
                    )
                    """,
                    PRUNABLE_STATES,
                    cutoff,
                    batch_size,
                )
            )
            count = self.env.cr.rowcount
            pruned += count
            self._commit()
            if count < batch_size:
                break
        self.invalidate_model(["payload", "pruned_date"])
        if pruned:
            _logger.info("Pruned the payloads of %s social event(s)", pruned)
        return pruned

    @api.model
    def _store_size(self, account_ids):
        """{account id: (events, payload bytes)} of the raw store: exact up to
        STORE_SIZE_SAMPLE_ROWS rows in the table, above that estimated from a
        sample of its pages (TABLESAMPLE SYSTEM), so that a form on a store of
        millions of events reads a few hundred pages, not all of them."""
        if not account_ids:
            return {}
        self.flush_model(["account_id", "payload"])
        self.env.cr.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'social_event'::regclass"
        )
        rows = self.env.cr.fetchone()[0]
        percent = (
            100.0
            if rows <= STORE_SIZE_SAMPLE_ROWS
            else (100.0 * STORE_SIZE_SAMPLE_ROWS / rows)
        )
        sample = SQL("") if percent >= 100 else SQL("TABLESAMPLE SYSTEM (%s)", percent)
        self.env.cr.execute(
            SQL(
                """
                SELECT account_id, count(*) * %s,
                       COALESCE(sum(pg_column_size(payload)), 0) * %s
                FROM social_event %s
                WHERE account_id = ANY(%s)
                GROUP BY account_id
                """,
                100.0 / percent,
                100.0 / percent,
                sample,
                list(account_ids),
            )
        )
        return {
            account_id: (round(events), round(size))
            for account_id, events, size in self.env.cr.fetchall()
        }


def _customer_keys(messages):
    """The advisory lock keys of the customers who wrote ``messages``: their
    user id, and their phone number where the network gives one (an identity
    found by its number may take a new key, see ``social.identity``)."""
    keys = set()
    for message in messages:
        author = message.author
        if author and author.external_id:
            network = identity_network(message.channel)
            keys.add(f"social_helpdesk:{network}:{author.external_id}")
            if author.phone:
                keys.add(f"social_helpdesk:{network}:phone:{author.phone}")
    return keys


def _reply_keys(event, statuses):
    """The advisory lock keys of the replies ``statuses`` are about: their
    network id, and the reference they were sent with (a reply whose
    sending timed out is found by it)."""
    account = event.account_id.id
    keys = {
        f"social_helpdesk:reply:{account}:{status.message_id}" for status in statuses
    }
    return keys | {
        f"social_helpdesk:reply-key:{status.reference}"
        for status in statuses
        if status.reference
    }


def _sequence_keys(event, messages):
    """What must be filed in order: the customers and the conversations."""
    return _customer_keys(messages) | {
        (event.account_id.id, message.thread_key) for message in messages
    }


def _waves(items, keys_of):
    """Split ``items`` into waves in which each key appears at most once. An
    item goes in the wave after the last one holding any of its keys, so
    that the items of a key keep their order."""
    waves, last = [], {}
    for item in items:
        keys = keys_of(item)
        position = max((last[key] + 1 for key in keys if key in last), default=0)
        if position == len(waves):
            waves.append([])
        waves[position].append(item)
        last.update(dict.fromkeys(keys, position))
    return waves


def _with_notices(env, messages):
    """Encrypted messages, and messages of a type the adapter does not know,
    get a notice in the reader's language as their text (followed by what
    the network said of the latter): they are shown, never dropped as
    empty. A reaction says so, and answers the message it reacts to."""
    return [_with_notice(env, message) for message in messages]


def _with_notice(env, message):
    if message.encrypted:
        return dataclasses.replace(
            message, text=env._("[Encrypted XChat message — open X to read it]")
        )
    if message.unsupported_type:
        notice = env._(
            "[Unsupported %(network)s message: %(type)s]",
            network=CHANNEL_LABELS.get(message.channel, message.channel),
            type=message.unsupported_type,
        )
        text = f"{notice}\n{message.text}" if message.text else notice
        return dataclasses.replace(message, text=text)
    reacted = reacted_to(message)
    if reacted is not None:
        text = (
            env._("Reacted %s", message.text)
            if message.text
            else env._("Removed a reaction")
        )
        return dataclasses.replace(
            message, text=text, parent_id=message.parent_id or reacted
        )
    return message
