"""The addon's layout, as an OCA reviewer checks it: test code (the fake
servers included) never imported by production code, adapters free of Odoo,
no adapter module too long to review, and access records only in
``security/``."""

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ADDON = Path(__file__).resolve().parent.parent / "social_helpdesk"
ADAPTERS = ADDON / "adapters"
MAX_ADAPTER_LINES = 600
TEST_PACKAGES = {"tests", "fakes", "testing"}
SECURITY_MODELS = {"ir.rule", "ir.model.access"}


def _modules(root):
    return sorted(root.rglob("*.py"))


def _imported(path, source=None):
    """(dotted name parts, line) of every import in the module at ``path``,
    relative imports resolved against its package; ``from a import b`` is
    ``a.b``."""
    if source is None:
        source = path.read_text()
    package = list(path.relative_to(ADDON.parent).parent.parts)
    imports = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            imports += [(alias.name.split("."), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            imports += [(module + [alias.name], node.lineno) for alias in node.names]
    return imports


def _test_code_imports(path, source=None):
    """Imports of the addon's test packages in the module at ``path``."""
    found = []
    for name, line in _imported(path, source):
        if name[:3] == ["odoo", "addons", "social_helpdesk"]:
            name = name[2:]
        if name[0] == "social_helpdesk" and TEST_PACKAGES & set(name[1:]):
            found.append(f"{path.relative_to(ADDON)}:{line} {'.'.join(name)}")
    return found


def _production_modules():
    return [p for p in _modules(ADDON) if p.relative_to(ADDON).parts[0] != "tests"]


def test_the_walk_sees_the_adapters_and_the_fakes():
    assert ADAPTERS / "x" / "client.py" in _production_modules()
    assert ADDON / "tests" / "fakes" / "fake_x.py" in _modules(ADDON)
    assert not (ADDON / "testing").exists()


def test_production_code_imports_no_test_code():
    assert [
        found for p in _production_modules() for found in _test_code_imports(p)
    ] == []


@pytest.mark.parametrize(
    "source",
    [
        "from ..tests.fakes.fake_x import FakeXServer",
        "from ..tests import common",
        "from .. import tests",
        "from odoo.addons.social_helpdesk.tests.fakes import fake_meta",
        "import social_helpdesk.testing.fake_x",
    ],
)
def test_an_import_of_test_code_is_caught(source):
    """However it is written, relative or absolute."""
    model = ADDON / "models" / "social_account.py"
    assert _test_code_imports(model, source)


@pytest.mark.parametrize(
    "path", _modules(ADAPTERS), ids=lambda p: str(p.relative_to(ADAPTERS))
)
def test_adapter_modules_import_no_odoo_and_stay_reviewable(path):
    odoo = [
        f"line {line}: {'.'.join(name)}"
        for name, line in _imported(path)
        if name[0] == "odoo"
    ]
    assert odoo == []
    assert len(path.read_text().splitlines()) <= MAX_ADAPTER_LINES


def test_access_records_are_defined_in_security_only():
    misplaced = [
        f"{path.relative_to(ADDON)}: {record.get('id')}"
        for path in sorted(ADDON.rglob("*.xml"))
        if path.relative_to(ADDON).parts[0] != "security"
        for record in ET.parse(path).iter("record")
        if record.get("model") in SECURITY_MODELS
    ]
    assert misplaced == []
