# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import re
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, create_index

# What phone_validation strips from a number before comparing it (its
# PHONE_REGEX_PATTERN): the indexes below are those of its phone mixin,
# same names and expressions, so that a database where the sms module
# already made them gets no second copy.
PHONE_PUNCTUATION = r"[\s\\./\(\)\-]"
PHONE_FIELDS = ("phone", "mobile")
E164 = re.compile(r"\+[1-9]\d{6,14}")
# Countries whose national numbers keep their leading 0 (Italy's landlines):
# it is no trunk prefix there.
KEEP_LEADING_ZERO = {"IT", "SM", "VA"}


def _stripped(column):
    """The SQL of a phone column without punctuation, as indexed."""
    return SQL(
        f"regexp_replace(({column}::text), '{PHONE_PUNCTUATION}'::text, "
        "''::text, 'g'::text)"
    )


class ResPartner(models.Model):
    _inherit = "res.partner"

    social_identity_ids = fields.One2many(
        "social.identity",
        "partner_id",
        string="Social identities",
        groups="helpdesk_mgmt.group_helpdesk_user_own",
    )

    def init(self):
        """Contacts are found by phone number for every new WhatsApp
        customer: an index on each number, without punctuation."""
        result = super().init()
        for fname in PHONE_FIELDS:
            create_index(
                self.env.cr,
                indexname=f"{self._table}_{fname}_partial_tgm",
                tablename=self._table,
                expressions=[_stripped(fname).code],
                where=f"{fname} IS NOT NULL",
            )
        return result

    @api.model
    def _social_phone_matches(self, numbers):
        """The contacts whose phone or mobile is each of ``numbers`` ((E.164
        number or "", company) pairs), in order: active contacts of that
        company or shared. Stored numbers are compared in E.164 form, those
        without a country prefix read in the contact's country, else the
        company's. One query, on the indexes of ``init``: the numbers a
        contact may have been typed as are looked up, then checked."""
        wanted = [(number, company) for number, company in numbers if number]
        if not wanted:
            return [self.browse()] * len(numbers)
        forms = set()
        for number, _company in wanted:
            forms |= self._social_phone_forms(number)
        self.flush_model([*PHONE_FIELDS, "active", "company_id", "country_id"])
        self.env.cr.execute(self._social_phone_query(sorted(forms)))
        candidates = self.browse([row[0] for row in self.env.cr.fetchall()])
        holders = defaultdict(lambda: self.browse())
        for partner in candidates:
            for value in filter(None, (partner[fname] for fname in PHONE_FIELDS)):
                stripped = re.sub(PHONE_PUNCTUATION, "", value)
                for number, company in wanted:
                    if partner.company_id and partner.company_id != company:
                        continue
                    country = partner.country_id or company.country_id
                    # The number's international digits without their +
                    # are that number in any country.
                    if stripped == number[1:] or (
                        partner._social_e164(value, country) == number
                    ):
                        holders[number, company] |= partner
        return [
            holders[number, company] if number else self.browse()
            for number, company in numbers
        ]

    @api.model
    def _social_phone_query(self, forms):
        """The ids of the active contacts whose phone or mobile, without
        punctuation, is one of ``forms``: two index scans."""
        return SQL(
            """
            SELECT id FROM res_partner
             WHERE active AND (
                   (phone IS NOT NULL AND %s = ANY(%s))
                OR (mobile IS NOT NULL AND %s = ANY(%s)))
            """,
            _stripped("phone"),
            forms,
            _stripped("mobile"),
            forms,
        )

    @api.model
    def _social_phone_forms(self, number):
        """The ways ``number`` (E.164) may be stored once its punctuation is
        stripped: international with + or 00, the bare digits, and national
        with or without its trunk 0."""
        digits = number.lstrip("+")
        forms = {number, f"00{digits}", digits}
        code = self._social_calling_code(digits)
        if code:
            national = digits[len(code) :]
            forms |= {national, f"0{national}"}
        return forms

    @api.model
    def _social_calling_code(self, digits):
        """The country calling code ``digits`` start with (they are prefix
        free), from the countries Odoo knows."""
        codes = {
            str(code)
            for code in self.env["res.country"]
            .search_fetch([], ["phone_code"])
            .mapped("phone_code")
            if code
        }
        return next(
            (digits[:length] for length in (1, 2, 3) if digits[:length] in codes), ""
        )

    def _social_e164(self, number, country):
        """``number`` in E.164 form, read in ``country`` when it has no
        country prefix; "" when it is no phone number. Odoo's formatting
        (the phonenumbers library) when it is installed, else the number's
        digits with its prefix: +, 00, or the country's code in place of a
        trunk 0."""
        if not number:
            return ""
        formatted = self._phone_format(
            number=number, country=country, force_format="E164"
        )
        if formatted and E164.fullmatch(formatted):
            return formatted
        stripped = re.sub(PHONE_PUNCTUATION, "", number)
        if stripped.startswith("+"):
            digits = stripped[1:]
        elif stripped.startswith("00"):
            digits = stripped[2:]
        elif country and country.phone_code:
            national = stripped
            if country.code not in KEEP_LEADING_ZERO:
                national = national.removeprefix("0")
            digits = f"{country.phone_code}{national}"
        else:
            return ""
        e164 = f"+{digits}"
        return e164 if E164.fullmatch(e164) else ""
