"""Two processors, one queue: two separate Odoo processes (each with its own
registry and database connections, as two servers have) run the processing
cron's method on the same stored events at once, and no event may be
processed twice.

This is more concurrency than two servers' crons reach: Odoo's scheduler
locks a cron job's row, so two servers never run the processing job at the
same moment. Here both run it in a loop (see ``common.py``), all the time.

Customers write one to three messages each, and a customer's messages sit
``--stride`` events apart in the queue, so that the batches the two processes
claim at once share customers (the per-customer lock then makes one leave
those events for later). Half the customers are returning ones, whose contact
and identity exist before the run with the profile their messages carry (so
processing them writes nothing on the identity, and no write conflict stands
in for the per-customer lock). Each process works as its own user, so
``write_uid`` shows how the work was shared. Both start processing at one
moment, once both have loaded Odoo, and keep going until retries scheduled
with backoff are done too. Exits non-zero unless every event is done exactly
once, with one ticket per conversation, and both processes took part;
events that failed and were retried are reported. ``--events`` is at least
three processing batches (600): one for each process to claim at once, and
one more, for the process whose first batch held only customers busy in the
other.

``--from-db large_1m`` runs it on a copy of a large database, among its
million tickets.

    /opt/odoo18-venv/bin/python bench/reliability_two_servers.py
        [--events 5000] [--seed 13] [--stride 150] [--from-db large_1m]
"""

import random
import time

from common import (
    PROCESSING_BATCH,
    add_from_db,
    arguments,
    bench_database,
    check_processed,
    conversation_items,
    cron_failures,
    machine_rows,
    no_target,
    registry,
    release,
    report,
    setup_demo_account,
    sql,
    start_worker,
    store_items,
)

LOGINS = ("queue-worker-1", "queue-worker-2")


def prepare(db, items):
    """The account, its stored events, the returning customers and the two
    workers' users; returns (account id, {uid: login})."""
    from odoo import SUPERUSER_ID, api

    with registry(db).cursor() as cr:
        # Importable once the registry has set the addons path up.
        from odoo.addons.social_helpdesk.adapters.base import Author

        env = api.Environment(cr, SUPERUSER_ID, {})
        account = setup_demo_account(env, "two-secret")
        store_items(env, account, items)
        # Returning customers, profiles unchanged.
        env["social.identity"]._find_or_create(
            [
                (
                    item["channel"],
                    Author(
                        item["author"]["id"],
                        item["author"]["handle"],
                        item["author"]["name"],
                        followers_count=item["author"]["followers"],
                    ),
                )
                for item in {item["author"]["id"]: item for item in items[::2]}.values()
            ]
        )
        users = env["res.users"].create(
            [{"name": login, "login": login} for login in LOGINS]
        )
        return account.id, dict(zip(users.ids, LOGINS, strict=True))


def main():
    parser = arguments(
        __doc__,
        "bench_two",
        least={"events": 3 * PROCESSING_BATCH},
        events=5000,
        seed=13,
        stride=150,
    )
    add_from_db(parser)
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine
    items = conversation_items(
        "two", args.events, random.Random(args.seed), args.stride
    )

    with bench_database(args):
        account_id, uids = prepare(args.db, items)
        existing = sql(args.db, "SELECT count(*) FROM helpdesk_ticket")[0][0]
        log_path = f"/tmp/{args.db}_workers.log"
        with open(log_path, "w", encoding="utf-8") as log:
            workers = [start_worker(args.db, log, login, held=True) for login in LOGINS]
            release(workers)
            start = time.perf_counter()
            codes = [worker.wait() for worker in workers]
        elapsed = time.perf_counter() - start

        rows, violations = check_processed(args.db, account_id, items)
        shares = dict(
            sql(
                args.db,
                "SELECT write_uid, count(*) FROM social_event WHERE account_id = %s "
                "GROUP BY write_uid",
                [account_id],
            )
        )
        retried = sql(
            args.db,
            "SELECT count(*), coalesce(max(attempts), 0) FROM social_event "
            "WHERE account_id = %s AND attempts > 0",
            [account_id],
        )[0]

    if any(codes):
        violations.append(f"worker exit codes {codes}")
    if set(shares) != set(uids):
        violations.append("the two processes did not both process events")
    report(
        "Two processors on one queue",
        machine
        + [
            ("tickets in the database before", no_target(f"{existing:,}")),
            ("events stored", f"{args.events} (seed {args.seed})"),
            ("worker exit codes", codes),
            (
                "cron runs failed with an error, then run again",
                no_target(cron_failures(log_path)),
            ),
            (
                "events processed by each process",
                ", ".join(f"{uids.get(uid, uid)}: {n}" for uid, n in shares.items()),
            ),
            ("wall time, with retries (s)", no_target(f"{elapsed:.0f}")),
            (
                "events that failed and were retried (most attempts)",
                "{} ({})".format(*retried),
            ),
            ("events/s, both processes", no_target(f"{args.events / elapsed:.1f}")),
        ]
        + rows,
        violations,
        log_path,
    )


if __name__ == "__main__":
    main()
