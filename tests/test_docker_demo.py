"""The Docker demo is reproducible: pinned images and packages, a healthcheck,
a configurable port, and the addon's languages loaded."""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()
ODOO = COMPOSE["services"]["odoo"]


def test_the_odoo_image_is_pinned_by_its_date_tag_and_digest():
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert bases
    for base in bases:
        assert re.fullmatch(r"odoo:18\.0-20\d{6}@sha256:[0-9a-f]{64}", base), base


def test_the_database_image_and_the_packages_are_pinned():
    assert re.fullmatch(r"postgres:\d+\.\d+", COMPOSE["services"]["db"]["image"])
    wheels = re.findall(r'"(odoo-addon-[\w-]+)([^"]*)"', DOCKERFILE)
    assert {name for name, _spec in wheels} == {
        "odoo-addon-helpdesk_mgmt",
        "odoo-addon-helpdesk_mgmt_sla",
    }
    for _name, spec in wheels:
        assert re.fullmatch(r"==18\.0\.\d+\.\d+\.\d+", spec), spec
    pydeps = (ROOT / "tests" / "odoo-pydeps.txt").read_text().splitlines()
    requirements = [line for line in pydeps if line and not line.startswith("#")]
    assert requirements
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+", line) for line in requirements)
    assert "odoo-pydeps.txt" in DOCKERFILE


def test_the_odoo_service_has_a_healthcheck_on_web_health():
    check = ODOO["healthcheck"]
    assert check["test"][0] == "CMD"
    assert "http://127.0.0.1:8069/web/health" in check["test"]
    assert check["start_period"], "the first start installs the addon first"


def test_the_port_is_configurable():
    assert ODOO["ports"] == ["${ODOO_PORT:-8069}:8069"]


def test_the_first_start_loads_english_spanish_and_portuguese():
    script = ODOO["command"][-1]
    install = next(line for line in script.splitlines() if "-i social_helpdesk" in line)
    assert "--load-language=en_US,es_ES,pt_BR" in shlex.split(install)
    for po in ("es.po", "pt_BR.po"):
        assert (ROOT / "social_helpdesk" / "i18n" / po).is_file()
