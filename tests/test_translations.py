"""The Spanish and Brazilian Portuguese translations cover the whole template.

``social_helpdesk/i18n/social_helpdesk.pot`` is exported from Odoo (see the
README, "Translations"); the Odoo test ``social_helpdesk/tests/test_i18n.py``
checks that it matches the code. Here, without Odoo, each ``.po`` file must:

* translate every msgid of the template (non-empty msgstr, not fuzzy);
* hold no msgid the template no longer has (nor obsolete ``#~`` entries);
* keep the placeholders (``%s``, ``%(name)s``, ``%.1f``, ``{name}``), the HTML
  tags and the leading and trailing whitespace of each msgid.

The parser is a small one of our own (the standard library has none for
``.po``): it reads what Odoo and ``msgmerge`` write.
"""

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

I18N_DIR = Path(__file__).resolve().parent.parent / "social_helpdesk" / "i18n"
POT_PATH = I18N_DIR / "social_helpdesk.pot"
LANGS = ("es", "pt_BR")
PLURAL_FORMS = {
    "es": "nplurals=2; plural=n != 1;",
    "pt_BR": "nplurals=2; plural=n > 1;",
}


class Entry:
    def __init__(self):
        self.msgctxt = None
        self.msgid = None
        self.msgid_plural = None
        self.msgstr = {}
        self.flags = set()
        self.obsolete = False
        self.line = 0

    @property
    def key(self):
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self):
        return "fuzzy" in self.flags


def _unquote(text, path, number):
    text = text.strip()
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        raise ValueError(f"{path}:{number}: expected a quoted string: {text!r}")
    # A PO string is a C string; as a Python literal it reads the same for
    # the escapes gettext writes (\\, \", \n, \t), and keeps UTF-8 text.
    return ast.literal_eval(text)


class _Parser:
    """Line by line: comments, keywords (msgctxt, msgid, msgid_plural,
    msgstr, msgstr[n]) and the quoted continuation lines of each."""

    KEYWORD = re.compile(r"(msgctxt|msgid|msgid_plural|msgstr(?:\[(\d+)\])?)\s+(.*)")

    def __init__(self, path):
        self.path = path
        self.entries = []
        self.entry = Entry()
        self.field = None

    def finish(self):
        if self.entry.msgid is not None:
            self.entries.append(self.entry)
        self.entry = Entry()
        self.field = None

    def comment(self, line):
        if self.field not in (None, "comment"):
            self.finish()
        self.field = "comment"
        if line.startswith("#,"):
            self.entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())

    def continuation(self, value, number):
        if self.field in ("msgctxt", "msgid", "msgid_plural"):
            setattr(self.entry, self.field, getattr(self.entry, self.field) + value)
        elif isinstance(self.field, int):
            self.entry.msgstr[self.field] += value
        else:
            raise ValueError(f"{self.path}:{number}: continuation out of place")

    def keyword(self, line, number, obsolete):
        match = self.KEYWORD.fullmatch(line)
        if not match:
            raise ValueError(f"{self.path}:{number}: unexpected line: {line!r}")
        keyword, index, rest = match.groups()
        if keyword in ("msgctxt", "msgid") and self.field not in (
            None,
            "comment",
            "msgctxt",
        ):
            self.finish()
        self.entry.obsolete = self.entry.obsolete or obsolete
        value = _unquote(rest, self.path, number)
        if keyword == "msgid":
            self.entry.line = number
        if keyword.startswith("msgstr"):
            self.field = int(index or 0)
            self.entry.msgstr[self.field] = value
        else:
            self.field = keyword
            setattr(self.entry, keyword, value)

    def feed(self, raw, number):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            self.finish()
        elif line.startswith("#") or (obsolete and line.startswith("|")):
            self.comment(line)
        elif line.startswith('"'):
            self.continuation(_unquote(line, self.path, number), number)
        else:
            self.keyword(line, number, obsolete)


def parse_po(path):
    """Return the entries of a .po/.pot file, header included (msgid "")."""
    parser = _Parser(path)
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(lines, start=1):
        parser.feed(raw, number)
    parser.finish()
    return parser.entries


def header(entries):
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            fields = {}
            for line in entry.msgstr.get(0, "").splitlines():
                name, _sep, value = line.partition(":")
                fields[name.strip()] = value.strip()
            return fields
    return {}


def messages(entries):
    """The translatable entries: no header, no obsolete ones."""
    return [e for e in entries if e.msgid != "" and not e.obsolete]


# Python %-style (%s, %d, %.1f, %(name)s, %(spend).2f) and %%; a bare "% "
# as in "% within SLA" is text, not a placeholder.
PERCENT = re.compile(r"%(?:\([^)]*\))?[#0+-]?(?:\d+|\*)?(?:\.\d+)?[sdifrxXeEgGc%]")
BRACES = re.compile(r"\{[A-Za-z_0-9.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")
TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b")


def placeholders(text):
    named = Counter(p for p in PERCENT.findall(text) if p.startswith("%("))
    # Positional ones are filled in order: their sequence must not change.
    positional = [p for p in PERCENT.findall(text) if not p.startswith("%(")]
    return named, positional, Counter(BRACES.findall(text))


def edges(text):
    """Leading and trailing whitespace."""
    stripped = text.strip()
    if not stripped:
        return text, ""
    start = text.index(stripped)
    return text[:start], text[start + len(stripped) :]


@pytest.fixture(scope="module")
def template():
    entries = parse_po(POT_PATH)
    msgs = messages(entries)
    assert msgs, "the template is empty"
    return msgs


@pytest.fixture(scope="module", params=LANGS)
def catalog(request):
    path = I18N_DIR / f"{request.param}.po"
    assert path.is_file(), f"{path} is missing"
    return request.param, parse_po(path)


def test_template_has_unique_msgids(template):
    duplicates = [k for k, n in Counter(e.key for e in template).items() if n > 1]
    assert not duplicates


def test_header(catalog):
    lang, entries = catalog
    fields = header(entries)
    assert fields.get("Language") == lang
    assert fields.get("Plural-Forms") == PLURAL_FORMS[lang]
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"


def test_every_msgid_is_translated(template, catalog):
    lang, entries = catalog
    translated = {e.key: e for e in messages(entries)}
    missing = [e.msgid for e in template if e.key not in translated]
    assert not missing, f"{lang}.po lacks {len(missing)} msgid(s): {missing[:20]}"
    empty = [e.msgid for e in template if not translated[e.key].msgstr.get(0)]
    assert not empty, f"{lang}.po leaves {len(empty)} msgid(s) empty: {empty[:20]}"
    fuzzy = [e.msgid for e in template if translated[e.key].fuzzy]
    assert not fuzzy, f"{lang}.po has {len(fuzzy)} fuzzy entrie(s): {fuzzy[:20]}"


def test_no_stale_msgids(template, catalog):
    lang, entries = catalog
    known = {e.key for e in template}
    stale = [e.msgid for e in messages(entries) if e.key not in known]
    assert not stale, f"{lang}.po has msgids the .pot no longer has: {stale[:20]}"
    obsolete = [e.msgid for e in entries if e.obsolete]
    assert not obsolete, (
        f"{lang}.po keeps {len(obsolete)} obsolete (#~) entrie(s); drop them with "
        f"msgattrib --no-obsolete: {obsolete[:20]}"
    )
    duplicates = [
        k for k, n in Counter(e.key for e in messages(entries)).items() if n > 1
    ]
    assert not duplicates, f"{lang}.po defines these msgids twice: {duplicates}"


def test_translations_keep_placeholders_tags_and_edges(template, catalog):
    lang, entries = catalog
    translated = {e.key: e for e in messages(entries)}
    problems = []
    for source in template:
        entry = translated.get(source.key)
        if entry is None:
            continue  # reported by test_every_msgid_is_translated
        for text in entry.msgstr.values():
            if not text:
                continue
            if placeholders(text) != placeholders(source.msgid):
                problems.append(("placeholders", source.msgid, text))
            if TAG.findall(text) != TAG.findall(source.msgid):
                problems.append(("HTML tags", source.msgid, text))
            if edges(text) != edges(source.msgid):
                problems.append(("leading/trailing whitespace", source.msgid, text))
    assert not problems, f"{lang}.po: " + "\n".join(map(repr, problems))


def test_parser_reads_escapes_and_continuations(tmp_path):
    path = tmp_path / "x.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n\n'
        "#. module: social_helpdesk\n#, fuzzy\n"
        'msgid ""\n"Page %(page)s.\\n"\n"A \\"quoted\\" word"\n'
        'msgstr "Página %(page)s"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "Ido"\n',
        encoding="utf-8",
    )
    entries = parse_po(path)
    assert header(entries) == {"Language": "es"}
    (entry,) = messages(entries)
    assert entry.msgid == 'Page %(page)s.\nA "quoted" word'
    assert entry.msgstr[0] == "Página %(page)s"
    assert entry.fuzzy
    assert [e.msgid for e in entries if e.obsolete] == ["Gone"]


def test_placeholder_detection():
    assert placeholders("% within SLA") == placeholders("% dentro del SLA")
    assert placeholders("%(left)s overdue") != placeholders("%(izq)s de retraso")
    assert placeholders("%s and %d") != placeholders("%d y %s")
    assert placeholders("%(spend).2f USD") == placeholders("%(spend).2f USD")
    assert placeholders("{name} wrote") != placeholders("{nombre} escribió")
    assert placeholders("%.1f hours") != placeholders("%s horas")


def _translated_calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in ("_", "_lt"):
                yield node


@pytest.mark.parametrize(
    "path",
    sorted((I18N_DIR.parent).rglob("*.py")),
    ids=lambda path: str(path.relative_to(I18N_DIR.parent)),
)
def test_no_f_string_inside_a_translated_call(path):
    """Odoo's term export evaluates the string arguments of ``_()`` calls: an
    f-string there makes it skip the whole file, and its terms go missing."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = [
        call.lineno
        for call in _translated_calls(tree)
        if any(isinstance(node, ast.JoinedStr) for node in ast.walk(call))
    ]
    assert not lines, f"f-string inside _() at lines {lines}"
