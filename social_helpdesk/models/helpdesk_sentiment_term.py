# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import json

from odoo import api, fields, models

from ..rules.engine import LEXICON_PATH


class HelpdeskSentimentTerm(models.Model):
    """The negative-sentiment lexicon of the rules, editable by managers. It
    starts as the bundled word list for Spanish, English and Portuguese."""

    _name = "helpdesk.sentiment.term"
    _inherit = ["helpdesk.rules.cache.mixin"]
    _description = "Sentiment Lexicon Term"
    _order = "lang, kind, term"
    _rec_name = "term"

    term = fields.Char(required=True, help="A word or a short phrase.")
    lang = fields.Selection(
        [("es", "Spanish"), ("en", "English"), ("pt", "Portuguese")],
        "Language",
        required=True,
    )
    kind = fields.Selection(
        [("negative", "Negative"), ("negator", "Negator")],
        required=True,
        default="negative",
        help="Negators ('no', 'not', 'não') just before a negative term cancel it.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("term_uniq", "unique(lang, kind, term)", "This term is already listed.")
    ]

    @api.model
    def _load_bundled_lexicon(self):
        """Install the bundled lexicon (data/sentiment_lexicon.json)."""
        with open(LEXICON_PATH, encoding="utf-8") as file:
            bundled = json.load(file)
        existing = {
            (t.lang, t.kind, t.term)
            for t in self.with_context(active_test=False).search([])
        }
        self.create(
            [
                {"lang": lang, "kind": kind, "term": term}
                for lang, lists in bundled.items()
                if not lang.startswith("_")
                for kind, key in (("negative", "negative"), ("negator", "negators"))
                for term in lists.get(key, [])
                if (lang, kind, term) not in existing
            ]
        )

    @api.model
    def _lexicon_data(self):
        """The lexicon in the rules engine's format."""
        data = {}
        for term in self.search([]):
            lists = data.setdefault(term.lang, {"negative": [], "negators": []})
            lists["negative" if term.kind == "negative" else "negators"].append(
                term.term
            )
        return data
