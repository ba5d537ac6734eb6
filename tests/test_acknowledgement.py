"""Acknowledgement templates: only the documented placeholders, clear errors."""

import pytest

from social_helpdesk.rules.acknowledgement import (
    InvalidTemplate,
    check_template,
    render_template,
)


def test_renders_the_placeholders():
    text = render_template(
        "Hola {name} ({handle}), tu ticket es {ticket}.",
        {"name": "Ana", "handle": "@ana", "ticket": "HT00042"},
    )
    assert text == "Hola Ana (@ana), tu ticket es HT00042."


def test_missing_values_render_empty_and_braces_can_be_literal():
    assert render_template("Hi {name}{{ok}}", {}) == "Hi {ok}"


@pytest.mark.parametrize(
    "template, error",
    [
        ("Write to {email}", "Unknown placeholder {email}"),
        ("{name.__class__}", "Unknown placeholder {name.__class__}"),
        ("{name[0]}", "Unknown placeholder {name[0]}"),
        ("{name!r}", "Unknown placeholder {name!r}"),
        ("{name:>40}", "Unknown placeholder {name:>40}"),
        ("{0}", "Unknown placeholder {0}"),
        ("{}", "Unknown placeholder {}"),
        ("Hi {name", "Unbalanced braces"),
        ("Hi }", "Unbalanced braces"),
    ],
)
def test_refuses_what_could_fail_or_reach_into_objects(template, error):
    with pytest.raises(
        InvalidTemplate, match=error.replace("{", r"\{").replace("[", r"\[")
    ):
        check_template(template)


def test_empty_template_is_valid():
    check_template("")
    check_template(None)
