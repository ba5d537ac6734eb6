"""Crash recovery: SIGKILL the event processor mid-batch, restart it, and
check that every event ends processed exactly once.

Stores ``--events`` demo events (customers writing one to three messages in
their conversation), then runs queue worker processes one after the other
(the processing cron's ``social.event._cron_process`` in a loop, see
``common.py``). Each of the first ``--kills`` workers is killed with SIGKILL
once it has processed a random number of events in its open transaction
(1 to half of those still queued), so the kill lands inside a batch of 200
and that batch's work is rolled back; a last worker then finishes the queue.
Exits non-zero unless every event is done, with exactly one social.message
per message id, one ticket per conversation, one chatter message per
social.message and one contact per customer, or if no kill landed.

    /opt/odoo18-venv/bin/python bench/reliability_crash.py [--events 5000]
        [--kills 3] [--seed 11]
"""

import random
import signal
import time

from common import (
    arguments,
    check_processed,
    conversation_items,
    cron_failures,
    machine_rows,
    no_target,
    registry,
    report,
    setup_demo_account,
    sql,
    start_worker,
    store_items,
    throwaway_database,
)


def counts(db):
    """Events (done, still new)."""
    return sql(
        db,
        "SELECT count(*) FILTER (WHERE state = 'done'), "
        "count(*) FILTER (WHERE state = 'new') FROM social_event",
    )[0]


def run_and_kill(db, log, rng):
    """Start a worker and SIGKILL it after a random number of processed
    events. Returns a description of the kill, and whether it landed."""
    done_before, pending = counts(db)
    if not pending:
        return "nothing left to process", False
    target = rng.randint(1, max(1, pending // 2))
    worker = start_worker(db, log, progress=True)
    processed = 0
    for line in worker.stdout:
        if line.startswith("processed "):
            processed += 1
            if processed >= target:
                worker.send_signal(signal.SIGKILL)
                break
    worker.stdout.close()
    worker.wait()
    committed = counts(db)[0] - done_before
    if worker.returncode != -signal.SIGKILL:
        return f"worker ended (exit {worker.returncode}) before event {target}", False
    return (
        f"after {processed} events: {committed} committed, "
        f"{processed - committed} rolled back"
    ), True


def main():
    args = arguments(
        __doc__, "bench_crash", least={"kills": 0}, events=5000, kills=3, seed=11
    ).parse_args()
    machine = machine_rows()  # before the run loads the machine
    rng = random.Random(args.seed)
    items = conversation_items("cr", args.events, rng)
    from odoo import SUPERUSER_ID, api

    with throwaway_database(args.db, args.keep):
        with registry(args.db).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = setup_demo_account(env, "crash-secret")
            store_items(env, account, items)
            account_id = account.id

        log_path = f"/tmp/{args.db}_workers.log"
        kills = []
        start = time.perf_counter()
        with open(log_path, "w", encoding="utf-8") as log:
            for _n in range(args.kills):
                kills.append(run_and_kill(args.db, log, rng))
            last = start_worker(args.db, log)
            last.wait()
        elapsed = time.perf_counter() - start
        rows, violations = check_processed(args.db, account_id, items)

    landed = sum(hit for _kill, hit in kills)
    if args.kills and not landed:
        violations.append("no kill landed while events were being processed")
    if last.returncode:
        violations.append(f"the last worker exited with {last.returncode}")
    report(
        "Crash recovery",
        machine
        + [
            ("events stored", f"{args.events} (seed {args.seed})"),
            ("SIGKILLs landed", f"{landed} of {args.kills}"),
            *((f"kill {n}", kill) for n, (kill, _hit) in enumerate(kills, 1)),
            ("last worker exit code", last.returncode),
            (
                "cron runs failed with an error, then run again",
                no_target(cron_failures(log_path)),
            ),
            ("total processing time (s)", no_target(f"{elapsed:.0f}")),
        ]
        + rows,
        violations,
        log_path,
    )


if __name__ == "__main__":
    main()
