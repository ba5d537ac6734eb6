"""Ingestion benchmark: stored events to tickets, against Odoo's own ways of
making tickets, on one real Odoo 18 database.

Three ways make the same number of tickets, each committing every 200
tickets, in alternating rounds so that each meets the same database sizes:

* ours: N demo events (unique customers and conversations) stored through
  ``social.event._store``, then turned into tickets by the processing cron's
  ``social.event._cron_process`` (contact, identity, rules, ticket, chatter);
* floor: a bare ORM batch ``create`` of helpdesk.ticket (categorization rules
  skipped) and one ``message_post`` per ticket;
* gateway: N RFC 822 emails through ``mail.thread.message_process`` routed to
  helpdesk.ticket, Odoo's mail gateway.

Then the same work per network (``--network-events`` each, default 500):
direct messages of distinct customers delivered in each network's own
documented shape (X's Account Activity API, Messenger, the WhatsApp Cloud
API), stored and processed through that network's adapter, the networks
taking turns in as many rounds: a WhatsApp message's cost per event is
printed beside the others'.

Targets: ours >= 1.5x the gateway's rate; ours <= 1.0x the floor's cost per
ticket; ours flat as the tickets add up: each round's rate within 10% of the
rounds' median. ``--from-db`` runs on a copy of a database where the addon is
installed (a large one from ``make_large_db.py``: 0, 100,000 or 1,000,000
existing tickets) instead of a new empty one. ``--profile`` adds a cProfile of
``_cron_process`` on a separate batch.

    /opt/odoo18-venv/bin/python bench/bench_ingestion.py [--events 10000]
        [--from-db large_1m]
"""

import cProfile
import io
import pstats
import statistics
import time
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate

from common import (
    add_from_db,
    arguments,
    bench_database,
    bounded,
    demo_item,
    machine_rows,
    print_table,
    registry,
    setup_demo_account,
    store_items,
    verdict,
)
from network_payloads import network_events, setup_network_accounts

CHUNK = 200  # the processing cron's batch, and the others' commit interval
GATEWAY_TARGET = 1.5
FLOOR_TARGET = 1.0
FLAT_TARGET = 0.10  # each round's rate within 10% of the median round's


def text(n):
    """Neutral text: no categorization rule fires, every event makes a ticket."""
    return f"Hello team, I have a question about my account settings (ref {n})."


def items(prefix, count):
    return [
        demo_item(
            f"{prefix}-m-{n}",
            f"{prefix}-u-{n}",
            f"{prefix}-c-{n}",
            text(f"{prefix}{n}"),
        )
        for n in range(count)
    ]


def email(prefix, n):
    message = EmailMessage()
    message["From"] = f"Customer {prefix}{n} <customer-{prefix}{n}@bench.example>"
    message["To"] = "support@bench.example"
    message["Subject"] = f"Question {prefix}{n}"
    message["Date"] = formatdate()
    message["Message-ID"] = f"<{prefix}-{n}@bench.example>"
    message.set_content(text(f"{prefix}{n}"))
    return message.as_string()


class Meter:
    """Wall time and SQL queries (Odoo's global query counter) of the blocks
    it measured, added up, and the time of each block."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0
        self.blocks = []

    @contextmanager
    def measure(self):
        queries, start = _sql_counter(), time.perf_counter()
        yield
        self.blocks.append(time.perf_counter() - start)
        self.seconds += self.blocks[-1]
        self.queries += _sql_counter() - queries


def _sql_counter():
    from odoo import sql_db

    return sql_db.sql_counter


def run_ours(env, account, prefix, count, store=None, process=None):
    """Store, then run the processing cron, each measured apart."""
    with (store or Meter()).measure():
        store_items(env, account, items(prefix, count))
        env.cr.commit()
    with (process or Meter()).measure():
        env["social.event"]._cron_process()


def run_floor(env, account, prefix, count, meter=None):
    from odoo.tools import plaintext2html

    Ticket = env["helpdesk.ticket"].with_context(social_helpdesk_rules_done=True)
    channel = env["helpdesk.ticket.channel"]._get_by_code("x")
    messages = items(prefix, count)
    with (meter or Meter()).measure():
        for start in range(0, count, CHUNK):
            chunk = messages[start : start + CHUNK]
            tickets = Ticket.create(
                [
                    {
                        "name": item["text"][:60],
                        "description": item["text"],
                        "team_id": account.team_id.id,
                        "channel_id": channel.id,
                    }
                    for item in chunk
                ]
            )
            for ticket, item in zip(tickets, chunk, strict=True):
                ticket.message_post(
                    body=plaintext2html(item["text"]),
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
            env.cr.commit()


def run_gateway(env, prefix, count, meter=None):
    emails = [email(prefix, n) for n in range(count)]
    Thread = env["mail.thread"]
    with (meter or Meter()).measure():
        for n, raw in enumerate(emails, 1):
            Thread.message_process("helpdesk.ticket", raw)
            if n % CHUNK == 0 or n == count:
                env.cr.commit()


def run_network(env, account, name, prefix, count, meter=None):
    """Store a delivery of ``count`` messages of network ``name``, then
    process them; the processing measured. Returns the events."""
    events = network_events(account, name, prefix, count, text)
    env["social.event"]._store(account, events)
    env.cr.commit()
    with (meter or Meter()).measure():
        env["social.event"]._cron_process()
    return env["social.event"].search(
        [
            ("account_id", "=", account.id),
            ("external_id", "in", [e.event_id for e in events]),
        ]
    )


def run_networks(env, count, warmup, rounds):
    """Each network's cost per event, the networks taking turns in
    ``rounds`` so that each meets the same database sizes: (name, meter,
    events done, their tickets)."""
    team = env["helpdesk.ticket.team"].create({"name": "Bench networks team"})
    accounts = setup_network_accounts(env, team)
    env.cr.commit()
    if warmup:
        for name, account in accounts.items():
            run_network(env, account, name, f"w{name}", warmup)  # untimed
    meters = {name: Meter() for name in accounts}
    events = {name: env["social.event"] for name in accounts}
    rounds = max(1, min(rounds, count))
    for n in range(rounds):
        size = count * (n + 1) // rounds - count * n // rounds
        for name, account in accounts.items():
            events[name] |= run_network(
                env, account, name, f"n{n}{name}", size, meters[name]
            )
    results = []
    for name, meter in meters.items():
        done = events[name].filtered(lambda e: e.state == "done")
        results.append((name, meter, len(done), len(done.ticket_id)))
    return results


def profile_ours(env, account, count):
    store_items(env, account, items("prof", count))
    env.cr.commit()
    profiler = cProfile.Profile()
    profiler.runcall(env["social.event"]._cron_process)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # Where the addon's own steps spend their time, then Odoo's hot spots.
    stats.sort_stats("cumulative").print_stats("social_helpdesk|helpdesk_mgmt", 30)
    stats.strip_dirs().sort_stats("tottime").print_stats(20)
    print(out.getvalue())


def main():
    parser = arguments(
        __doc__, "bench_ingest", least={"warmup": 0}, events=10000, warmup=50, rounds=10
    )
    parser.add_argument(
        "--profile",
        type=bounded(int, minimum=0),
        default=0,
        help="cProfile this many more events",
    )
    parser.add_argument(
        "--gateway-events",
        type=bounded(int),
        help="emails through the gateway, if fewer than --events (the "
        "gateway looks contacts up by email without an index: slow on a "
        "large database)",
    )
    add_from_db(parser)
    parser.add_argument(
        "--network-events",
        type=bounded(int, minimum=0),
        default=500,
        help="direct messages per network (X, Messenger, WhatsApp) in their "
        "own shapes; 0: none",
    )
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine
    count = args.events
    from odoo import SUPERUSER_ID, api

    with bench_database(args), registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        existing = env["helpdesk.ticket"].search_count([])
        account = setup_demo_account(env, "bench-secret")
        cr.commit()
        # Warm caches (registry, ormcache, rules) for each path, untimed.
        run_ours(env, account, "wo", args.warmup)
        run_floor(env, account, "wf", args.warmup)
        run_gateway(env, "wg", args.warmup)
        tickets_before = env["helpdesk.ticket"].search_count([])

        store, ours, floor, gateway = Meter(), Meter(), Meter(), Meter()
        rounds = max(1, min(args.rounds, count))
        emails = args.gateway_events or count
        for n in range(rounds):
            size = count * (n + 1) // rounds - count * n // rounds
            run_ours(env, account, f"o{n}", size, store, ours)
            run_floor(env, account, f"f{n}", size, floor)
            share = emails * (n + 1) // rounds - emails * n // rounds
            run_gateway(env, f"g{n}", share, gateway)

        made = env["helpdesk.ticket"].search_count([]) - tickets_before
        events = env["social.event"].search([("external_id", "=like", "demo:o%-m-%")])
        done = events.filtered(lambda e: e.state == "done")
        ours_tickets = len(done.ticket_id)
        networks = (
            run_networks(env, args.network_events, args.warmup, args.rounds)
            if args.network_events
            else []
        )
        if args.profile:
            profile_ours(env, account, args.profile)

    def rate(measure, made=count):
        return made / measure.seconds

    def cost_ms(measure, made=count):
        return measure.seconds / made * 1000

    versus_gateway = rate(ours) / rate(gateway, emails)
    versus_floor = ours.seconds / floor.seconds
    sizes = [count * (n + 1) // rounds - count * n // rounds for n in range(rounds)]
    round_rates = [
        size / seconds for size, seconds in zip(sizes, ours.blocks, strict=True)
    ]
    floor_rates = [
        size / seconds for size, seconds in zip(sizes, floor.blocks, strict=True)
    ]
    median_rate = statistics.median(round_rates)
    spread = max(abs(value / median_rate - 1) for value in round_rates)
    rows = machine + [
        ("tickets in the database before the run", f"{existing:,}"),
        (
            "events (tickets per path)",
            f"{count}, in {rounds} alternating rounds (gateway: {emails} emails)",
        ),
        ("store: events/s (not in the rates below)", f"{rate(store):.0f}"),
        ("ours: events/s", f"{rate(ours):.1f}"),
        ("ours: ms per ticket", f"{cost_ms(ours):.2f}"),
        ("ours: SQL queries per event", f"{ours.queries / count:.1f}"),
        ("floor: tickets/s", f"{rate(floor):.1f}"),
        ("floor: ms per ticket", f"{cost_ms(floor):.2f}"),
        ("floor: SQL queries per ticket", f"{floor.queries / count:.1f}"),
        ("gateway: emails/s", f"{rate(gateway, emails):.1f}"),
        ("gateway: ms per ticket", f"{cost_ms(gateway, emails):.2f}"),
        ("gateway: SQL queries per email", f"{gateway.queries / emails:.1f}"),
        (
            f"ours / gateway rate (target >= {GATEWAY_TARGET})",
            f"{versus_gateway:.2f} ({verdict(versus_gateway >= GATEWAY_TARGET)})",
        ),
        (
            f"ours / floor cost per ticket (target <= {FLOOR_TARGET})",
            f"{versus_floor:.2f} ({verdict(versus_floor <= FLOOR_TARGET)})",
        ),
        (
            "ours: events/s of each round",
            ", ".join(f"{value:.1f}" for value in round_rates),
        ),
        (
            "floor: tickets/s of each round",
            ", ".join(f"{value:.1f}" for value in floor_rates),
        ),
        (
            "ours / floor cost per ticket of each round",
            ", ".join(
                f"{floor_rate / ours_rate:.2f}"
                for ours_rate, floor_rate in zip(round_rates, floor_rates, strict=True)
            ),
        ),
        (
            f"ours: rounds off their median (target <= {FLAT_TARGET:.0%})",
            f"{spread:.0%} ({verdict(spread <= FLAT_TARGET)})",
        ),
        ("check: events done, their tickets", f"{len(done)} / {ours_tickets}"),
        *(
            row
            for name, meter, _done, _tickets in networks
            for row in (
                (
                    f"{name} (own shape): ms per event",
                    f"{cost_ms(meter, args.network_events):.2f}",
                ),
                (
                    f"{name} (own shape): SQL queries per event",
                    f"{meter.queries / args.network_events:.1f}",
                ),
            )
        ),
        *(
            (f"check: {name} events done, their tickets", f"{done_count} / {tickets}")
            for name, _meter, done_count, tickets in networks
        ),
        ("check: tickets made in total", f"{made} (expected {2 * count + emails})"),
    ]
    print_table("Ingestion", rows)
    if len(done) != count or ours_tickets != count or made != 2 * count + emails:
        raise SystemExit("Not every event or email became one ticket.")
    if any(
        (done_count, tickets) != (args.network_events,) * 2
        for _name, _meter, done_count, tickets in networks
    ):
        raise SystemExit("Not every network's event became one ticket.")


if __name__ == "__main__":
    main()
