"""Message templates: the approved messages that may be sent outside the
24-hour window, listed from the WhatsApp Business Account with the
parameters each one takes, and the ``components`` that fill them.

Listing: ``GET /{waba-id}/message_templates`` (paged by cursors); placeholders
are positional (``{{1}}``) or, with ``parameter_format: NAMED``, named
(``{{customer_name}}``), with examples under ``example`` (``body_text``,
``body_text_named_params``, ``header_text``...):
https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/overview
Sending named parameters carries ``parameter_name``:
https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-messages
"""

import re

from ..base import NetworkAdapter
from ..meta.readers import _data, _dict_or_empty, _path, _text

TEMPLATE_FIELDS = "name,language,category,status,components,parameter_format"
PAGE_SIZE = 100
MAX_PAGES = 50
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# Send-time component of a URL button's placeholder: "button:<index>".
BUTTON_PREFIX = "button:"


class WhatsAppTemplatesMixin(NetworkAdapter):
    """The templates of the WhatsApp Business Account."""

    def list_templates(self):
        """Every template (all statuses: the caller keeps the approved ones)
        as ``{"name", "language", "category", "status", "components",
        "parameters"}``; see :func:`template_parameters`."""
        templates, after = [], None
        for _page in range(MAX_PAGES):
            params = {"fields": TEMPLATE_FIELDS, "limit": PAGE_SIZE}
            if after:
                params["after"] = after
            answer = self._get(
                _path(self.business_account_id, "message_templates"), params
            )
            for node in _data(answer):
                if not _text(node.get("name")):
                    continue
                components = [
                    item
                    for item in node.get("components") or []
                    if isinstance(item, dict)
                ]
                templates.append(
                    {
                        "name": node["name"],
                        "language": _text(node.get("language")),
                        "category": _text(node.get("category")),
                        "status": _text(node.get("status")),
                        "components": components,
                        "parameters": template_parameters(components),
                    }
                )
            paging = _dict_or_empty(answer.get("paging"))
            after = _text(_dict_or_empty(paging.get("cursors")).get("after"))
            if not paging.get("next") or not after:
                break
        return templates


def template_parameters(components):
    """The placeholders a template takes, in order: ``{"component": "header"
    | "body" | "button:<index>", "index": "1" or the parameter's name,
    "example": the sample value Meta holds, or ""}``."""
    parameters = []
    for component in components:
        kind = _text(component.get("type")).upper()
        if kind == "HEADER" and _text(component.get("format")).upper() in ("", "TEXT"):
            parameters += _placeholders("header", component, "header_text")
        elif kind == "BODY":
            parameters += _placeholders("body", component, "body_text")
        elif kind == "BUTTONS":
            buttons = component.get("buttons")
            for index, button in enumerate(
                buttons if isinstance(buttons, list) else ()
            ):
                button = _dict_or_empty(button)
                names = PLACEHOLDER.findall(_text(button.get("url")))
                if _text(button.get("type")).upper() == "URL" and names:
                    examples = button.get("example")
                    example = (
                        examples[0] if isinstance(examples, list) and examples else ""
                    )
                    parameters.append(
                        {
                            "component": f"{BUTTON_PREFIX}{index}",
                            "index": names[0],
                            "example": example if isinstance(example, str) else "",
                        }
                    )
    return parameters


def _placeholders(name, component, example_key):
    """Positional examples are a list (a list of lists for the body), named
    ones a list of ``{"param_name", "example"}``."""
    example = _dict_or_empty(component.get("example"))
    named = {
        _text(item.get("param_name")): _text(item.get("example"))
        for item in example.get(f"{example_key}_named_params") or []
        if isinstance(item, dict)
    }
    positional = example.get(example_key)
    if isinstance(positional, list) and positional and isinstance(positional[0], list):
        positional = positional[0]
    positional = positional if isinstance(positional, list) else []
    found, seen = [], set()
    for index in PLACEHOLDER.findall(_text(component.get("text"))):
        if index in seen:
            continue
        seen.add(index)
        if index.isdigit():
            position = int(index) - 1
            sample = positional[position] if 0 <= position < len(positional) else ""
        else:
            sample = named.get(index, "")
        found.append(
            {
                "component": name,
                "index": index,
                "example": sample if isinstance(sample, str) else "",
            }
        )
    return found


def template_components(parameters):
    """The send-time ``components`` of ``parameters``: entries of
    :func:`template_parameters` with their ``value`` filled in."""
    grouped = {}
    for parameter in parameters:
        component = str(parameter["component"])
        index = str(parameter["index"])
        value = {"type": "text", "text": str(parameter.get("value") or "")}
        if not index.isdigit():
            value["parameter_name"] = index
        grouped.setdefault(component, []).append(value)
    components = []
    for component, values in grouped.items():
        if component.startswith(BUTTON_PREFIX):
            components.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": component.removeprefix(BUTTON_PREFIX),
                    "parameters": values,
                }
            )
        else:
            components.append({"type": component, "parameters": values})
    return components
