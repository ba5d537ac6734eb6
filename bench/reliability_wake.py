"""Waking the processing: deliveries in bursts over real HTTP to an Odoo 18
server (prefork, 2 HTTP workers and 1 cron worker) on 127.0.0.1, while its
cron worker processes them. Every other cron is switched off and the
processing cron's own schedule is moved a day ahead, so that only the wakes
the deliveries make (a trigger and a NOTIFY, shared while the wake is armed)
start its runs.

Two clients post bursts of one to ``--burst`` one-message deliveries, with
random pauses of up to ``--pause`` seconds in between, so that deliveries
keep arriving while a cron run claims its last batch and ends: the moment a
delivery could go unseen. Exits non-zero unless every event sent is stored
once and processed within ``--settle`` seconds of the last delivery, by more
than one cron run.

    /opt/odoo18-venv/bin/python bench/reliability_wake.py [--deliveries 2000]
        [--burst 40] [--pause 2] [--seed 17] [--settle 120]
"""

import random
import time

from common import (
    arguments,
    deliver,
    demo_body,
    demo_headers,
    demo_item,
    demo_webhook,
    machine_rows,
    report,
    run_load,
    server_label,
    server_tracebacks,
    serving,
    sql,
    throwaway_database,
)

SECRET = "wake-secret"
CRON_XMLID = "ir_cron_process_social_events"


def bursts(count, burst, pause, seed):
    """``count`` deliveries as (bodies, pause after them) bursts."""
    rng = random.Random(seed)
    made, jobs = 0, []
    while made < count:
        size = min(rng.randint(1, burst), count - made)
        bodies = [
            demo_body(demo_item(f"wk-{n}", f"wk-u-{n}", f"wk-c-{n}", "Any news?"))
            for n in range(made, made + size)
        ]
        jobs.append((bodies, rng.uniform(0, pause)))
        made += size
    return jobs


def only_deliveries_wake_the_processing(db):
    """Switch the other crons off and move the processing cron's next run a
    day ahead; returns the processing cron's id."""
    ((cron_id,),) = sql(
        db,
        "SELECT res_id FROM ir_model_data "
        "WHERE module = 'social_helpdesk' AND name = %s",
        [CRON_XMLID],
    )
    sql(db, "UPDATE ir_cron SET active = false WHERE id != %s", [cron_id])
    sql(
        db,
        "UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' + interval '1 day' "
        "WHERE id = %s",
        [cron_id],
    )
    sql(db, "DELETE FROM ir_cron_trigger")
    sql(db, "SELECT setval('social_event_wake_seq', 0)")  # disarmed
    return cron_id


def wait_until_processed(db, account_id, settle):
    """Seconds until no event of the account is left new (None after
    ``settle`` seconds)."""
    start = time.monotonic()
    while time.monotonic() - start < settle:
        ((pending,),) = sql(
            db,
            "SELECT count(*) FROM social_event WHERE account_id = %s AND state = 'new'",
            [account_id],
        )
        if not pending:
            return time.monotonic() - start
        time.sleep(0.2)
    return None


def main():
    parser = arguments(
        __doc__,
        "bench_wake",
        zero_ok=("pause",),
        port=8996,
        deliveries=2000,
        burst=40,
        pause=2.0,
        seed=17,
        settle=120.0,
    )
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine

    jobs = bursts(args.deliveries, args.burst, args.pause, args.seed)

    def post_burst(_worker, job):
        bodies, pause = job
        answers = [
            deliver(args.port, "POST", path, body, demo_headers(SECRET, body))
            for body in bodies
        ]
        time.sleep(pause)
        return answers

    with throwaway_database(args.db, args.keep):
        account_id, path = demo_webhook(args.db, SECRET)
        cron_id = only_deliveries_wake_the_processing(args.db)
        with serving(args.db, args.port, cron_workers=1) as log_path:
            answered, elapsed = run_load(post_burst, 2, jobs=jobs)
            settled = wait_until_processed(args.db, account_id, args.settle)
            tracebacks = server_tracebacks(log_path)
        ((stored, distinct, done),) = sql(
            args.db,
            "SELECT count(*), count(DISTINCT external_id), "
            "count(*) FILTER (WHERE state = 'done') "
            "FROM social_event WHERE account_id = %s",
            [account_id],
        )
        ((runs,),) = sql(
            args.db,
            "SELECT count(*) FROM ir_cron_progress WHERE cron_id = %s",
            [cron_id],
        )

    answers = [answer for burst in answered for answer in burst]
    refused = sum(status != 200 for status, *_rest in answers)
    errors = sum(len(errors) for *_rest, errors in answers)
    violations = [
        label
        for label, bad in [
            (f"{refused} deliveries not acknowledged", refused),
            (f"{args.deliveries - stored} events missing", stored < args.deliveries),
            (f"{stored - distinct} events stored twice", stored != distinct),
            (
                f"{stored - done} events left unprocessed after {args.settle:.0f} s",
                settled is None or done != stored,
            ),
            ("a single cron run: nothing was woken twice", runs < 2),
            (f"{tracebacks} tracebacks in the server log", tracebacks),
        ]
        if bad
    ]
    report(
        "Waking the processing",
        machine
        + [
            ("server", server_label(cron_workers=1)),
            ("client", "2 threads over HTTP, bursts with pauses"),
            (
                "deliveries",
                f"{len(answers)} in {len(jobs)} bursts of 1-{args.burst}, "
                f"pauses up to {args.pause} s, in {elapsed:.1f} s (seed {args.seed})",
            ),
            ("acknowledged (200)", len(answers) - refused),
            ("events stored (SQL) / distinct", f"{stored} / {distinct}"),
            ("events processed (done)", done),
            (
                "all processed, seconds after the last delivery",
                "never" if settled is None else f"{settled:.1f}",
            ),
            ("processing cron runs (all woken by deliveries)", runs),
            ("connection errors (retried)", errors),
            ("tracebacks in the server log", tracebacks),
        ],
        violations,
        log_path,
    )


if __name__ == "__main__":
    main()
