# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The committed translation template matches the code, and loads.

The Spanish and Portuguese files are checked against the template by the pure
suite (``tests/test_translations.py``); here Odoo exports the terms of the
installed module, as ``odoo --i18n-export`` does, and compares them with
``i18n/social_helpdesk.pot``: a new string without a regenerated template (see
the README, "Translations") fails here.
"""

import io
from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

MODULE = "social_helpdesk"
POT_PATH = Path(__file__).resolve().parent.parent / "i18n" / f"{MODULE}.pot"
REGENERATE = "regenerate i18n/social_helpdesk.pot (README, Translations)"


@tagged("post_install", "-at_install")
class TestI18n(TransactionCase):
    @classmethod
    def _export(cls):
        buffer = io.BytesIO()
        trans_export(False, [MODULE], buffer, "po", cls.env.cr)
        return polib.pofile(buffer.getvalue().decode())

    @staticmethod
    def _terms(catalog):
        return {(e.msgctxt, e.msgid): e for e in catalog if e.msgid and not e.obsolete}

    def test_template_matches_the_code(self):
        exported = self._terms(self._export())
        committed = self._terms(polib.pofile(str(POT_PATH)))
        missing = exported.keys() - committed.keys()
        stale = committed.keys() - exported.keys()
        if not self.env["ir.module.module"]._get(MODULE).demo:
            # The template is exported with demo data, as OCA does: without
            # it, terms of data records may be absent here, never code terms.
            stale = {
                key
                for key in stale
                if not all(
                    place.startswith("model:")
                    for place, _line in committed[key].occurrences
                )
            }
        self.assertFalse(
            missing or stale,
            f"{REGENERATE}.\nIn the code, not in the .pot: "
            f"{sorted(key[1] for key in missing)}\n"
            f"In the .pot, no longer in the code: {sorted(key[1] for key in stale)}",
        )

    def _load(self, lang):
        self.env["res.lang"]._activate_lang(lang)
        self.env["ir.module.module"]._load_module_terms(
            [MODULE], [lang], overwrite=True
        )

    def _label(self, lang, model, field):
        return self.env[model].with_context(lang=lang).fields_get([field])[field]

    def test_spanish_for_spain_and_latin_america(self):
        menu = self.env.ref("social_helpdesk.social_account_menu")
        for lang in ("es_ES", "es_MX"):  # es_MX reads es.po (no es_419.po)
            with self.subTest(lang=lang):
                self._load(lang)
                self.assertEqual(menu.with_context(lang=lang).name, "Cuentas sociales")
                self.assertEqual(
                    self._label(lang, "social.account", "poll_enabled")["string"],
                    "Consulta periódica",
                )
                self.assertIn(
                    ("draft", "No conectado"),
                    self._label(lang, "social.account", "state")["selection"],
                )
        # Strings of the Python code (UserError messages and the like).
        self.assertEqual(
            self.env(context={"lang": "es_ES"})._("The reply is empty."),
            "La respuesta está vacía.",
        )

    def test_brazilian_portuguese(self):
        self._load("pt_BR")
        menu = self.env.ref("social_helpdesk.helpdesk_ticket_rule_menu")
        self.assertEqual(
            menu.with_context(lang="pt_BR").name, "Regras de categorização"
        )
        self.assertEqual(
            self._label("pt_BR", "helpdesk.ticket", "sla_status")["string"],
            "Status do SLA",
        )
        self.assertEqual(
            self.env(context={"lang": "pt_BR"})._("The reply is empty."),
            "A resposta está vazia.",
        )

    def test_shipped_names_and_rule_reasons_read_in_the_users_language(self):
        self._load("es_ES")
        self._load("pt_BR")
        sla = self.env.ref("social_helpdesk.sla_x_first_response")
        self.assertEqual(
            sla.with_context(lang="es_ES").name, "X: primera respuesta en 2 horas"
        )
        self.assertEqual(
            sla.with_context(lang="pt_BR").name, "X: primeira resposta em 2 horas"
        )
        values = {
            "text": "Necesito la factura de marzo",
            "channel_id": self.env.ref("social_helpdesk.channel_x").id,
        }
        Wizard = self.env["helpdesk.rule.try.wizard"]
        spanish = str(Wizard.with_context(lang="es_ES").create(values).result)
        self.assertIn("palabras clave: factura", spanish)
        self.assertIn("Facturación", spanish, "the shipped rule's name")
        portuguese = str(Wizard.with_context(lang="pt_BR").create(values).result)
        self.assertIn("palavras-chave: factura", portuguese)

    def test_brazilian_portuguese_of_the_sla_screens_helpdesk_mgmt_sla_lacks(self):
        """helpdesk_mgmt_sla ships no pt_BR: the addon's i18n_extra fills it."""
        self._load("pt_BR")
        self.assertEqual(
            self._label("pt_BR", "helpdesk.ticket", "sla_expired")["string"],
            "SLA vencido",
        )
        self.assertIn(
            ("accomplished", "Cumprido"),
            self._label("pt_BR", "helpdesk.ticket.sla", "state")["selection"],
        )
