# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import itertools
import json
from contextlib import contextmanager
from unittest.mock import patch

from odoo.http import request
from odoo.tests.common import TransactionCase, get_db_name
from odoo.tools import mute_logger

_ids = itertools.count(1)


def demo_item(
    text,
    author="u-1",
    channel="x",
    kind="public",
    conversation="c-1",
    parent="",
    name=None,
    handle=None,
    followers=100,
    message_id=None,
    lang="en",
):
    """A message in the demo network's wire format (its webhook and dataset)."""
    return {
        "id": message_id or f"t-{next(_ids)}",
        "channel": channel,
        "kind": kind,
        "conversation_id": conversation,
        "parent_id": parent,
        "author": {
            "id": author,
            "handle": handle or author.replace("-", "_"),
            "name": name or f"Customer {author}",
            "followers": followers,
        },
        "text": text,
        "lang": lang,
    }


def execute_kw(case, user, model, method, args, kwargs=None):
    """The external API as any script calls it (/jsonrpc, object service,
    execute_kw), as ``user``, whose password is their login: the HTTP
    response of ``case`` (an HttpCase)."""
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [
                get_db_name(),
                user.id,
                user.login,
                model,
                method,
                args,
                kwargs or {},
            ],
        },
    }
    return case.url_open(
        "/jsonrpc",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )


@contextmanager
def first_run_fails(registry):
    """Odoo runs a request again when its transaction fails to serialize: the
    first run of each request made in this block fails so, once its work is
    done. Yields the list of runs."""
    runs = []
    IrHttp = registry["ir.http"]
    post_dispatch = IrHttp._post_dispatch

    def fail_first_run(response):
        post_dispatch(response)
        runs.append(True)
        if len(runs) == 1:
            request.env.cr.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'concurrent update' "
                "USING ERRCODE = 'serialization_failure'; END $$"
            )

    # The failure is expected: its "bad query" is not worth an ERROR line.
    with (
        patch.object(IrHttp, "_post_dispatch", fail_first_run),
        mute_logger("odoo.sql_db"),
    ):
        yield runs


def age_events(env, account, hours):
    """Date ``account``'s stored events ``hours`` earlier."""
    env["social.event"].flush_model()
    env.cr.execute(
        "UPDATE social_event SET received_date = received_date "
        "- make_interval(hours => %s) WHERE account_id = %s",
        [hours, account.id],
    )
    env.invalidate_all()


class SocialCase(TransactionCase):
    """A team and a demo account, and helpers that drive the real store and
    process path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Social care"})
        cls.account = cls.env["social.account"].create(
            {
                "name": "Test demo account",
                "network": "demo",
                "state": "connected",
                "team_id": cls.team.id,
                "demo_webhook_secret": "test-secret",
            }
        )
        cls.Event = cls.env["social.event"]
        cls.done_stage = cls.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")

    def store(self, *items, account=None):
        account = account or self.account
        events = account._get_adapter().split_delivery({"messages": list(items)})
        return self.Event._store(account, events)

    def age_events(self, hours, account=None):
        """Date the account's stored events ``hours`` earlier, as if they had
        been received then."""
        age_events(self.env, account or self.account, hours)

    def deliver(self, *items, account=None):
        """Store items as a webhook delivery would, then run the processor."""
        self.store(*items, account=account)
        self.Event._cron_process()

    def event_of(self, item):
        return self.Event.search(
            [
                ("account_id", "=", self.account.id),
                ("external_id", "=", f"demo:{item['id']}"),
            ]
        )

    def message_of(self, item):
        return self.env["social.message"].search(
            [("account_id", "=", self.account.id), ("external_id", "=", item["id"])]
        )
