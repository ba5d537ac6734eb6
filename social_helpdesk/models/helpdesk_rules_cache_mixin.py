# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, models


class HelpdeskRulesCacheMixin(models.AbstractModel):
    """Records the compiled rule sets are built from (rules, lexicon): any
    change drops the cached sets, in every worker, as Odoo signals registry
    cache clears through the database."""

    _name = "helpdesk.rules.cache.mixin"
    _description = "Invalidates the compiled categorization rules"
    # Fields the compiled rule sets do not hold: writing only those keeps them.
    _rules_cache_neutral = frozenset()

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        if not vals.keys() <= self._rules_cache_neutral:
            self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
