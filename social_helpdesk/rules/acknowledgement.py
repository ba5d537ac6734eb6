"""Acknowledgement templates that rules send to the customer, with no Odoo
import.

A manager writes a plain text with a few named placeholders, e.g. "Thanks
{name}, we've sent you a DM about ticket {ticket}." Only the names of
:data:`PLACEHOLDERS` are accepted, without attribute or index access or
format specs, so a template can neither fail when sent nor reach into Python
objects.
"""

from string import Formatter

PLACEHOLDERS = ("name", "handle", "ticket")


class InvalidTemplate(Exception):
    """The template can't be rendered; the message says why, in plain words."""


def check_template(template):
    """Raise :class:`InvalidTemplate` unless ``template`` renders with the
    placeholders of :data:`PLACEHOLDERS` and nothing else."""
    try:
        parts = list(Formatter().parse(template or ""))
    except ValueError as exc:
        raise InvalidTemplate(
            f"Unbalanced braces ({exc}); write {{{{ and }}}} for literal braces."
        ) from exc
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise InvalidTemplate(
                f"Unknown placeholder {shown}; the placeholders are {allowed}."
            )


def render_template(template, values):
    """``template`` with its placeholders replaced by ``values`` (missing
    values render empty). The template must have passed :func:`check_template`."""
    check_template(template)
    return template.format_map(
        {name: str(values.get(name) or "") for name in PLACEHOLDERS}
    ).strip()
