"""Make the addon's pure-Python parts importable without Odoo.

``social_helpdesk/__init__.py`` imports the Odoo models, so it must not run
here. The package is registered with only its path; its submodules (the
adapters) then import as ``social_helpdesk.adapters.*`` as usual.
"""

import sys
import types
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent / "social_helpdesk"

if "social_helpdesk" not in sys.modules:
    package = types.ModuleType("social_helpdesk")
    package.__path__ = [str(ADDON_DIR)]
    sys.modules["social_helpdesk"] = package
