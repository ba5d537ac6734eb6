# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models
from odoo.tools import SQL

from .helpdesk_ticket_kpi_report import AGGREGATE_WORK_MEM

# Words that neither start nor end a phrase worth reading (en, es, pt).
STOPWORDS = sorted(
    set(
        """
        a about after again all also am an and any are as at be because been
        but by can could did do does for from had has have he her here him his
        how i if in into is it its just me more my no not now of on one or our
        out please so some than that the their them then there these they this
        to too up us was we were what when where which who why will with would
        you your hi hello thanks thank yes get got im ive dont cant
        al algo como con cual cuando de del desde donde el ella ellos en entre
        era es esa ese eso esta estan este esto estoy fue ha hay la las le les
        lo los me mi mis muy mas nada ni no nos o os para pero por porque que
        se sea si sin sobre son su sus te ti tu tus un una uno unos y ya yo
        hola gracias buenas buenos dias favor
        ao aos as com da das de do dos e ela ele eles em entre era essa esse
        esta este estou eu foi isso isto ja mais mas me meu minha muito na nas
        nem no nos o os ou para pela pelo por porque qual quando que se sem
        ser seu sua suas seus so tem te um uma voce voces obrigado obrigada ola
        oi bom boa dia más está están qué sí tú él días não você vocês é já só
        há olá também até
        """.split()
    )
)
# A word: a letter, then letters, digits or inner apostrophes and hyphens.
# Phrases run within a sentence; links and @handles are no words.
SENTENCE = r"[.!?¿¡;:\n]+"
NOISE = r"https?://\S+|@\w+"
WORD = r"[[:alpha:]][[:alpha:][:digit:]'’-]*[[:alpha:][:digit:]]|[[:alpha:]]"


class HelpdeskTicketTopicReport(models.Model):
    """Frequent questions: what the tickets of each channel are about, as
    their category, their tags and the phrases of two and three words their
    customers write most (the customer's social messages, else the ticket's
    subject and description). One row per ticket and topic, so that counts
    are tickets, filtered like the KPI report (channel, team, period)."""

    _name = "helpdesk.ticket.topic.report"
    _description = "Helpdesk frequent questions"
    _auto = False
    _order = "create_date desc"
    _rec_name = "topic"

    ticket_id = fields.Many2one("helpdesk.ticket", readonly=True)
    kind = fields.Selection(
        [("category", "Category"), ("tag", "Tag"), ("phrase", "Phrase")],
        readonly=True,
    )
    topic = fields.Char(
        readonly=True,
        help="The category, the tag, or the phrase (lower case, as written).",
    )
    category_id = fields.Many2one("helpdesk.ticket.category", readonly=True)
    tag_id = fields.Many2one("helpdesk.ticket.tag", readonly=True)
    channel_id = fields.Many2one("helpdesk.ticket.channel", readonly=True)
    team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)
    user_id = fields.Many2one("res.users", "Assigned user", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    create_date = fields.Datetime("Created on", readonly=True)

    @property
    def _table_query(self):
        """Each ticket's topics are computed beside it (a lateral join), so
        that the filters on the ticket (period, channel, team) apply before
        its words are read. The id combines the ticket and the topic."""
        return SQL(
            """
            SELECT t.id::bigint * 1000003 + mod(abs(hashtext(x.kind || x.topic)),
                                               1000003) AS id,
                   t.id AS ticket_id, x.kind, x.topic::varchar AS topic,
                   x.category_id, x.tag_id, t.channel_id, t.team_id, t.user_id,
                   t.company_id, t.create_date
            FROM (
                SELECT t.id, t.company_id, t.team_id, t.user_id, t.create_date,
                       t.category_id, t.name, t.description,
                       COALESCE(t.channel_id, other.channel_id) AS channel_id
                FROM helpdesk_ticket t
                LEFT JOIN %(channels)s other
                       ON other.company_id = t.company_id AND other.code = 'other'
                WHERE t.active
            ) t
            CROSS JOIN LATERAL (
                SELECT 'category' AS kind,
                       COALESCE(cat.name->>%(lang)s, cat.name->>'en_US') AS topic,
                       cat.id AS category_id, NULL::int AS tag_id
                FROM helpdesk_ticket_category cat
                WHERE cat.id = t.category_id
                UNION ALL
                SELECT 'tag', COALESCE(tag.name->>%(lang)s, tag.name->>'en_US'),
                       NULL, tag.id
                FROM helpdesk_ticket_helpdesk_ticket_tag_rel rel
                JOIN helpdesk_ticket_tag tag ON tag.id = rel.helpdesk_ticket_tag_id
                WHERE rel.helpdesk_ticket_id = t.id
                UNION ALL
                SELECT 'phrase', phrase, NULL, NULL
                FROM (%(phrases)s) phrases
            ) x
            """,
            channels=self.env["helpdesk.ticket.kpi.report"]._channels_by_code(),
            lang=self.env.lang or "en_US",
            phrases=self._phrases_query(),
        )

    @api.model
    def _phrases_query(self):
        """The distinct phrases of two to four words of ticket ``t``, within
        a sentence, that neither start nor end with a common word."""
        grams = SQL(
            """
            SELECT w.match[1] AS w1,
                   LEAD(w.match[1], 1) OVER next_words AS w2,
                   LEAD(w.match[1], 2) OVER next_words AS w3,
                   LEAD(w.match[1], 3) OVER next_words AS w4
            FROM (
                SELECT m.id AS text_id, m.text
                FROM social_message m
                WHERE m.ticket_id = t.id AND m.text IS NOT NULL
                UNION ALL
                SELECT 0, t.name || '. ' || COALESCE(
                    regexp_replace(t.description, '<[^>]*>', ' ', 'g'), '')
                WHERE NOT EXISTS (
                    SELECT 1 FROM social_message m WHERE m.ticket_id = t.id
                )
            ) x
            CROSS JOIN LATERAL regexp_split_to_table(
                regexp_replace(lower(x.text), %(noise)s, ' ', 'g'), %(sentence)s
            ) WITH ORDINALITY AS s (sentence, sentence_no)
            CROSS JOIN LATERAL regexp_matches(s.sentence, %(word)s, 'g')
                WITH ORDINALITY AS w (match, position)
            WINDOW next_words AS (
                PARTITION BY x.text_id, s.sentence_no ORDER BY w.position
            )
            """,
            noise=NOISE,
            sentence=SENTENCE,
            word=WORD,
        )
        return SQL(
            """
            SELECT phrase
            FROM (%(grams)s) grams
            CROSS JOIN LATERAL (
                VALUES (w2, w1 || ' ' || w2),
                       (w3, w1 || ' ' || w2 || ' ' || w3),
                       (w4, w1 || ' ' || w2 || ' ' || w3 || ' ' || w4)
            ) AS ends (last, phrase)
            WHERE ends.last IS NOT NULL
              AND length(w1) > 2 AND length(ends.last) > 2
              AND w1 <> ALL(%(stop)s) AND ends.last <> ALL(%(stop)s)
            GROUP BY phrase
            """,
            grams=grams,
            stop=STOPWORDS,
        )

    @api.model
    def _read_group(self, *args, **kwargs):
        """Aggregate in memory, as the KPI report does."""
        self.env.cr.execute(SQL("SET LOCAL work_mem = %s", AGGREGATE_WORK_MEM))
        return super()._read_group(*args, **kwargs)
