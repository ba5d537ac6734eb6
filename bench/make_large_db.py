"""Build a large helpdesk database fast: bulk SQL, not the ORM loop.

A database where social_helpdesk is installed (made here unless it exists:
installed without demo data, or copied from ``--from-db``) gets, with the
defaults, 1,000,000 tickets over 2 years in 3 companies on every channel (X,
Facebook, Messenger, Instagram, web, email, phone), 1,000,000 contacts,
600,000 social identities, 3,000,000 social messages, 5,000,000 chatter
messages on the tickets and 2,000,000 processed raw events. ``--scale 0.1``
makes a tenth of each.

The companies, teams, agents, social accounts and one template record of
each table are made by the ORM; every other row is a copy of its table's
template (so each column keeps the ORM's default) made by one ``INSERT ...
SELECT`` over ``generate_series``, with ids reserved from the tables'
sequences and ticket numbers from the ticket sequence, so that Odoo goes on
numbering after them. Foreign keys are not checked row by row while loading
(the rows are built consistent), and the secondary indexes of each table are
built once, after its rows. The SLA targets get their deadlines and warnings
on the policies' clocks (the standard calendar's hours, in SQL), then the
addon's own status statement settles them and stores each ticket's SLA
fields; escalations that came due are marked fired, as the cron would have
left them. Then VACUUM ANALYZE, and a check that Odoo works on the result:
a ticket read as its form reads it, and one run of each cron of the addon.

    /opt/odoo18-venv/bin/python bench/make_large_db.py [--db large_1m] [--scale 1]

It refuses a database that already has its data, unless ``--replace`` (drop
it and start again).
"""

import argparse
import subprocess
import time
from contextlib import contextmanager
from datetime import timedelta

from common import (
    ODOO_BIN,
    bounded,
    drop_database,
    machine_rows,
    odoo_args,
    print_table,
    registry,
    sql,
)

COUNTS = {
    "tickets": 1_000_000,
    "contacts": 1_000_000,
    "identities": 600_000,
    "social_messages": 3_000_000,
    "chatter": 5_000_000,
    "events": 2_000_000,
}
MARK = "Large DB template"  # the template records' name: the data is there
# Tickets by channel, out of 20: social 65%, email 15%, web 10%, phone 10%.
CHANNEL_SLOTS = (
    ["x"] * 5
    + ["facebook"] * 3
    + ["messenger"] * 3
    + ["instagram"] * 2
    + ["email"] * 3
    + ["web"] * 2
    + ["phone"] * 2
)
TEAM_SLOTS = 6  # other tickets go round the company's teams
SOCIAL = ("x", "facebook", "messenger", "instagram")
# An identity's network by its number modulo 10 (x 5, facebook 3, instagram 2),
# and the slots a channel's authors are taken from.
IDENTITY_SLOTS = {"x": (0, 5), "facebook": (5, 3), "messenger": (5, 3)}
IDENTITY_SLOTS["instagram"] = (8, 2)
TEXTS = (
    "My order has not arrived yet, can you check it?",
    "I was charged twice for the same invoice.",
    "The app logs me out every time I open it.",
    "How do I change the delivery address of my order?",
    "Your support was great, but the product broke after a week.",
    "Where can I download my invoice?",
)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="large_1m", help="(%(default)s)")
    parser.add_argument(
        "--from-db",
        help="copy this database (social_helpdesk installed, nobody connected) "
        "instead of installing the addon in a new one",
    )
    parser.add_argument(
        "--replace", action="store_true", help="drop --db first if it exists"
    )
    parser.add_argument(
        "--scale",
        type=bounded(float),
        default=1.0,
        help="multiply every default count (0.1: 100,000 tickets) (%(default)s)",
    )
    for name, default in COUNTS.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=bounded(int),
            help=f"(scale x {default:,})",
        )
    parser.add_argument("--years", type=bounded(float), default=2.0)
    parser.add_argument("--companies", type=bounded(int), default=3)
    parser.add_argument(
        "--agents", type=bounded(int), default=8, help="agents per company"
    )
    parser.add_argument(
        "--open-share",
        type=bounded(float, 0.0, 1.0),
        default=0.1,
        help="the newest tickets still open (%(default)s)",
    )
    parser.add_argument(
        "--no-check", action="store_true", help="skip the final check in Odoo"
    )
    args = parser.parse_args()
    for name, default in COUNTS.items():
        if getattr(args, name) is None:
            setattr(args, name, max(1, round(default * args.scale)))
    if args.identities > args.contacts:
        parser.error("--identities can't exceed --contacts (one contact each)")
    if args.identities < 10:
        parser.error("--identities must be 10 or more (each network has some)")
    if args.events > args.social_messages:
        parser.error("--events can't exceed --social-messages (one message each)")
    if args.chatter < args.social_messages:
        parser.error("--chatter must be at least --social-messages (one each)")
    return args


class Steps:
    """Each step's wall time, and what it made."""

    def __init__(self):
        self.rows = []

    @contextmanager
    def step(self, label):
        print(f"{time.strftime('%H:%M:%S')} {label} ...", flush=True)
        started = time.perf_counter()
        made = {}
        yield made
        seconds = time.perf_counter() - started
        what = f"{made['rows']:,} rows, " if "rows" in made else ""
        self.rows.append((label, f"{what}{seconds:.1f} s"))
        print(f"           {what}{seconds:.1f} s", flush=True)


def database_exists(db):
    return bool(sql("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [db]))


def make_database(args):
    if database_exists(args.db):
        if args.replace:
            drop_database(args.db)
        else:
            return
    if args.from_db:
        subprocess.run(["createdb", "-T", args.from_db, args.db], check=True)
        return
    subprocess.run(
        [
            ODOO_BIN,
            *odoo_args(args.db, "-i", "social_helpdesk", "--without-demo=all"),
            "--stop-after-init",
            "--max-cron-threads=0",
            "--no-http",
            "--log-level=warn",
        ],
        check=True,
    )


# -- setup through the ORM ------------------------------------------------------
def setup(env, args):
    """Companies, their channels, teams, agents and accounts, and the template
    records. Returns the ids the bulk steps use."""
    from odoo import Command

    Channel = env["helpdesk.ticket.channel"]
    main = env.ref("base.main_company")
    companies = main + env["res.company"].create(
        [{"name": f"Large Company {n}"} for n in range(2, args.companies + 1)]
    )
    helpdesk_user = env.ref("helpdesk_mgmt.group_helpdesk_user")
    layout = {"companies": [], "subtypes": {}}
    for number, company in enumerate(companies, 1):
        channels = {code: Channel._get_by_code(code, company) for code in SOCIAL}
        for code in ("web", "email", "phone"):
            channel = Channel._get_by_code(code, company)
            if not channel:
                # The main company's channel, its SLA policies with it.
                model = Channel._get_by_code(code, main)
                channel = Channel.create(
                    {"name": model.name, "code": code, "company_id": company.id}
                )
                env["helpdesk.sla"].search([("channel_ids", "in", model.ids)]).write(
                    {"channel_ids": [Command.link(channel.id)]}
                )
            channels[code] = channel
        agents = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                [
                    {
                        "name": f"Agent {number}.{n}",
                        "login": f"agent{number}.{n}@large.example",
                        "email": f"agent{number}.{n}@large.example",
                        "company_id": company.id,
                        "company_ids": [Command.set(company.ids)],
                        "groups_id": [Command.link(helpdesk_user.id)],
                    }
                    for n in range(1, args.agents + 1)
                ]
            )
        )
        Team = env["helpdesk.ticket.team"].with_company(company)
        teams = Team.search([("company_id", "=", company.id)]) | Team.create(
            [
                {"name": name, "company_id": company.id}
                for name in ("Support", "Social media")
            ]
        )
        half = len(agents) // 2 or 1
        for team, members in zip(
            teams, (agents, agents[:half], agents[half:] or agents), strict=False
        ):
            team.write(
                {
                    "use_sla": True,
                    "user_id": members[:1].id,
                    "user_ids": [Command.set(members.ids)],
                }
            )
        social_team = teams[-1]
        Account = env["social.account"].with_company(company)
        x_account = Account.create(
            {
                "name": f"X {company.name}",
                "network": "x",
                "company_id": company.id,
                "team_id": social_team.id,
                "poll_enabled": False,
                "x_user_id": f"9{number}000",
                "x_username": f"large_brand_{number}",
            }
        )
        meta_account = Account.create(
            {
                "name": f"Meta {company.name}",
                "network": "meta",
                "company_id": company.id,
                "team_id": social_team.id,
                "poll_enabled": False,
                "meta_page_id": f"8{number}000",
                "meta_instagram_account_id": f"7{number}000",
            }
        )
        (x_account | meta_account).sudo().write({"state": "connected"})
        layout["companies"].append(
            {
                "id": company.id,
                "channels": {code: channel.id for code, channel in channels.items()},
                "teams": teams.ids,
                "social_team": social_team.id,
                "agents": agents.ids,
                "agent_partners": agents.partner_id.ids,
                "accounts": {"x": x_account.id, "meta": meta_account.id},
            }
        )
    first = layout["companies"][0]
    partner = env["res.partner"].create({"name": MARK, "email": "t@large.example"})
    identity = env["social.identity"].create(
        {
            "partner_id": partner.id,
            "network": "x",
            "external_id": "large-template",
            "handle": "large_template",
        }
    )
    ticket = (
        env["helpdesk.ticket"]
        .with_context(social_helpdesk_rules_done=True, mail_create_nolog=True)
        .create(
            {
                "name": MARK,
                "description": "<p>Template</p>",
                "team_id": first["social_team"],
                "channel_id": first["channels"]["x"],
                "partner_id": partner.id,
                "user_id": first["agents"][0],
            }
        )
    )
    post = ticket.message_post(
        body="<p>Template</p>",
        author_id=partner.id,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )
    event = env["social.event"].create(
        {
            "account_id": first["accounts"]["x"],
            "external_id": "large-template",
            "payload": {"template": True},
            "state": "done",
            "ticket_id": ticket.id,
        }
    )
    message = env["social.message"].create(
        {
            "account_id": first["accounts"]["x"],
            "event_id": event.id,
            "ticket_id": ticket.id,
            "identity_id": identity.id,
            "partner_id": partner.id,
            "mail_message_id": post.id,
            "channel_code": "x",
            "kind": "public",
            "external_id": "large-template",
            "thread_key": "x:large-template:large-template",
        }
    )
    ticket.message_subscribe(
        partner_ids=env["res.users"].browse(first["agents"][:1]).partner_id.ids
    )
    env.flush_all()
    followers = env["mail.followers"].search(
        [("res_model", "=", "helpdesk.ticket"), ("res_id", "=", ticket.id)]
    )
    layout["templates"] = {
        "res_partner": partner.id,
        "social_identity": identity.id,
        "helpdesk_ticket": ticket.id,
        "helpdesk_ticket_sla": ticket.ticket_sla_ids[:1].id,
        "mail_message": post.id,
        "social_event": event.id,
        "social_message": message.id,
        "mail_followers": followers[:1].id,
    }
    for name, xmlid in (
        ("comment", "mail.mt_comment"),
        ("note", "mail.mt_note"),
        ("created", "helpdesk_mgmt.hlp_tck_created"),
    ):
        layout["subtypes"][name] = env.ref(xmlid).id
    layout["stages"] = {
        xmlid: env.ref(f"helpdesk_mgmt.helpdesk_ticket_stage_{xmlid}").id
        for xmlid in ("new", "in_progress", "awaiting", "done", "cancelled", "rejected")
    }
    sequence = env["ir.sequence"].search(
        [("code", "=", "helpdesk.ticket.sequence")], limit=1
    )
    layout["sequence"] = (
        f"ir_sequence_{sequence.id:03d}",
        sequence.prefix or "",
        sequence.padding,
    )
    calendar = env.ref("resource.resource_calendar_std")
    layout["attendances"] = [
        (int(line.dayofweek), line.hour_from, line.hour_to)
        for line in calendar.attendance_ids
        if line.day_period != "lunch"
    ]
    return layout


# -- bulk SQL -------------------------------------------------------------------
def reserve(cr, sequence, count):
    """``count`` consecutive values of ``sequence``; returns the first."""
    cr.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [sequence, sequence, count])
    return cr.fetchone()[0] - count + 1


def columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cr.fetchall()]


def quoted(name):
    return '"' + name + '"'


@contextmanager
def secondary_indexes_dropped(cr, table):
    """``table``'s secondary indexes dropped while its rows are written in
    bulk, then built once: far faster than kept up row by row."""
    cr.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indrelid = %s::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        """,
        [table],
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(f'DROP INDEX "{name}"')
    yield
    for _name, definition in indexes:
        cr.execute(definition)


def clone(cr, table, template_id, source, overrides, params=None):
    """One copy of ``template_id`` per row of ``source`` (a query aliased
    ``src``), with ``overrides`` (column: SQL expression)."""
    names = columns(cr, table)
    unknown = set(overrides) - set(names)
    assert not unknown, f"{table} has no {unknown}"
    select = ", ".join(overrides.get(name) or f"t.{quoted(name)}" for name in names)
    with secondary_indexes_dropped(cr, table):
        cr.execute(
            f"INSERT INTO {table} ({', '.join(map(quoted, names))}) "
            f"SELECT {select} FROM {table} t, ({source}) src"
            f" WHERE t.id = {template_id}",
            params,
        )
        rows = cr.rowcount
    return rows


def calendar_functions(cr, attendances):
    """``pg_temp.lg_plan(start, hours)`` and ``pg_temp.lg_hours(start, end)``:
    Odoo's ``plan_hours`` and ``get_work_hours_count`` on the standard
    calendar (its tz is UTC; no leaves)."""
    ordered = sorted(attendances)
    dows = ",".join(str(dow) for dow, _f, _t in ordered)
    froms = ",".join(str(hour_from) for _d, hour_from, _t in ordered)
    tos = ",".join(str(hour_to) for _d, _f, hour_to in ordered)
    declare = f"""
        dw int[] := ARRAY[{dows}]; hf float8[] := ARRAY[{froms}]::float8[];
        ht float8[] := ARRAY[{tos}]::float8[]; n int := {len(ordered)};
        day date; s timestamp; e timestamp; span float8; i int; k int;
    """
    cr.execute(
        f"""
        CREATE FUNCTION pg_temp.lg_plan(start timestamp, hours float8)
        RETURNS timestamp LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE {declare} remaining float8 := abs(hours);
        BEGIN
            day := start::date;
            FOR k IN 0..800 LOOP
                IF hours >= 0 THEN
                    FOR i IN 1..n LOOP
                        CONTINUE WHEN dw[i] <> extract(isodow FROM day)::int - 1;
                        s := greatest(day + make_interval(secs => hf[i] * 3600), start);
                        e := day + make_interval(secs => ht[i] * 3600);
                        CONTINUE WHEN e <= s;
                        span := extract(epoch FROM e - s) / 3600;
                        IF span >= remaining THEN
                            RETURN s + make_interval(secs => remaining * 3600);
                        END IF;
                        remaining := remaining - span;
                    END LOOP;
                    day := day + 1;
                ELSE
                    FOR i IN REVERSE n..1 LOOP
                        CONTINUE WHEN dw[i] <> extract(isodow FROM day)::int - 1;
                        s := day + make_interval(secs => hf[i] * 3600);
                        e := least(day + make_interval(secs => ht[i] * 3600), start);
                        CONTINUE WHEN e <= s;
                        span := extract(epoch FROM e - s) / 3600;
                        IF span >= remaining THEN
                            RETURN e - make_interval(secs => remaining * 3600);
                        END IF;
                        remaining := remaining - span;
                    END LOOP;
                    day := day - 1;
                END IF;
            END LOOP;
            RETURN NULL;
        END $$;
        CREATE FUNCTION pg_temp.lg_hours(start timestamp, stop timestamp)
        RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE {declare} total float8 := 0;
        BEGIN
            day := start::date;
            WHILE day <= stop::date LOOP
                FOR i IN 1..n LOOP
                    CONTINUE WHEN dw[i] <> extract(isodow FROM day)::int - 1;
                    s := greatest(day + make_interval(secs => hf[i] * 3600), start);
                    e := least(day + make_interval(secs => ht[i] * 3600), stop);
                    IF e > s THEN
                        total := total + extract(epoch FROM e - s) / 3600;
                    END IF;
                END LOOP;
                day := day + 1;
            END LOOP;
            RETURN total;
        END $$;
        """
    )


def stage_tickets(cr, args, layout, now):
    """``lg_ticket``: every ticket's attributes, computed once, read by the
    steps that make tickets, targets, messages and events."""
    count, span = args.tickets, timedelta(days=365 * args.years)
    companies = layout["companies"]
    cr.execute(
        """
        CREATE TEMP TABLE lg_channel (company int, slot int, code text,
            channel_id int, account_id int, team_id int);
        CREATE TEMP TABLE lg_agent (agent_company int, agent_n int, agent_user int,
            agent_partner int);
        CREATE TEMP TABLE lg_team (company int, n int, team_id int);
        """
    )
    for c, company in enumerate(companies):
        for slot, code in enumerate(CHANNEL_SLOTS):
            social = code in SOCIAL
            account = company["accounts"]["x" if code == "x" else "meta"]
            cr.execute(
                "INSERT INTO lg_channel VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    c,
                    slot,
                    code,
                    company["channels"][code],
                    account if social else None,
                    company["social_team"] if social else None,
                ],
            )
        for n, (user, partner) in enumerate(
            zip(company["agents"], company["agent_partners"], strict=True)
        ):
            cr.execute(
                "INSERT INTO lg_agent VALUES (%s, %s, %s, %s)", [c, n, user, partner]
            )
        for n in range(TEAM_SLOTS):
            team = company["teams"][n % len(company["teams"])]
            cr.execute("INSERT INTO lg_team VALUES (%s, %s, %s)", [c, n, team])
    cr.execute("ANALYZE lg_channel; ANALYZE lg_agent; ANALYZE lg_team")
    first_ticket = reserve(cr, "helpdesk_ticket_id_seq", count)
    sequence, prefix, padding = layout["sequence"]
    first_number = reserve(cr, sequence, count)
    first_partner = layout["first_partner"]
    identities, contacts = args.identities, args.contacts
    stages = layout["stages"]
    cr.execute(
        f"""
        CREATE UNLOGGED TABLE lg_ticket AS
        WITH base AS (
            SELECT g, mod(g, {len(companies)}) AS company,
                   mod(g * 7, {len(CHANNEL_SLOTS)}) AS slot,
                   mod(g * 31, 100) AS roll,
                   %(now)s - %(span)s * (1 - (g - 0.5) / {count}.0)
                       - mod(g * 7919, 3600) * INTERVAL '1 second' AS created,
                   g > {count} * (1 - %(open)s) AS open
              FROM generate_series(1::bigint, {count}) g
        ), picked AS (
            SELECT b.*, ch.code, ch.channel_id, ch.account_id,
                   coalesce(ch.team_id, tm.team_id) AS team_id,
                   ch.code IN %(social)s AS social,
                   CASE WHEN NOT b.open THEN
                            CASE WHEN roll < 90 THEN {stages["done"]}
                                 WHEN roll < 97 THEN {stages["cancelled"]}
                                 ELSE {stages["rejected"]} END
                        WHEN mod(roll, 10) < 4 THEN {stages["new"]}
                        WHEN mod(roll, 10) < 8 THEN {stages["in_progress"]}
                        ELSE {stages["awaiting"]} END AS stage_id,
                   CASE ch.code {
            " ".join(
                f"WHEN '{code}' THEN {offset} + mod(g, {width})"
                for code, (offset, width) in IDENTITY_SLOTS.items()
            )
        } END AS identity_slot
              FROM base b
              JOIN lg_channel ch ON ch.company = b.company AND ch.slot = b.slot
              JOIN lg_team tm ON tm.company = b.company
               AND tm.n = mod(b.g / 3, {TEAM_SLOTS})
        ), who AS (
            SELECT p.*,
                   CASE WHEN social THEN
                            mod(g::bigint * 48271, {max(identities // 10, 1)})
                                * 10 + identity_slot + 1
                   END AS identity_n,
                   mod(g::bigint * 16807, {contacts - identities or contacts})
                       + {identities if contacts > identities else 0} + 1
                       AS contact_n,
                   CASE WHEN code = 'messenger' THEN 'private'
                        WHEN code = 'x' AND mod(g, 10) >= 7 THEN 'private'
                        WHEN code = 'instagram' AND mod(g, 2) = 1 THEN 'private'
                        WHEN social THEN 'public' END AS kind
              FROM picked p
        )
        SELECT {first_ticket} + g - 1 AS id, g, company,
               (%(companies)s::int[])[company::int + 1] AS company_id, code, channel_id,
               account_id, team_id, social, stage_id, open, kind, created,
               CASE WHEN social AND identity_n <= {identities}
                    THEN identity_n END AS identity_n,
               CASE WHEN social AND identity_n <= {identities}
                    THEN {first_partner} + identity_n - 1
                    ELSE {first_partner} + contact_n - 1 END AS partner_id,
               CASE WHEN social AND identity_n <= {identities}
                    THEN identity_n ELSE contact_n END AS customer_n,
               '{prefix}' || lpad(({first_number} + g - 1)::text, {padding}, '0')
                   AS number,
               CASE WHEN stage_id <> {stages["new"]} THEN agent_user END AS user_id,
               CASE WHEN stage_id <> {stages["new"]} THEN agent_partner END
                   AS agent_partner_id,
               CASE WHEN NOT open
                    THEN created + (1 + mod(g * 37, 120)) * INTERVAL '1 hour'
               END AS closed_date,
               CASE WHEN (NOT open AND mod(g, 20) <> 0)
                      OR (open AND stage_id <> {stages["new"]} AND mod(g, 10) < 7)
                    THEN least(created + mod(g * 53, 600) * INTERVAL '1 minute',
                               %(now)s)
               END AS first_response_date,
               (ARRAY['0', '1', '1', '1', '2', '3'])[1 + mod(g * 11, 6)::int]
                   AS priority,
               (%(texts)s::text[])[1 + mod(g, {len(TEXTS)})::int] AS text
          FROM who
          JOIN lg_agent ON agent_company = company
           AND agent_n = mod(g * 13, {args.agents})
        """,
        {
            "now": now,
            "span": span,
            "open": args.open_share,
            "social": SOCIAL,
            "texts": list(TEXTS),
            "companies": [company["id"] for company in companies],
        },
    )
    made = cr.rowcount
    cr.execute(
        """
        ALTER TABLE lg_ticket ADD COLUMN thread_key text, ADD COLUMN handle text;
        UPDATE lg_ticket SET handle = 'customer_' || customer_n,
            thread_key = CASE WHEN kind = 'private'
                              THEN code || ':dm:LC' || g
                              ELSE code || ':LC' || g || ':L' || customer_n END
         WHERE social;
        ALTER TABLE lg_ticket ADD PRIMARY KEY (g);
        ANALYZE lg_ticket;
        """
    )
    return made


def make_partners(cr, args, layout):
    first = reserve(cr, "res_partner_id_seq", args.contacts)
    layout["first_partner"] = first
    name = "'Customer ' || src.g"
    email = (
        f"CASE WHEN src.g > {args.identities} "
        "THEN 'customer.' || src.g || '@large.example' END"
    )
    return clone(
        cr,
        "res_partner",
        layout["templates"]["res_partner"],
        f"SELECT g, %(now)s - mod(g * 7919, 63072000) * INTERVAL '1 second' AS created"
        f" FROM generate_series(1::bigint, {args.contacts}) g",
        {
            "id": f"{first} + src.g - 1",
            "name": name,
            "complete_name": name,
            "commercial_partner_id": f"{first} + src.g - 1",
            "email": email,
            "email_normalized": email,
            "create_date": "src.created",
            "write_date": "src.created",
        },
        {"now": layout["now"]},
    )


def make_identities(cr, args, layout):
    first = layout["first_identity"] = reserve(
        cr, "social_identity_id_seq", args.identities
    )
    network = (
        "CASE WHEN mod(src.g - 1, 10) < 5 THEN 'x' "
        "WHEN mod(src.g - 1, 10) < 8 THEN 'facebook' ELSE 'instagram' END"
    )
    return clone(
        cr,
        "social_identity",
        layout["templates"]["social_identity"],
        f"SELECT g FROM generate_series(1::bigint, {args.identities}) g",
        {
            "id": f"{first} + src.g - 1",
            "partner_id": f"{layout['first_partner']} + src.g - 1",
            "network": network,
            "external_id": "'L' || src.g",
            "handle": "'customer_' || src.g",
            "display_label": "'Customer ' || src.g",
            "followers_count": "mod(src.g * 7, 5000)",
            "blocked": "FALSE",
        },
    )


def make_tickets(cr, layout):
    created = "src.created"
    return clone(
        cr,
        "helpdesk_ticket",
        layout["templates"]["helpdesk_ticket"],
        "SELECT * FROM lg_ticket",
        {
            "id": "src.id",
            "number": "src.number",
            "name": "coalesce('@' || src.handle, 'Customer ' || src.customer_n)"
            " || ': ' || left(src.text, 40)",
            "description": "'<div dir=\"auto\"><p>' || src.text || '</p></div>'",
            "partner_id": "src.partner_id",
            "commercial_partner_id": "src.partner_id",
            "partner_name": "'Customer ' || src.customer_n",
            "partner_email": "CASE WHEN NOT src.social "
            "THEN 'customer.' || src.customer_n || '@large.example' END",
            "company_id": "src.company_id",
            "team_id": "src.team_id",
            "channel_id": "src.channel_id",
            "is_social": "src.social",
            "social_network": "CASE WHEN src.social THEN src.code END",
            "stage_id": "src.stage_id",
            "unattended": f"src.stage_id = {layout['stages']['new']}",
            "user_id": "src.user_id",
            "assigned_date": f"CASE WHEN src.user_id IS NOT NULL THEN {created} END",
            "priority": "src.priority",
            "closed_date": "src.closed_date",
            "last_stage_update": f"coalesce(src.closed_date, {created})",
            "first_response_date": "src.first_response_date",
            "first_response_hours": f"CASE WHEN src.first_response_date IS NOT NULL"
            f" THEN extract(epoch FROM src.first_response_date - {created}) / 3600"
            " ELSE 0 END",
            "first_response_business_hours": "CASE WHEN src.first_response_date"
            f" IS NOT NULL THEN pg_temp.lg_hours({created}, src.first_response_date)"
            " ELSE 0 END",
            "resolution_hours": "CASE WHEN src.closed_date IS NOT NULL"
            f" THEN extract(epoch FROM src.closed_date - {created}) / 3600 ELSE 0 END",
            "resolution_business_hours": "CASE WHEN src.closed_date IS NOT NULL"
            f" THEN pg_temp.lg_hours({created}, src.closed_date) ELSE 0 END",
            "social_account_id": "src.account_id",
            "social_thread_key": "src.thread_key",
            "social_kind": "src.kind",
            "social_author_handle": "src.handle",
            "social_url": "CASE WHEN src.kind = 'public' THEN"
            " 'https://social.example/' || src.handle || '/' || src.g END",
            "reopen_count": "0",
            "create_date": created,
            "write_date": f"coalesce(src.closed_date, {created})",
            "sla_status": "NULL",
            "sla_first_response_deadline": "NULL",
            "sla_resolution_deadline": "NULL",
            "sla_next_deadline": "NULL",
            "sla_first_response_result": "NULL",
            "sla_resolution_result": "NULL",
        },
    )


def make_targets(cr, layout):
    """Each ticket's targets: the policies of its channel (every team uses
    SLAs), with deadlines and warnings on their clocks; stage targets of
    closed tickets settled at the closing, as helpdesk_mgmt_sla does."""
    cr.execute(
        """
        CREATE TEMP TABLE lg_policy AS
        SELECT p.id AS sla_id, r.helpdesk_ticket_channel_id AS channel_id,
               p.target_type, p.stage_id,
               p.hours + p.days * CASE WHEN p.use_business_hours THEN 8 ELSE 24 END
                   AS hours,
               coalesce(p.use_business_hours, FALSE) AS business,
               p.max_calendar_hours AS cap,
               CASE p.warning_type
                   WHEN 'percent' THEN (100 - coalesce(p.warning_percent, 0)) / 100.0
                   ELSE NULL END AS lead_share,
               CASE p.warning_type WHEN 'time' THEN p.warning_hours END AS lead_hours
          FROM helpdesk_sla p
          JOIN helpdesk_sla_helpdesk_ticket_channel_rel r ON r.helpdesk_sla_id = p.id
         WHERE p.active;
        """
    )
    deadline = (
        "CASE WHEN p.business THEN pg_temp.lg_plan(t.created, p.hours)"
        " ELSE t.created + p.hours * INTERVAL '1 hour' END"
    )
    # Planned once a target (a materialized CTE is not inlined).
    source = f"""
        WITH r AS MATERIALIZED (
            SELECT t.id AS ticket_id, t.created, t.closed_date, p.*,
                   {deadline} AS planned,
                   coalesce(least(p.hours, p.lead_hours), p.hours * p.lead_share, 0)
                       AS lead
              FROM lg_ticket t JOIN lg_policy p ON p.channel_id = t.channel_id
        ), q AS (
            SELECT r.*, r.target_type = 'first_response' AND r.cap > 0
                        AND r.created + r.cap * INTERVAL '1 hour' < r.planned
                        AS capped
              FROM r
        )
        SELECT q.*, CASE WHEN q.capped THEN q.created + q.cap * INTERVAL '1 hour'
                         ELSE q.planned END AS deadline
          FROM q
    """
    warning = (
        "CASE WHEN src.lead <= 0 THEN NULL WHEN src.business"
        " THEN pg_temp.lg_plan(src.deadline, -src.lead)"
        " ELSE src.deadline - src.lead * INTERVAL '1 hour' END"
    )
    return clone(
        cr,
        "helpdesk_ticket_sla",
        layout["templates"]["helpdesk_ticket_sla"],
        source,
        {
            "id": "nextval('helpdesk_ticket_sla_id_seq')",
            "ticket_id": "src.ticket_id",
            "sla_id": "src.sla_id",
            "expected_stage_id": "src.stage_id",
            "hours": "src.hours",
            "consumed_time": "0",
            "last_state_date": "src.created",
            "deadline": "src.deadline",
            "deadline_capped": "src.capped",
            "warning_date": warning,
            "state": "CASE WHEN src.target_type = 'stage'"
            " AND src.closed_date IS NOT NULL THEN CASE WHEN src.closed_date"
            " <= src.deadline THEN 'accomplished' ELSE 'expired' END"
            " ELSE 'in_progress' END",
            "at_risk_escalated": "FALSE",
            "breach_escalated": "FALSE",
            "create_date": "src.created",
            "write_date": "src.created",
        },
    )


def stage_messages(cr, args):
    """``lg_message``: the social messages, contiguous per social ticket (so
    their ids follow time), the first of each the ticket's opening message."""
    cr.execute("SELECT count(*) FROM lg_ticket WHERE social")
    social = cr.fetchone()[0]
    per, extra = divmod(args.social_messages, social)
    cr.execute(
        f"""
        CREATE UNLOGGED TABLE lg_message AS
        SELECT s.rn * {per} + least(s.rn, {extra}) + k + 1 AS m, k, s.*
          FROM (SELECT row_number() OVER (ORDER BY id) - 1 AS rn, *
                  FROM lg_ticket WHERE social) s,
               generate_series(0, {per} - 1 + (s.rn < {extra})::int) k;
        ALTER TABLE lg_message ADD PRIMARY KEY (m);
        ANALYZE lg_message;
        SELECT count(*) FROM lg_message;
        """
    )
    return cr.fetchone()[0]


def make_events(cr, args, layout):
    """The raw events of the newest messages, processed (done)."""
    first = reserve(cr, "social_event_id_seq", args.events)
    layout["first_event"] = first
    since = args.social_messages - args.events
    payload = """jsonb_build_object(
        'id', 'LM' || src.m, 'channel', src.code, 'kind', src.kind,
        'conversation_id', 'LC' || src.g, 'parent_id', '',
        'author', jsonb_build_object('id', 'L' || src.customer_n,
            'handle', src.handle, 'name', 'Customer ' || src.customer_n,
            'followers', mod(src.customer_n * 7, 5000)),
        'text', src.text, 'lang', 'en')"""
    received = "src.created + src.k * INTERVAL '47 minutes' + INTERVAL '2 seconds'"
    return clone(
        cr,
        "social_event",
        layout["templates"]["social_event"],
        f"SELECT * FROM lg_message WHERE m > {since}",
        {
            "id": f"{first} + src.m - {since} - 1",
            "account_id": "src.account_id",
            "external_id": "'LM' || src.m",
            "payload": payload,
            "state": "'done'",
            "attempts": "0",
            "ticket_id": "src.id",
            "via_webhook": "mod(src.m, 5) <> 0",
            "received_date": received,
            "create_date": received,
            "write_date": received,
        },
    )


def make_social_messages(cr, args, layout):
    first = reserve(cr, "social_message_id_seq", args.social_messages)
    layout["first_chatter"] = reserve(cr, "mail_message_id_seq", args.chatter)
    since = args.social_messages - args.events
    date = "src.created + src.k * INTERVAL '47 minutes'"
    return clone(
        cr,
        "social_message",
        layout["templates"]["social_message"],
        "SELECT * FROM lg_message",
        {
            "id": f"{first} + src.m - 1",
            "account_id": "src.account_id",
            "company_id": "src.company_id",
            "event_id": f"CASE WHEN src.m > {since}"
            f" THEN {layout['first_event']} + src.m - {since} - 1 END",
            "ticket_id": "src.id",
            "identity_id": f"{layout['first_identity']} + src.identity_n - 1",
            "partner_id": "src.partner_id",
            "mail_message_id": f"{layout['first_chatter']} + src.m - 1",
            "channel_code": "src.code",
            "kind": "src.kind",
            "external_id": "'LM' || src.m",
            "conversation_id": "'LC' || src.g",
            "thread_key": "src.thread_key",
            "text": "src.text",
            "url": "CASE WHEN src.kind = 'public' THEN"
            " 'https://social.example/' || src.handle || '/' || src.m END",
            "lang": "'en'",
            "message_date": date,
            "outcome": "'ticket'",
            "state": "'received'",
            "create_date": date,
            "write_date": date,
        },
    )


def make_chatter(cr, args, layout):
    """The social messages' chatter entries, then the other chatter: the
    email's opening message of each other ticket, agents' replies and notes."""
    subtypes = layout["subtypes"]
    first = layout["first_chatter"]
    template = layout["templates"]["mail_message"]
    date = "src.created + src.k * INTERVAL '47 minutes'"
    body = "'<div dir=\"auto\"><p>' || src.text || '</p></div>'"
    common = {
        "model": "'helpdesk.ticket'",
        "res_id": "src.id",
        "record_name": "src.number",
        "record_company_id": "src.company_id",
        "parent_id": "NULL",
        "create_uid": "1",
        "write_uid": "1",
        "is_internal": "FALSE",
    }
    made = clone(
        cr,
        "mail_message",
        template,
        "SELECT * FROM lg_message",
        dict(
            common,
            id=f"{first} + src.m - 1",
            author_id="src.partner_id",
            message_type="'comment'",
            subtype_id=f"CASE WHEN src.k = 0 THEN {subtypes['created']}"
            f" ELSE {subtypes['comment']} END",
            body=body,
            email_from="'\"Customer ' || src.customer_n || '\" <social@large.example>'",
            message_id="'<lg.' || src.m || '@large.example>'",
            date=date,
            create_date=date,
            write_date=date,
        ),
    )
    others = args.chatter - args.social_messages
    if not others:
        return made
    count = args.tickets
    date = "src.created + (src.k + 1) * INTERVAL '53 minutes'"
    opening = "src.k = 0 AND NOT src.social"
    made += clone(
        cr,
        "mail_message",
        template,
        f"""SELECT n, n / {count} AS k, t.*
              FROM generate_series(0::bigint, {others} - 1) n
              JOIN lg_ticket t ON t.g = mod(n, {count}) + 1""",
        dict(
            common,
            id=f"{first} + {args.social_messages} + src.n",
            author_id=f"CASE WHEN {opening} THEN src.partner_id"
            " ELSE coalesce(src.agent_partner_id, src.partner_id) END",
            message_type=f"CASE WHEN {opening} AND src.code = 'email' THEN 'email'"
            " ELSE 'comment' END",
            subtype_id=f"CASE WHEN {opening} THEN {subtypes['created']}"
            f" WHEN mod(src.n, 3) = 0 THEN {subtypes['note']}"
            f" ELSE {subtypes['comment']} END",
            body=f"CASE WHEN {opening} THEN {body} ELSE"
            " '<p>Thank you, we are looking into it (' || src.number || ').</p>' END",
            email_from="NULL",
            message_id="'<lg.c.' || src.n || '@large.example>'",
            date=date,
            create_date=date,
            write_date=date,
        ),
    )
    return made


def make_followers(cr, layout):
    """The assigned agent follows each assigned ticket."""
    return clone(
        cr,
        "mail_followers",
        layout["templates"]["mail_followers"],
        "SELECT id, agent_partner_id FROM lg_ticket WHERE agent_partner_id IS NOT NULL",
        {
            "id": "nextval('mail_followers_id_seq')",
            "res_model": "'helpdesk.ticket'",
            "res_id": "src.id",
            "partner_id": "src.agent_partner_id",
        },
    )


def settle_sla(env, now):
    """The addon's own status statement over every ticket, then the
    escalations that came due marked fired, as the cron leaves them. Rows
    written twice in one transaction have their foreign keys checked again
    on the second write, each by a query: not while loading."""
    from odoo.tools import SQL

    Line = env["helpdesk.ticket.sla"]
    cr = env.cr
    with (
        secondary_indexes_dropped(cr, "helpdesk_ticket"),
        secondary_indexes_dropped(cr, "helpdesk_ticket_sla"),
    ):
        cr.execute(Line._status_query(SQL("TRUE"), now))
        settled = cr.rowcount
        with_messages = SQL(
            "SELECT DISTINCT ticket_id FROM social_message WHERE ticket_id IS NOT NULL"
        )
        cr.execute(Line._window_query(with_messages))
        cr.execute(
            """
            UPDATE helpdesk_ticket_sla SET breach_escalated = TRUE
             WHERE state = 'expired';
            UPDATE helpdesk_ticket_sla SET at_risk_escalated = TRUE
             WHERE warning_date <= %(now)s AND state <> 'accomplished';
            UPDATE helpdesk_ticket
               SET social_window_warned_at = social_window_closes_at
             WHERE social_window_closes_at <= %(now)s + INTERVAL '4 hours';
            """,
            {"now": now},
        )
    return settled


def check_odoo(env, steps):
    """Odoo works on the result: a ticket read as its form reads it, and one
    run of each cron of the addon."""
    Ticket = env["helpdesk.ticket"]
    with steps.step("check: the newest social ticket's form read"):
        ticket = Ticket.search([("is_social", "=", True)], order="id desc", limit=1)
        described = Ticket.get_views([(False, "form")])["models"]["helpdesk.ticket"]
        fields_spec = {name: {} for name in described.get("fields", described)}
        ticket.web_read(fields_spec)
    with steps.step("check: the ticket list's first page, open tickets"):
        Ticket.web_search_read(
            [("stage_id.closed", "=", False)],
            {"number": {}, "name": {}, "sla_status": {}, "partner_id": {}},
            limit=80,
        )
    for xmlid in (
        "ir_cron_process_social_events",
        "ir_cron_update_sla_status",
        "ir_cron_send_social_replies",
        "ir_cron_poll_social_accounts",
        "ir_cron_social_backfill",
    ):
        cron = env.ref(f"social_helpdesk.{xmlid}")
        with steps.step(f"check: cron {cron.cron_name}"):
            cron.method_direct_trigger()
    env.cr.commit()


def main():
    args = parse_args()
    machine = machine_rows()
    steps = Steps()
    with steps.step("database with social_helpdesk"):
        make_database(args)
    from odoo import SUPERUSER_ID, api, fields

    odoo_registry = registry(args.db)
    with odoo_registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if env["res.partner"].search_count([("name", "=", MARK)]):
            raise SystemExit(f"{args.db} already has the data (--replace to redo it).")
        with steps.step("companies, teams, agents, accounts, templates (ORM)"):
            layout = setup(env, args)
            cr.commit()
        now = layout["now"] = fields.Datetime.now()
        cr.execute(
            "SET synchronous_commit = off; SET maintenance_work_mem = '512MB';"
            " SET work_mem = '64MB'; SET session_replication_role = replica"
        )
        calendar_functions(cr, layout["attendances"])
        plan = [
            ("contacts (res_partner)", make_partners, (cr, args, layout)),
            ("social identities", make_identities, (cr, args, layout)),
            ("ticket attributes (staging)", stage_tickets, (cr, args, layout, now)),
            ("tickets", make_tickets, (cr, layout)),
            ("SLA targets", make_targets, (cr, layout)),
            ("social message attributes (staging)", stage_messages, (cr, args)),
            ("raw events (processed)", make_events, (cr, args, layout)),
            ("social messages", make_social_messages, (cr, args, layout)),
            ("chatter messages (mail_message)", make_chatter, (cr, args, layout)),
            ("followers (assigned agents)", make_followers, (cr, layout)),
        ]
        for label, function, function_args in plan:
            with steps.step(label) as made:
                made["rows"] = function(*function_args)
                cr.commit()
        with steps.step("SLA status of every ticket (the addon's statement)") as made:
            made["rows"] = settle_sla(env, now)
            cr.execute("DROP TABLE lg_ticket; DROP TABLE lg_message")
            cr.commit()
        cr.execute("SET session_replication_role = origin")
    with steps.step("VACUUM ANALYZE"):
        _vacuum(args.db)
    if not args.no_check:
        with odoo_registry.cursor() as cr:
            check_odoo(api.Environment(cr, SUPERUSER_ID, {}), steps)
    total = sum(float(value.split()[-2]) for _label, value in steps.rows)
    counts = sql(
        args.db,
        """
        SELECT (SELECT count(*) FROM helpdesk_ticket),
               (SELECT count(*) FROM helpdesk_ticket t JOIN helpdesk_ticket_stage s
                   ON s.id = t.stage_id WHERE NOT s.closed),
               (SELECT count(*) FROM res_partner),
               (SELECT count(*) FROM social_identity),
               (SELECT count(*) FROM social_message),
               (SELECT count(*) FROM mail_message),
               (SELECT count(*) FROM social_event),
               (SELECT count(*) FROM helpdesk_ticket_sla),
               pg_size_pretty(pg_database_size(current_database()))
        """,
    )[0]
    labels = (
        "tickets (all tables, after the run)",
        "open tickets",
        "contacts",
        "social identities",
        "social messages",
        "chatter messages",
        "raw events",
        "SLA targets",
        "database size",
    )
    print_table("Machine", machine)
    print_table(
        f"Large database {args.db}",
        [("scale", f"{args.scale:g}"), *steps.rows, ("total", f"{total:.0f} s")]
        + [
            (label, f"{value:,}" if isinstance(value, int) else value)
            for label, value in zip(labels, counts, strict=True)
        ],
    )


def _vacuum(db):
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute("VACUUM ANALYZE")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
