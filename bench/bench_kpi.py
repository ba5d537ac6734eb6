"""The KPI pivot at scale: channel by month, with the average first response
and the share answered within 2 hours, over 1,000,000 tickets spread over 12
months and 8 channels. Target: under 1 second.

    /opt/odoo18-venv/bin/python bench/bench_kpi.py [--tickets 1000000] [--keep]
"""

import statistics
import time

from common import (
    arguments,
    machine_rows,
    print_table,
    registry,
    throwaway_database,
    verdict,
)

TARGET_SECONDS = 1.0
GROUPBY = ["channel_id", "create_date:month"]
AGGREGATES = ["__count", "first_response_hours:avg", "within_2h_pct:avg"]


def seed(cr, tickets):
    """Tickets made in one INSERT … SELECT: the figures measure the report,
    not the time it takes to create a million records through the ORM."""
    cr.execute(
        """
        INSERT INTO helpdesk_ticket (
            number, name, description, company_id, team_id, stage_id,
            channel_id, is_social, active, priority, create_date, write_date,
            first_response_date, first_response_hours,
            first_response_business_hours, sla_first_response_result, reopen_count)
        SELECT 'B' || n, 'Bench ticket ' || n, '<p>bench</p>', 1, team.id,
               stage.id, channel.ids[1 + n %% 8],
               channel.social[1 + n %% 8], TRUE, '1',
               created, created,
               created + make_interval(mins => ((n * 37) %% 1440)::int),
               ((n * 37) %% 1440) / 60.0, ((n * 37) %% 1440) / 120.0,
               CASE WHEN (n * 37) %% 1440 <= 120 THEN 'met' ELSE 'breached' END,
               0
        FROM generate_series(1::bigint, %s) AS n,
             LATERAL (SELECT NOW() AT TIME ZONE 'UTC'
                             - make_interval(mins => ((n * 7919) %% 525600)::int)
                      AS created) AS t,
             (SELECT array_agg(id ORDER BY id) AS ids,
                     array_agg(is_social ORDER BY id) AS social
                FROM helpdesk_ticket_channel) AS channel,
             (SELECT id FROM helpdesk_ticket_team ORDER BY id LIMIT 1) AS team,
             (SELECT id FROM helpdesk_ticket_stage ORDER BY sequence LIMIT 1)
                 AS stage
        """,
        [tickets],
    )
    cr.execute("ANALYZE helpdesk_ticket")


def main():
    parser = arguments(__doc__, "bench_kpi", tickets=1_000_000, runs=5)
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine
    from odoo import SUPERUSER_ID, api

    with (
        throwaway_database(args.db, args.keep),
        registry(args.db).cursor() as cr,
    ):
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["helpdesk.ticket.team"].create({"name": "Bench team"})
        started = time.perf_counter()
        seed(cr, args.tickets)
        seeding = time.perf_counter() - started
        cr.commit()
        Report = env["helpdesk.ticket.kpi.report"]
        timings, groups = [], None
        for _run in range(args.runs):
            started = time.perf_counter()
            groups = Report._read_group([], GROUPBY, AGGREGATES)
            timings.append(time.perf_counter() - started)
        channels = len({channel for channel, *_rest in groups})
        best, median = min(timings), statistics.median(timings)
    print_table("Machine", machine)
    print_table(
        "KPI pivot: channel by month, count, average first response, % within 2 h",
        [
            ("tickets", f"{args.tickets:,}"),
            ("channels x months (cells)", f"{channels} x ~12 ({len(groups)})"),
            ("seeding (one INSERT ... SELECT)", f"{seeding:.1f} s"),
            (f"pivot, best of {args.runs}", f"{best:.3f} s"),
            (f"pivot, median of {args.runs}", f"{median:.3f} s"),
            (f"target < {TARGET_SECONDS:g} s", verdict(median < TARGET_SECONDS)),
        ],
    )


if __name__ == "__main__":
    main()
