"""Crash recovery: SIGKILL the event processor mid-batch, restart it, and
check that every event ends processed exactly once.

Stores ``--events`` demo events (customers writing one to three messages in
their conversation), starts a queue worker process (the processing cron's
``social.event._cron_process`` in a loop, see ``common.py``), kills it with
SIGKILL ``--kills`` times while it works (after a random share of a batch),
then lets a last worker finish. Exits non-zero unless every event is done, and
there is exactly one social.message per message id, one ticket per
conversation and one chatter message per social.message.

    /opt/odoo18-venv/bin/python bench/reliability_crash.py [--events 5000]
"""

import argparse
import random
import signal
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


def done_count(db):
    return sql(db, "SELECT count(*) FROM social_event WHERE state = 'done'")[0][0]


def start_worker(db, log):
    return subprocess.Popen(
        worker_command(db), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def kill_when(db, worker, threshold, extra_seconds):
    """SIGKILL ``worker`` once ``threshold`` events are committed, plus
    ``extra_seconds`` so that the kill lands inside a batch. Returns the
    committed count at the kill, or None if the worker ended first."""
    while done_count(db) < threshold:
        if worker.poll() is not None:
            return None
        time.sleep(0.2)
    time.sleep(extra_seconds)
    if worker.poll() is not None:
        return None
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    return done_count(db)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", default="shb_crash")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine
    rng = random.Random(args.seed)

    create_database(args.db)
    from odoo import SUPERUSER_ID, api

    items = conversation_items("cr", args.events, rng)
    with registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = setup_demo_account(env, "crash-secret")
        store_items(env, account, items)
        account_id = account.id

    log_path = f"/tmp/{args.db}_workers.log"
    kills = []
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        for n in range(args.kills):
            worker = start_worker(args.db, log)
            threshold = args.events * (n + 1) // (args.kills + 2)
            kills.append(kill_when(args.db, worker, threshold, rng.uniform(0.5, 3)))
        last = start_worker(args.db, log)
        last.wait()
    elapsed = time.perf_counter() - start

    rows, violations = check_processed(args.db, account_id, items)
    if not args.keep:
        drop_database(args.db)
    if None in kills:
        violations.append("a worker ended before it could be killed")
    if last.returncode:
        violations.append(f"the last worker exited with {last.returncode}")
    print_table(
        "Crash recovery",
        machine
        + [
            ("events stored", args.events),
            ("SIGKILLs, events committed at each", ", ".join(map(str, kills))),
            ("last worker exit code", last.returncode),
            ("cron runs failed with an error, then run again", cron_failures(log_path)),
            ("total processing time (s)", f"{elapsed:.0f}"),
        ]
        + rows,
    )
    print(f"Worker log: {log_path}")
    print("PASS" if not violations else "FAIL: " + "; ".join(violations))
    raise SystemExit(1 if violations else 0)


if __name__ == "__main__":
    main()
