"""Make the addon's pure-Python parts importable without Odoo.

``social_helpdesk/__init__.py`` imports the Odoo models, so it must not run
here. The package is registered with only its path; its submodules (the
adapters) then import as ``social_helpdesk.adapters.*`` as usual. The same
goes for ``social_helpdesk.tests``, whose ``__init__`` imports the Odoo test
modules: registered bare, it lends the fake servers of ``tests/fakes`` to
this suite.
"""

import sys
import types
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent / "social_helpdesk"


def _register_bare(name, path):
    """Register package ``name`` at ``path`` without running its __init__."""
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(path)]
        sys.modules[name] = package


_register_bare("social_helpdesk", ADDON_DIR)
_register_bare("social_helpdesk.tests", ADDON_DIR / "tests")
