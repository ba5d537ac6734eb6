"""Two processors, one queue: two separate worker processes (as two Odoo
servers' crons would be) process the same stored events at once, and no
event may be processed twice.

Customers write one to three messages each, and a customer's messages sit
150 events apart in the queue, so that the batches the two processes claim
at once share customers (the per-customer lock then makes one leave those
events for later). Half the customers are returning ones, whose contact and
identity exist before the run. Each process works as its own user, so
``write_uid`` shows how the work was shared. The processes keep going until
retries scheduled with backoff are done too. Exits non-zero unless every
event is done exactly once, with one ticket per conversation; events that
failed and were retried are reported.

    /opt/odoo18-venv/bin/python bench/reliability_two_servers.py [--events 5000]
"""

import argparse
import random
import subprocess
import time

from common import (
    check_processed,
    conversation_items,
    create_database,
    cron_failures,
    drop_database,
    machine_rows,
    print_table,
    registry,
    setup_demo_account,
    sql,
    store_items,
    worker_command,
)

LOGINS = ("queue-worker-1", "queue-worker-2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--db", default="shb_two")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine

    create_database(args.db)
    from odoo import SUPERUSER_ID, api

    items = conversation_items("two", args.events, random.Random(args.seed), 150)
    with registry(args.db).cursor() as cr:
        from odoo.addons.social_helpdesk.adapters.base import Author

        env = api.Environment(cr, SUPERUSER_ID, {})
        account = setup_demo_account(env, "two-secret")
        store_items(env, account, items)
        for item in items[::2]:  # returning customers
            author = item["author"]
            env["social.identity"]._find_or_create(
                item["channel"],
                Author(author["id"], author["handle"], author["name"]),
            )
        users = env["res.users"].create(
            [{"name": login, "login": login} for login in LOGINS]
        )
        account_id, uids = account.id, dict(zip(users.ids, LOGINS, strict=True))

    log_path = f"/tmp/{args.db}_workers.log"
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        workers = [
            subprocess.Popen(
                worker_command(args.db, login), stdout=log, stderr=subprocess.STDOUT
            )
            for login in LOGINS
        ]
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
    if not args.keep:
        drop_database(args.db)
    if any(codes):
        violations.append(f"worker exit codes {codes}")
    if set(shares) != set(uids):
        violations.append("the two processes did not both process events")
    print_table(
        "Two processors on one queue",
        machine
        + [
            ("events stored", args.events),
            ("worker exit codes", codes),
            ("cron runs failed with an error, then run again", cron_failures(log_path)),
            (
                "events processed by each process",
                ", ".join(f"{uids.get(uid, uid)}: {n}" for uid, n in shares.items()),
            ),
            ("wall time, with retries (s)", f"{elapsed:.0f}"),
            (
                "events that failed and were retried (most attempts)",
                "{} ({})".format(*retried),
            ),
            ("events/s, both processes", f"{args.events / elapsed:.1f}"),
        ]
        + rows,
    )
    print(f"Worker log: {log_path}")
    print("PASS" if not violations else "FAIL: " + "; ".join(violations))
    raise SystemExit(1 if violations else 0)


if __name__ == "__main__":
    main()
