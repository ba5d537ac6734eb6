"""Waking the processing: deliveries in bursts over real HTTP to an Odoo 18
server (prefork, 2 HTTP workers and 1 cron worker) on 127.0.0.1, while its
cron worker processes them. Every other cron is switched off and the
processing cron's own schedule is moved a day ahead, so that only the wakes
the deliveries make (a trigger and a NOTIFY, shared while the wake is armed)
start its runs.

Two clients post bursts of one to ``--burst`` one-message deliveries, with
random pauses of up to ``--pause`` seconds in between, so that deliveries
keep arriving while a cron run claims its last batch and ends: the moment a
delivery could go unseen. The last delivery is held back until the bursts'
events are processed and the cron is asleep (no run, no trigger left), so
that, whatever the inputs, it must wake a new run. Exits non-zero unless
every event sent is stored once and processed within ``--settle`` seconds,
and the last delivery woke a run of its own. ``--deliveries`` is 2 or more.

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
    no_target,
    none_expected,
    report,
    run_load,
    server_label,
    server_tracebacks,
    serving,
    sql,
    throwaway_database,
    verdict,
)

SECRET = "wake-secret"
CRON_XMLID = "ir_cron_process_social_events"


def delivery(n):
    """The body of the ``n``-th delivery: one message of a customer of its own."""
    return demo_body(demo_item(f"wk-{n}", f"wk-u-{n}", f"wk-c-{n}", "Any news?"))


def bursts(count, burst, pause, seed):
    """``count`` deliveries as (bodies, pause after them) bursts."""
    rng = random.Random(seed)
    made, jobs = 0, []
    while made < count:
        size = min(rng.randint(1, burst), count - made)
        jobs.append(
            ([delivery(n) for n in range(made, made + size)], rng.uniform(0, pause))
        )
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


def wait_until(condition, settle):
    """Seconds until ``condition()`` holds (None after ``settle`` seconds)."""
    start = time.monotonic()
    while time.monotonic() - start < settle:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def all_processed(db, account_id):
    return not sql(
        db,
        "SELECT 1 FROM social_event WHERE account_id = %s AND state = 'new' LIMIT 1",
        [account_id],
    )


def asleep(db, cron_id):
    """Whether the processing cron is neither triggered nor running: the
    cron worker locks the cron's row for a whole run. The row is probed only
    once no trigger is left, so that the probe never makes the cron worker
    skip a due run."""
    if sql(db, "SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s", [cron_id]):
        return False
    return bool(
        sql(
            db,
            "SELECT 1 FROM ir_cron WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
            [cron_id],
        )
    )


def cron_runs(db, cron_id):
    ((runs,),) = sql(
        db, "SELECT count(*) FROM ir_cron_progress WHERE cron_id = %s", [cron_id]
    )
    return runs


def main():
    parser = arguments(
        __doc__,
        "bench_wake",
        least={"pause": 0, "deliveries": 2},
        port=8996,
        deliveries=2000,
        burst=40,
        pause=2.0,
        seed=17,
        settle=120.0,
    )
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine

    jobs = bursts(args.deliveries - 1, args.burst, args.pause, args.seed)
    last = delivery(args.deliveries - 1)

    def post(body):
        return deliver(args.port, "POST", path, body, demo_headers(SECRET, body))

    def post_burst(_worker, job):
        bodies, pause = job
        answers = [post(body) for body in bodies]
        time.sleep(pause)
        return answers

    def settle(account_id, cron_id):
        """Seconds until the events are processed, and whether the cron
        then fell asleep, each within ``--settle`` seconds."""
        processed = wait_until(lambda: all_processed(args.db, account_id), args.settle)
        slept = processed is not None and (
            wait_until(lambda: asleep(args.db, cron_id), args.settle) is not None
        )
        return processed, slept

    with throwaway_database(args.db, args.keep):
        account_id, path = demo_webhook(args.db, SECRET)
        cron_id = only_deliveries_wake_the_processing(args.db)
        with serving(args.db, args.port, cron_workers=1) as log_path:
            answered, elapsed = run_load(post_burst, 2, jobs=jobs)
            settled, slept = settle(account_id, cron_id)
            runs_before = cron_runs(args.db, cron_id)
            last_answer = post(last)
            last_settled, _slept = settle(account_id, cron_id)
            tracebacks = server_tracebacks(log_path)
        ((stored, distinct, done),) = sql(
            args.db,
            "SELECT count(*), count(DISTINCT external_id), "
            "count(*) FILTER (WHERE state = 'done') "
            "FROM social_event WHERE account_id = %s",
            [account_id],
        )
        runs = cron_runs(args.db, cron_id)

    answers = [answer for burst in answered for answer in burst] + [last_answer]
    refused = sum(status != 200 for status, *_rest in answers)
    errors = sum(len(errors) for *_rest, errors in answers)

    def seconds(value):
        return "never" if value is None else f"{value:.1f}"

    violations = [
        label
        for label, bad in [
            (f"{refused} deliveries not acknowledged", refused),
            (f"{args.deliveries - stored} events missing", stored < args.deliveries),
            (f"{stored - distinct} events stored twice", stored != distinct),
            (
                f"{stored - done} events left unprocessed after {args.settle:.0f} s",
                settled is None or last_settled is None or done != stored,
            ),
            (
                f"the cron still running or triggered {args.settle:.0f} s after "
                "the bursts' events were processed",
                settled is not None and not slept,
            ),
            (
                "the last delivery, sent with the cron asleep, woke no run",
                slept and runs == runs_before,
            ),
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
                f"{len(answers) - 1} in {len(jobs)} bursts of 1-{args.burst}, "
                f"pauses up to {args.pause} s, in {elapsed:.1f} s, then 1 with "
                f"the cron asleep (seed {args.seed})",
            ),
            (
                "acknowledged (200)",
                f"{len(answers) - refused} (target {len(answers)}: "
                f"{verdict(not refused)})",
            ),
            (
                "events stored (SQL) / distinct",
                f"{stored} / {distinct} (target {args.deliveries}: "
                f"{verdict(stored == distinct == args.deliveries)})",
            ),
            (
                "events processed (done)",
                f"{done} (target {stored}: {verdict(done == stored)})",
            ),
            (
                "bursts' events all processed, seconds after the last",
                f"{seconds(settled)} (target: within {args.settle:.0f} s: "
                f"{verdict(settled is not None)})",
            ),
            (
                "the last delivery processed after (s)",
                f"{seconds(last_settled)} (target: within {args.settle:.0f} s: "
                f"{verdict(last_settled is not None)})",
            ),
            (
                "processing cron runs (all woken by deliveries): bursts, last",
                f"{runs_before}, {runs - runs_before}",
            ),
            ("connection errors (retried)", no_target(errors)),
            ("tracebacks in the server log", none_expected(tracebacks)),
        ],
        violations,
        log_path,
    )


if __name__ == "__main__":
    main()
