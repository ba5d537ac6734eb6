"""Categorization rules that managers write without code, and their matcher.

A :class:`Rule` says *when* it applies (its scope and conditions) and carries
*what* to do (``actions``, a dict the engine never reads, except that
``stop`` ends the evaluation after the rule matches). A :class:`RuleSet`
compiles a list of rules once; :meth:`RuleSet.match` then takes the
:class:`MessageFacts` of one message and returns the rules that match, in
``(sequence, id)`` order, each as a :class:`Match` with a short explanation.
:meth:`RuleSet.explain` says, for every rule, why it matched or not (the "Try
rules" wizard).

How text is compared
--------------------

* Text is *folded* (:func:`fold`): Unicode compatibility decomposition
  (NFKD), case folding, combining marks (accents) dropped, whitespace runs
  made single spaces. "FACTÚRA", "Factura" and "ＦＡＣＴＵＲＡ" are all
  "factura". The tilde of "ñ" is a combining mark too, so "año" and "ano" are
  the same word: an accepted cost of matching text typed without accents.
* Words are runs of Unicode letters and digits (:func:`tokenize`); anything
  else (punctuation, emoji, symbols, "_") separates them. "¡¡FACTURA!!" is
  the word "factura"; "don't" is the two words "don" and "t"; "e-mail" is
  "e mail".
* Keywords match whole words only: "cobro" matches "¡Cobro!" but neither
  "cobros" nor "cobrodor". Plurals and other forms must be listed. A keyword
  of several words is a phrase: it matches those words consecutively,
  whatever punctuation or spacing separates them ("nunca más" matches
  "Nunca, MAS").
* ``keyword_mode`` "any": at least one keyword occurs; "all": every keyword
  occurs; "exact": the message consists of nothing but listed keywords (each
  any number of times, in any order), ignoring punctuation and emoji:
  with "gracias" and "muchas gracias", "¡Muchas gracias! 🙏" matches and
  "Gracias, pero mi pedido no llegó" does not. A message without any word
  never matches "exact".
* The regular expression is compiled by the ``regex`` package with
  ``IGNORECASE`` and ``V0`` (the syntax and behaviour of Python's ``re``) and
  searched in the folded text and in the original text; either match is a
  match. So ``factura\\s+\\d+`` finds "Factúra 123", and ``ñ`` still finds
  "año" in the original. Customer text is never trusted to be harmless: each
  search stops after :data:`REGEX_TIMEOUT` seconds, and a rule whose search
  times out does not match that message (:meth:`RuleSet.evaluate` names
  it). :func:`validate_regex`, for saving a rule, also refuses patterns
  longer than :data:`REGEX_MAX_LENGTH` and those that time out on a few
  adversarial texts (catastrophic backtracking).
* Languages are compared on their primary subtag ("es-AR" and "pt_BR" are
  "es" and "pt"). A message of unknown language fails a language condition.
* Negative sentiment comes from a :class:`Lexicon` (``data/
  sentiment_lexicon.json``): a whole-word or phrase entry of the message's
  language (all languages when it is unknown), unless a negator of the same
  clause stands at most two words before it ("no es estafa", "not a scam").

Matching is fast: each message is folded and split into words once per
:meth:`RuleSet.match` call; single words are set look-ups, phrases are found
through an index by their first word, and only the rules whose keywords can
occur in the message (plus those without keywords) are evaluated.
"""

import json
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import regex

ANY = "any"
ALL = "all"
EXACT = "exact"
KEYWORD_MODES = (ANY, ALL, EXACT)

PUBLIC = "public"
PRIVATE = "private"
KINDS = (ANY, PUBLIC, PRIVATE)

LEXICON_PATH = (
    Path(__file__).resolve().parent.parent / "data" / "sentiment_lexicon.json"
)
# A negator this many words or fewer before a negative entry cancels it.
NEGATION_WINDOW = 2

# Seconds a rule's regular expression may search one text of a message: past
# them the rule does not match it, and the message is filed without it.
REGEX_TIMEOUT = 0.05
# Longest regular expression a rule can be saved with.
REGEX_MAX_LENGTH = 500
_REGEX_FLAGS = regex.IGNORECASE | regex.V0
# What a regular expression is tried on before it is saved: runs of one unit
# ended by a character the run lacks, the input catastrophic backtracking
# feeds on ("(a|aa)+$" takes ages on "aaa…a!").
_PROBES = tuple(
    unit * (40 // len(unit)) + "!"
    for unit in ("a", "1", "á", "a ", " ", "a.", "ab", "a-", ", ", "\n", "a\n")
)


class InvalidRule(Exception):
    """A rule or lexicon definition is invalid; the message is for users."""


# -- Text -------------------------------------------------------------------


# Combining Diacritical Marks: the accents of Latin letters once decomposed.
_DIACRITICS = re.compile("[\u0300-\u036f]+")


def _drop_combining_marks(text):
    """``text`` without combining marks (accents, once decomposed)."""
    text = _DIACRITICS.sub("", text)
    if text.isascii():
        return text
    # Other scripts' marks are rare here: look for them among distinct chars.
    marks = [c for c in set(text) if c > "\x7f" and unicodedata.combining(c)]
    if marks:
        text = text.translate(dict.fromkeys(map(ord, marks)))
    return text


_WORD = re.compile(r"[^\W_]+")
# Punctuation that ends a clause, in folded text (NFKD made "…" three dots):
# a negator does not reach past it.
_CLAUSE_BREAK = re.compile(r"[.,;:!?¡¿()\[\]{}]")


def fold(text):
    """Casefolded ``text`` without accents, its whitespace runs single spaces.

    >>> fold("  ¡¡FACTÚRA\\n  año!! ")
    '¡¡factura ano!!'
    """
    if not text:
        return ""
    if text.isascii():
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_drop_combining_marks(text).split())


def tokenize(text):
    """The words of ``text``, folded: runs of Unicode letters and digits.

    >>> tokenize("¡¡FACTURA!! nº 12, ¿cobro?")
    ('factura', 'no', '12', 'cobro')
    """
    return tuple(_WORD.findall(fold(text)))


def split_keywords(value):
    """Keywords from a text (one per line or comma separated) or an iterable,
    stripped, without blanks or duplicates, in their order."""
    if not value:
        return ()
    if isinstance(value, str):
        value = re.split(r"[,\n]", value)
    seen = {}
    for keyword in value:
        if not isinstance(keyword, str):
            raise InvalidRule(f"A keyword must be a text, not {keyword!r}.")
        keyword = " ".join(keyword.split())
        if keyword:
            seen.setdefault(keyword, None)
    return tuple(seen)


def compile_regex(pattern):
    """Compile ``pattern`` (``IGNORECASE``, ``V0``), or raise
    :class:`InvalidRule` saying why. An empty pattern means "no condition":
    returns None. Rules already saved are compiled with this alone, so that
    a pattern saved before a check existed still runs (under the timeout)."""
    if pattern is None or pattern == "":
        return None
    if not isinstance(pattern, str):
        raise InvalidRule(f"A regular expression must be a text, not {pattern!r}.")
    try:
        return regex.compile(pattern, _REGEX_FLAGS)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise InvalidRule(f'Invalid regular expression "{pattern}": {exc}') from exc


def validate_regex(pattern):
    """:func:`compile_regex`, and refuse with :class:`InvalidRule` what should
    not be saved: a pattern longer than :data:`REGEX_MAX_LENGTH`, or one that
    outlasts :data:`REGEX_TIMEOUT` on one of the adversarial probes."""
    compiled = compile_regex(pattern)
    if compiled is None:
        return None
    if len(pattern) > REGEX_MAX_LENGTH:
        raise InvalidRule(
            f"A regular expression can have at most {REGEX_MAX_LENGTH} "
            f"characters; this one has {len(pattern)}."
        )
    for probe in _PROBES:
        try:
            compiled.search(probe, timeout=REGEX_TIMEOUT)
        except TimeoutError as exc:
            raise InvalidRule(
                f'Regular expression "{pattern}" can take too long on some '
                "messages (catastrophic backtracking): simplify it, e.g. "
                'without alternatives that overlap inside a repeat like "(a|aa)+".'
            ) from exc
    return compiled


@lru_cache(maxsize=256)
def _language(code):
    """Primary subtag of a language code: "pt_BR" -> "pt"; "" if none. Cached:
    every message asks, among a handful of codes."""
    if not code or not isinstance(code, str):
        return ""
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]


def _codes(value):
    """A frozenset of lowercase codes from an iterable or a comma list."""
    if not value:
        return frozenset()
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(str(code).strip().lower() for code in value) - {""}


def _phrase(entry, what):
    """The words of a keyword or lexicon entry; refuses one without any."""
    words = tokenize(entry)
    if not words:
        raise InvalidRule(f'{what} "{entry}" has no letters or digits.')
    return words


def _phrase_index(phrases):
    """Index ``{first word: ((words, key), ...)}`` of phrases of 2+ words."""
    index = {}
    for words, key in phrases:
        if len(words) > 1:
            index.setdefault(words[0], []).append((words, key))
    return {first: tuple(entries) for first, entries in index.items()}


def _find_phrases(tokens, index):
    """``(position, words, key)`` of every phrase of ``index`` in ``tokens``,
    overlapping ones included, in order."""
    found = []
    for position, token in enumerate(tokens):
        entries = index.get(token)
        if entries:
            for words, key in entries:
                if tokens[position : position + len(words)] == words:
                    found.append((position, words, key))
    return found


class _Text:
    """One text, folded and split into words once."""

    __slots__ = ("original", "folded", "tokens", "token_set", "_spans")

    def __init__(self, text):
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        self.original = text
        self.folded = fold(text)
        self.tokens = tuple(_WORD.findall(self.folded))
        self.token_set = frozenset(self.tokens)
        self._spans = None

    def clause_break(self, start_word, end_word):
        """Whether clause punctuation separates word ``start_word`` from
        the later word ``end_word``."""
        if self._spans is None:
            self._spans = [m.span() for m in _WORD.finditer(self.folded)]
        return bool(
            _CLAUSE_BREAK.search(
                self.folded, self._spans[start_word][1], self._spans[end_word][0]
            )
        )


# -- Sentiment lexicon ------------------------------------------------------


class _Terms:
    """The compiled entries of one language (or of all of them)."""

    __slots__ = ("words", "phrases", "first_words", "negators", "longest_negator")

    def __init__(self):
        self.words = {}  # folded word -> entry as written
        self.phrases = []  # (words, entry as written)
        self.first_words = frozenset()
        self.negators = set()  # tuples of words
        self.longest_negator = 0

    def add(self, other):
        for word, label in other.words.items():
            self.words.setdefault(word, label)
        self.phrases.extend(other.phrases)
        self.negators |= other.negators

    def freeze(self):
        self.words = dict(self.words)
        self.phrases = _phrase_index(self.phrases)
        self.first_words = frozenset(self.phrases)
        self.negators = frozenset(self.negators)
        self.longest_negator = max(map(len, self.negators), default=0)


class Lexicon:
    """Negative-sentiment entries (words and phrases) and negators per
    language, as ``{"es": {"negative": [...], "negators": [...]}, ...}``.

    Keys starting with "_" are comments. Entries are folded like messages, so
    accents and case do not matter. Build one from a dict (an edited copy of
    the bundled file) or use :meth:`default`.
    """

    _default = None

    def __init__(self, data):
        if not isinstance(data, dict):
            raise InvalidRule("The sentiment lexicon must be a JSON object.")
        self._languages = {}
        every = _Terms()
        for lang, section in data.items():
            if not isinstance(lang, str) or lang.startswith("_"):
                continue
            terms = self._compile(lang, section)
            self._languages[_language(lang)] = terms
            every.add(terms)
        for terms in self._languages.values():
            terms.freeze()
        every.freeze()
        self._every = every

    @staticmethod
    def _compile(lang, section):
        if not isinstance(section, dict):
            raise InvalidRule(f'Lexicon language "{lang}" must be a JSON object.')
        terms = _Terms()
        for key in ("negative", "negators"):
            entries = section.get(key, [])
            if not isinstance(entries, list) or not all(
                isinstance(entry, str) for entry in entries
            ):
                raise InvalidRule(
                    f'Lexicon language "{lang}": "{key}" must be a list of texts.'
                )
            for entry in entries:
                words = _phrase(entry, f'Lexicon entry ("{lang}")')
                if key == "negators":
                    terms.negators.add(words)
                elif len(words) == 1:
                    terms.words.setdefault(words[0], entry)
                else:
                    terms.phrases.append((words, entry))
        return terms

    @classmethod
    def from_file(cls, path=LEXICON_PATH):
        """A lexicon from a JSON file (the bundled one by default)."""
        with open(path, encoding="utf-8") as file:
            return cls(json.load(file))

    @classmethod
    def default(cls):
        """The bundled lexicon, loaded once."""
        if cls._default is None:
            cls._default = cls.from_file()
        return cls._default

    @property
    def languages(self):
        """The language codes the lexicon has entries for."""
        return frozenset(self._languages)

    def negative_term(self, text, lang=None):
        """The first negative entry (as written in the lexicon) found in
        ``text``, not negated; None if there is none. ``lang`` picks the
        entries to use; when it is empty or not in the lexicon, all are."""
        return self._negative_term(_Text(text), _language(lang))

    def is_negative(self, text, lang=None):
        """Whether ``text`` has negative sentiment (see :meth:`negative_term`)."""
        return self.negative_term(text, lang) is not None

    def _negative_term(self, text, lang):
        terms = self._languages.get(lang, self._every)
        tokens, token_set = text.tokens, text.token_set
        hits = []  # (position, -length, entry)
        if not token_set.isdisjoint(terms.words):
            hits.extend(
                (position, -1, terms.words[token])
                for position, token in enumerate(tokens)
                if token in terms.words
            )
        if not terms.first_words.isdisjoint(token_set):
            hits.extend(
                (position, -len(words), entry)
                for position, words, entry in _find_phrases(tokens, terms.phrases)
            )
        for position, _length, entry in sorted(hits):
            if not self._negated(text, position, terms):
                return entry
        return None

    @staticmethod
    def _negated(text, position, terms):
        """Whether a negator ends within the window before word ``position``,
        in the same clause."""
        if not terms.negators:
            return False
        tokens = text.tokens
        for end in range(position - 1, max(position - NEGATION_WINDOW, 0) - 1, -1):
            for length in range(1, min(terms.longest_negator, end + 1) + 1):
                if tokens[end - length + 1 : end + 1] in terms.negators:
                    return not text.clause_break(end, position)
        return False


# -- Rules ------------------------------------------------------------------


def _tristate(rule, name):
    value = getattr(rule, name)
    if value is not None and not isinstance(value, bool):
        raise InvalidRule(
            f'Rule "{rule.name or rule.id}": {name} must be true, false or empty, '
            f"not {value!r}."
        )


@dataclass(frozen=True)
class Rule:
    """One categorization rule. Empty conditions do not constrain.

    ``channels``: channel codes ("x", "facebook", "email"...), empty = any.
    ``kind``: "public", "private" or "any". ``keywords`` with
    ``keyword_mode`` "any", "all" or "exact". ``regex``: searched in the
    folded and the original text. ``languages``: codes, empty = any.
    ``min_followers``: the author has at least that many followers (0 = no
    condition). ``known_customer``, ``negative_sentiment``, ``out_of_hours``:
    True or False to require that value, None for "don't care". ``stop``:
    no further rule is evaluated after this one matches. ``actions``: carried
    for the caller, never read.

    Values are normalised (codes lowercased, keywords split and stripped) and
    checked on creation: an invalid rule raises :class:`InvalidRule`.
    """

    id: object
    sequence: int = 10
    name: str = ""
    active: bool = True
    channels: frozenset = frozenset()
    kind: str = ANY
    keywords: tuple = ()
    keyword_mode: str = ANY
    regex: str = ""
    languages: frozenset = frozenset()
    min_followers: int = 0
    known_customer: bool | None = None
    negative_sentiment: bool | None = None
    out_of_hours: bool | None = None
    stop: bool = False
    actions: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self):
        label = f'Rule "{self.name or self.id}"'
        set_ = object.__setattr__
        set_(self, "channels", _codes(self.channels))
        set_(self, "languages", frozenset(map(_language, _codes(self.languages))))
        set_(self, "keywords", split_keywords(self.keywords))
        set_(self, "regex", self.regex or "")
        set_(self, "active", bool(self.active))
        set_(self, "stop", bool(self.stop))
        set_(self, "actions", self.actions if self.actions is not None else {})
        kind = (self.kind or ANY).strip().lower()
        if kind not in KINDS:
            raise InvalidRule(
                f'{label}: unknown message kind "{self.kind}" (use {", ".join(KINDS)}).'
            )
        set_(self, "kind", kind)
        mode = (self.keyword_mode or ANY).strip().lower()
        if mode not in KEYWORD_MODES:
            raise InvalidRule(
                f'{label}: unknown keyword mode "{self.keyword_mode}" '
                f"(use {', '.join(KEYWORD_MODES)})."
            )
        set_(self, "keyword_mode", mode)
        try:
            set_(self, "sequence", int(self.sequence or 0))
            set_(self, "min_followers", int(self.min_followers or 0))
        except (TypeError, ValueError) as exc:
            raise InvalidRule(f"{label}: sequence and followers are numbers.") from exc
        if self.min_followers < 0:
            raise InvalidRule(f"{label}: the minimum of followers cannot be negative.")
        for name in ("known_customer", "negative_sentiment", "out_of_hours"):
            _tristate(self, name)
        for keyword in self.keywords:
            _phrase(keyword, f"{label}: keyword")
        compile_regex(self.regex)


@dataclass(frozen=True)
class MessageFacts:
    """What the rules look at in one message. ``known_customer`` and
    ``out_of_hours`` are computed by the caller; negative sentiment by the
    engine, from its lexicon."""

    text: str
    channel: str
    kind: str  # PUBLIC or PRIVATE
    lang: str = ""
    followers: int = 0
    known_customer: bool = False
    out_of_hours: bool = False

    @classmethod
    def from_message(cls, message, known_customer=False, out_of_hours=False):
        """Facts of an adapter's ``SocialMessage``."""
        author = getattr(message, "author", None)
        return cls(
            text=message.text or "",
            channel=message.channel,
            kind=message.kind,
            lang=message.lang or "",
            followers=getattr(author, "followers_count", None) or 0,
            known_customer=known_customer,
            out_of_hours=out_of_hours,
        )


def _lt(template):
    """Marks ``template`` for Odoo's translation export, which collects the
    ``_lt(...)`` calls of the addon's Python files; the engine speaks English."""
    return template


class Reason(str):
    """One reason of an explanation: its English text, which keeps the
    ``template`` and ``params`` it was made of so that a caller can render
    it in the reader's language (:func:`explain_in`)."""

    def __new__(cls, template, **params):
        reason = super().__new__(cls, template % params if params else template)
        reason.template = template
        reason.params = params
        return reason


def explain_in(reasons, translate):
    """``reasons`` joined, each rendered by ``translate(template, **params)``
    (for example Odoo's ``env._``, whose catalogue holds the templates)."""
    return "; ".join(
        translate(reason.template, **reason.params)
        if reason.params
        else translate(reason.template)
        for reason in reasons
    )


@dataclass(frozen=True)
class Match:
    """A rule that matched, and why (one :class:`Reason` per condition)."""

    rule: Rule
    reasons: tuple

    @property
    def explanation(self):
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Evaluation:
    """:meth:`RuleSet.evaluate`'s answer for one message: ``matches``, as
    :meth:`RuleSet.match` returns them, and ``timeouts``, a :class:`Verdict`
    for each rule left out because its regex ran out of time on the message
    (the caller can flag those rules)."""

    matches: list
    timeouts: tuple = ()


@dataclass(frozen=True)
class Verdict:
    """One rule's outcome on one message (:meth:`RuleSet.explain`).

    ``matched``: its conditions hold; ``skipped``: an earlier matching rule
    had ``stop``, so it does not fire even if it matched; ``reasons``: why
    it matched, or the first condition that failed (:class:`Reason`);
    ``timed_out``: that condition is the regex, whose search outlasted
    :data:`REGEX_TIMEOUT`.
    """

    rule: Rule
    matched: bool
    skipped: bool
    reasons: tuple
    timed_out: bool = False

    @property
    def fired(self):
        return self.matched and not self.skipped

    @property
    def explanation(self):
        return "; ".join(self.reasons)


def _labels(words):
    return ", ".join(words)


class _Compiled:
    """A rule with its keywords folded and its regex compiled."""

    __slots__ = (
        "rule",
        "channels",
        "kind",
        "languages",
        "known_customer",
        "out_of_hours",
        "min_followers",
        "mode",
        "keys",
        "labels",
        "exact",
        "lengths",
        "vocabulary",
        "regex",
        "negative",
        "flag_reasons",
    )

    def __init__(self, rule):
        # The rule's conditions as plain attributes, None when unset: the
        # checks of _first_failure run for every candidate rule of a message.
        self.rule = rule
        self.channels = rule.channels
        self.kind = None if rule.kind == ANY else rule.kind
        self.languages = rule.languages
        self.known_customer = rule.known_customer
        self.out_of_hours = rule.out_of_hours
        self.min_followers = rule.min_followers
        self.mode = rule.keyword_mode if rule.keywords else None
        self.negative = rule.negative_sentiment
        phrases = [(_phrase(keyword, "Keyword"), keyword) for keyword in rule.keywords]
        self.labels = {}  # key -> keyword as written
        for words, keyword in phrases:
            self.labels.setdefault(" ".join(words), keyword)
        self.keys = frozenset(self.labels)
        self.exact = frozenset(words for words, _keyword in phrases)
        self.lengths = sorted({len(words) for words in self.exact}, reverse=True)
        self.vocabulary = frozenset(word for words in self.exact for word in words)
        self.regex = compile_regex(rule.regex)
        # The reasons given by the rule's yes-or-no conditions, if it matches.
        self.flag_reasons = tuple(
            Reason(yes if getattr(rule, name) else no)
            for name, (yes, no) in _FLAGS.items()
            if getattr(rule, name) is not None
        )

    def phrases(self):
        """``(words, key)`` of each keyword."""
        return [(tuple(key.split(" ")), key) for key in self.keys]


class _Message(_Text):
    """One message's facts, normalised, and its text, split once."""

    __slots__ = (
        "channel",
        "kind",
        "lang",
        "followers",
        "known_customer",
        "out_of_hours",
        "present",
        "_lexicon",
        "_negative",
        "_searched",
        "timed_out",
    )

    def __init__(self, facts, ruleset):
        super().__init__(facts.text)
        self.channel = str(facts.channel or "").strip().lower()
        self.kind = str(facts.kind or "").strip().lower()
        self.lang = _language(facts.lang)
        self.followers = int(facts.followers or 0)
        self.known_customer = bool(facts.known_customer)
        self.out_of_hours = bool(facts.out_of_hours)
        # Keys of the keywords (single words and phrases) the text contains.
        self.present = self.token_set
        if not ruleset.phrase_first_words.isdisjoint(self.token_set):
            found = _find_phrases(self.tokens, ruleset.phrase_index)
            if found:
                self.present = self.token_set | {key for _p, _w, key in found}
        self._lexicon = ruleset.lexicon
        self._negative = False  # not computed yet (None: computed, none found)
        self._searched = {}
        self.timed_out = set()  # compiled patterns whose search timed out

    def search(self, pattern):
        """``pattern``'s match in the folded text, else in the original, or
        None (once per pattern: rules sharing a pattern share its compiled
        form). A search that outlasts :data:`REGEX_TIMEOUT` is no match, and
        puts ``pattern`` in ``timed_out``."""
        if pattern in self._searched:
            return self._searched[pattern]
        found = None
        try:
            found = pattern.search(self.folded, timeout=REGEX_TIMEOUT)
            if found is None and self.original != self.folded:
                found = pattern.search(self.original, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            self.timed_out.add(pattern)
        self._searched[pattern] = found
        return found

    def timed_out_on(self, compiled, failure):
        """Whether ``failure`` (of the compiled rule) is its regex's timeout."""
        return failure == "regex" and compiled.regex in self.timed_out

    def negative_term(self):
        if self._negative is False:
            self._negative = self._lexicon._negative_term(self, self.lang)
        return self._negative


def _segments(tokens, phrases, lengths):
    """``tokens`` (at least one) as a sequence of ``phrases`` (longest first
    where there is a choice), or None if it is not one."""
    end = len(tokens)
    if not end:
        return None
    came_from = [None] * (end + 1)  # start of the phrase that reaches here
    came_from[0] = 0
    for start in range(end):
        if came_from[start] is not None:
            for length in lengths:
                stop = start + length
                if (
                    stop <= end
                    and came_from[stop] is None
                    and tokens[start:stop] in phrases
                ):
                    came_from[stop] = start
    if came_from[end] is None:
        return None
    path = []
    while end:
        path.append(tokens[came_from[end] : end])
        end = came_from[end]
    return path[::-1]


def _keywords_hold(rule, message):
    mode = rule.mode
    if mode == ANY:
        return not rule.keys.isdisjoint(message.present)
    if mode == ALL:
        return rule.keys <= message.present
    return (
        message.token_set <= rule.vocabulary
        and _segments(message.tokens, rule.exact, rule.lengths) is not None
    )


def _first_failure(rule, message):
    """The name of the first condition of the compiled ``rule`` that
    ``message`` fails (cheapest checks first), or None."""
    return _fact_failure(rule, message) or _content_failure(rule, message)


def _fact_failure(rule, message):
    """:func:`_first_failure` on the conditions on the message's facts alone
    (channel, kind, language, customer, hours, followers), not its text."""
    if rule.channels and message.channel not in rule.channels:
        return "channels"
    if rule.kind is not None and message.kind != rule.kind:
        return "kind"
    if rule.languages and message.lang not in rule.languages:
        return "languages"
    if rule.known_customer is not None and (
        message.known_customer != rule.known_customer
    ):
        return "known_customer"
    if rule.out_of_hours is not None and message.out_of_hours != rule.out_of_hours:
        return "out_of_hours"
    if message.followers < rule.min_followers:
        return "min_followers"
    return None


def _content_failure(rule, message):
    """:func:`_first_failure` on the conditions on the text: keywords, regex,
    sentiment."""
    if rule.mode is not None and not _keywords_hold(rule, message):
        return "keywords"
    if rule.regex is not None and message.search(rule.regex) is None:
        return "regex"
    if rule.negative is not None and (
        (message.negative_term() is not None) != rule.negative
    ):
        return "negative_sentiment"
    return None


class _FactIndex:
    """Which rules a message's facts admit, as a bitmask over the rules'
    positions: the AND of one precomputed mask per fact, so that the rules
    failing :func:`_fact_failure` are never evaluated one by one."""

    def __init__(self, compiled):
        self.channel = _value_masks(compiled, lambda rule: rule.channels)
        self.kind = _value_masks(
            compiled, lambda rule: () if rule.kind is None else (rule.kind,)
        )
        self.lang = _value_masks(compiled, lambda rule: rule.languages)
        self.flags = {
            name: {
                value: _mask(
                    position
                    for position, rule in enumerate(compiled)
                    if getattr(rule, name) in (None, value)
                )
                for value in (False, True)
            }
            for name in ("known_customer", "out_of_hours")
        }
        # thresholds[i - 1] is the largest threshold met with i thresholds met.
        self.thresholds = sorted({rule.min_followers for rule in compiled})
        self.followers = [
            _mask(
                position
                for position, rule in enumerate(compiled)
                if rule.min_followers in self.thresholds[:met]
            )
            for met in range(len(self.thresholds) + 1)
        ]

    def admitted(self, message):
        """The mask of the rules whose fact conditions ``message`` meets."""
        channels, kinds, langs = self.channel, self.kind, self.lang
        return (
            channels[1].get(message.channel, channels[0])
            & kinds[1].get(message.kind, kinds[0])
            & langs[1].get(message.lang, langs[0])
            & self.flags["known_customer"][message.known_customer]
            & self.flags["out_of_hours"][message.out_of_hours]
            & self.followers[bisect_right(self.thresholds, message.followers)]
        )


def _mask(positions):
    mask = 0
    for position in positions:
        mask |= 1 << position
    return mask


def _value_masks(compiled, allowed_of):
    """(mask for a value no rule names, {value: mask}) of a condition that
    allows a set of values, ``allowed_of(rule)`` (empty: every value)."""
    allowed = [allowed_of(rule) for rule in compiled]
    anything = _mask(position for position, values in enumerate(allowed) if not values)
    by_value = {}
    for position, values in enumerate(allowed):
        for value in values:
            by_value[value] = by_value.get(value, anything) | 1 << position
    return anything, by_value


_FLAGS = {
    "known_customer": (_lt("known customer"), _lt("not a known customer")),
    "out_of_hours": (_lt("out of business hours"), _lt("within business hours")),
}

_KIND_REASONS = {"public": _lt("public message"), "private": _lt("private message")}

# A message's kind against the kind a rule wants; a message's kind is unknown
# when its network does not say.
_KIND_FAILURES = {
    ("public", "private"): _lt("public message, rule wants private"),
    ("private", "public"): _lt("private message, rule wants public"),
    (None, "public"): _lt("unknown message, rule wants public"),
    (None, "private"): _lt("unknown message, rule wants private"),
}


def _sentiment_reason(message):
    term = message.negative_term()
    if term:
        return Reason(_lt('negative sentiment: "%(term)s"'), term=term)
    return Reason(_lt("no negative sentiment"))


def _failure_text(compiled, message, name):
    """The :class:`Reason` why ``message`` fails the condition ``name``."""
    rule = compiled.rule
    if name == "channels":
        return Reason(
            _lt('channel "%(channel)s" not in %(channels)s'),
            channel=message.channel,
            channels=_labels(sorted(rule.channels)),
        )
    if name == "kind":
        kind = message.kind if message.kind in _KIND_REASONS else None
        return Reason(_KIND_FAILURES[kind, compiled.kind])
    if name == "languages":
        languages = _labels(sorted(rule.languages))
        if not message.lang:
            return Reason(
                _lt('language "unknown" not in %(languages)s'), languages=languages
            )
        return Reason(
            _lt('language "%(lang)s" not in %(languages)s'),
            lang=message.lang,
            languages=languages,
        )
    if name in _FLAGS:
        return Reason(_FLAGS[name][0 if getattr(message, name) else 1])
    if name == "min_followers":
        return Reason(
            _lt("followers %(followers)s < %(minimum)s"),
            followers=message.followers,
            minimum=rule.min_followers,
        )
    if name == "keywords":
        return _keywords_failure(compiled, message)
    if name == "regex":
        if compiled.regex in message.timed_out:
            return Reason(
                _lt('regex "%(pattern)s" timed out (over %(seconds)s s): no match'),
                pattern=rule.regex,
                seconds=REGEX_TIMEOUT,
            )
        return Reason(_lt('regex "%(pattern)s" not found'), pattern=rule.regex)
    return _sentiment_reason(message)


def _keywords_failure(compiled, message):
    rule = compiled.rule
    if rule.keyword_mode == ANY:
        return Reason(_lt("no keyword found (%(words)s)"), words=_labels(rule.keywords))
    if rule.keyword_mode == ALL:
        missing = [
            label
            for key, label in compiled.labels.items()
            if key not in message.present
        ]
        return Reason(_lt("missing keywords: %(words)s"), words=_labels(missing))
    return Reason(_lt("message is not only: %(words)s"), words=_labels(rule.keywords))


def _reasons(compiled, message):
    """Why ``message`` matches: one reason per condition of the rule."""
    rule = compiled.rule
    reasons = []
    if rule.channels:
        reasons.append(Reason(_lt("channel: %(channel)s"), channel=message.channel))
    if compiled.kind is not None:
        reasons.append(Reason(_KIND_REASONS[rule.kind]))
    if rule.languages:
        reasons.append(Reason(_lt("language: %(lang)s"), lang=message.lang))
    reasons.extend(compiled.flag_reasons)
    if rule.min_followers:
        reasons.append(
            Reason(
                _lt("followers ≥ %(minimum)s (%(followers)s)"),
                minimum=rule.min_followers,
                followers=message.followers,
            )
        )
    if rule.keyword_mode == EXACT and compiled.keys:
        path = _segments(message.tokens, compiled.exact, compiled.lengths)
        used = dict.fromkeys(compiled.labels[" ".join(words)] for words in path)
        reasons.append(Reason(_lt("only: %(words)s"), words=_labels(used)))
    elif compiled.keys:
        present = message.present
        found = _labels(
            label for key, label in compiled.labels.items() if key in present
        )
        template = (
            _lt("keywords: %(words)s")
            if rule.keyword_mode == ANY
            else _lt("all keywords: %(words)s")
        )
        reasons.append(Reason(template, words=found))
    if compiled.regex is not None:
        found = message.search(compiled.regex).group(0)
        if len(found) > 40:
            found = found[:39] + "…"
        reasons.append(
            Reason(
                _lt('regex "%(pattern)s" matched "%(found)s"'),
                pattern=rule.regex,
                found=found,
            )
        )
    if compiled.negative is not None:
        reasons.append(_sentiment_reason(message))
    return tuple(reasons) or (Reason(_lt("no conditions")),)


def _order(rule):
    """Sort key: sequence, then id (numbers before other ids)."""
    ident = rule.id
    if isinstance(ident, int) and not isinstance(ident, bool):
        return (rule.sequence, 0, ident, "")
    return (rule.sequence, 1, 0, str(ident))


class RuleSet:
    """Rules compiled once, matched against many messages.

    ``rules``: :class:`Rule` instances (inactive ones are left out);
    ``lexicon``: the :class:`Lexicon` for negative sentiment, by default the
    bundled one (loaded only if a rule has a sentiment condition).
    """

    def __init__(self, rules, lexicon=None):
        active = sorted((rule for rule in rules if rule.active), key=_order)
        self._compiled = [_Compiled(rule) for rule in active]
        if lexicon is None and any(
            rule.negative_sentiment is not None for rule in active
        ):
            lexicon = Lexicon.default()
        self.lexicon = lexicon
        # Which rules a word can bring in (bitmasks over the positions): a
        # rule with keywords needs the first word of one of them; a rule
        # without is always evaluated. Either only if the facts admit it.
        self._always = 0
        by_word = {}
        phrases = {}
        for position, compiled in enumerate(self._compiled):
            if not compiled.keys:
                self._always |= 1 << position
            for words, key in compiled.phrases():
                by_word[words[0]] = by_word.get(words[0], 0) | 1 << position
                phrases[key] = words
        self._by_word = by_word
        self._words = frozenset(by_word)
        self._facts = _FactIndex(self._compiled)
        # The rules whose first text condition is a regex (no keywords), by
        # pattern: a pattern is searched once per message, and its rules are
        # dropped together when it is not found.
        self._regex_first = {}
        for position, compiled in enumerate(self._compiled):
            if compiled.mode is None and compiled.regex is not None:
                pattern = compiled.regex
                self._regex_first[pattern] = (
                    self._regex_first.get(pattern, 0) | 1 << position
                )
        self.phrase_index = _phrase_index((w, k) for k, w in phrases.items())
        self.phrase_first_words = frozenset(self.phrase_index)

    @property
    def rules(self):
        """The active rules, in evaluation order."""
        return [compiled.rule for compiled in self._compiled]

    def __len__(self):
        return len(self._compiled)

    def needs(self, fact):
        """Whether a rule has a condition on ``fact`` (``known_customer`` or
        ``out_of_hours``): the caller computes only the facts asked for."""
        return any(
            getattr(compiled.rule, fact) is not None for compiled in self._compiled
        )

    def match(self, facts):
        """The rules matching ``facts`` (a :class:`MessageFacts`), in order,
        as :class:`Match` items; none after a matching rule with ``stop``."""
        return self.evaluate(facts).matches

    def evaluate(self, facts):
        """:meth:`match`'s rules, and the rules it left out because their
        regex timed out on ``facts``, as an :class:`Evaluation`."""
        message = _Message(facts, self)
        candidates = self._always
        by_word = self._by_word
        for word in self._words.intersection(message.token_set):
            candidates |= by_word[word]
        candidates &= self._facts.admitted(message)
        for pattern, rules in self._regex_first.items():
            if (
                candidates & rules
                and message.search(pattern) is None
                and pattern not in message.timed_out  # left to report below
            ):
                candidates &= ~rules
        matches = []
        timeouts = []
        compiled_rules = self._compiled
        while candidates:  # the rules' positions, in order: lowest bit first
            lowest = candidates & -candidates
            candidates ^= lowest
            compiled = compiled_rules[lowest.bit_length() - 1]
            failure = _content_failure(compiled, message)
            if failure is None:
                matches.append(Match(compiled.rule, _reasons(compiled, message)))
                if compiled.rule.stop:
                    break
            elif failure == "regex" and compiled.regex in message.timed_out:
                reasons = (_failure_text(compiled, message, failure),)
                timeouts.append(Verdict(compiled.rule, False, False, reasons, True))
        return Evaluation(matches, tuple(timeouts))

    def explain(self, facts):
        """A :class:`Verdict` for every rule, in order: whether and why it
        matches ``facts``, and whether an earlier ``stop`` rule skips it.
        The rules it says fire are exactly what :meth:`match` returns."""
        message = _Message(facts, self)
        verdicts = []
        stopped = False
        for compiled in self._compiled:
            failure = _first_failure(compiled, message)
            if failure is None:
                reasons = _reasons(compiled, message)
            else:
                reasons = (_failure_text(compiled, message, failure),)
            verdicts.append(
                Verdict(
                    compiled.rule,
                    failure is None,
                    stopped,
                    reasons,
                    message.timed_out_on(compiled, failure),
                )
            )
            stopped = stopped or (failure is None and compiled.rule.stop)
        return verdicts
