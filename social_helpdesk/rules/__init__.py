"""Categorization rules, with no Odoo import.

Managers write rules (keywords, a regular expression, language, followers,
known customer, negative sentiment, business hours) and :mod:`.engine`
matches them against each incoming message. What a matching rule does (team,
category, priority, lead, observe only) is the Odoo side's business: the
engine carries each rule's actions without reading them.
:mod:`.acknowledgement` checks and renders the texts a rule sends back.
"""
