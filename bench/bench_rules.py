"""Benchmark of the categorization rules engine (no Odoo needed).

Builds 200 rules (keywords in "any", "all" and "exact" mode, phrases,
regular expressions, follower thresholds, sentiment, scopes) and 10,000
synthetic Spanish, English and Portuguese messages, then times compiling the
:class:`RuleSet` and matching every message. Target (issue #29): all 10,000
matched in under 0.5 s (the best run).

    .venv-test/bin/python bench/bench_rules.py [--rules 200] [--messages 10000]
"""

import argparse
import random
import statistics
import sys
import time
import types
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent / "social_helpdesk"
if "social_helpdesk" not in sys.modules:  # import without Odoo (as tests do)
    package = types.ModuleType("social_helpdesk")
    package.__path__ = [str(ADDON_DIR)]
    sys.modules["social_helpdesk"] = package

from common import bounded, machine_rows, print_table, verdict  # noqa: E402

from social_helpdesk.rules.engine import (  # noqa: E402
    Lexicon,
    MessageFacts,
    Rule,
    RuleSet,
)

TOPICS = {
    "es": [
        "factura",
        "cobro",
        "precio",
        "comprar",
        "pedido",
        "envío",
        "devolución",
        "reembolso",
        "tarjeta",
        "cuenta",
        "contraseña",
        "garantía",
        "me cobraron dos veces",
        "no llegó",
        "cambiar dirección",
    ],
    "en": [
        "invoice",
        "billing",
        "price",
        "quote",
        "order",
        "delivery",
        "refund",
        "card",
        "account",
        "password",
        "warranty",
        "charged twice",
        "never arrived",
        "change address",
        "tracking number",
    ],
    "pt": [
        "fatura",
        "cobrança",
        "preço",
        "comprar",
        "pedido",
        "entrega",
        "reembolso",
        "cartão",
        "conta",
        "senha",
        "garantia",
        "cobrado duas vezes",
        "não chegou",
        "mudar endereço",
        "código de rastreio",
    ],
}
FILLER = {
    "es": "hola buenas tardes mi el la de que por favor ayuda ya hace días "
    "quiero saber cuando llega sigo esperando respuesta gracias saludos".split(),
    "en": "hi hello my the of please help it has been days I want to know "
    "when will arrive still waiting for an answer thanks regards".split(),
    "pt": "olá boa tarde meu o a de que por favor ajuda já faz dias quero "
    "saber quando chega continuo esperando resposta obrigado abraço".split(),
}
ANGRY = {
    "es": ["¡Estafa!", "Servicio fatal.", "Qué vergüenza.", "Nunca más."],
    "en": ["Scam!", "Worst service ever.", "Refund now!", "Terrible."],
    "pt": ["Golpe!", "Atendimento péssimo.", "Não funciona.", "Que vergonha."],
}
THANKS = {
    "es": ["¡Gracias!", "Muchas gracias 🙏", "gracias!!"],
    "en": ["Thanks!", "Thank you 😊", "thanks"],
    "pt": ["Obrigado!", "Obrigada 🙏", "valeu, obrigado"],
}
CHANNELS = ["x", "facebook", "messenger", "instagram", "email", "web", "phone"]
TARGET_SECONDS = 0.5


def build_rules(count, rng):
    words = [w for lang in TOPICS.values() for w in lang]
    # Rare words make most rules specific, as real rule sets are.
    rare = [f"produto{n}" for n in range(400)]
    rules = []
    for n in range(count):
        shape = n % 10
        values = {"sequence": rng.randrange(1, 100), "name": f"Rule {n}"}
        if shape in (0, 1, 2, 3):
            values["keywords"] = rng.sample(words, 2) + rng.sample(rare, 3)
        elif shape == 4:
            values["keywords"] = [rng.choice(words), rng.choice(rare)]
            values["keyword_mode"] = "all"
        elif shape == 5:
            values["keywords"] = [t.lower().strip("!🙏😊 ") for t in THANKS["es"]] + [
                "thanks",
                "thank you",
                "obrigado",
                "obrigada",
            ]
            values["keyword_mode"] = "exact"
            values["stop"] = n % 20 == 5
        elif shape == 6:
            values["regex"] = rng.choice(
                [r"\b\d{6,}\b", r"pedido\s*#?\d+", r"order\s*#?\d+", r"@\w+"]
            )
        elif shape == 7:
            values["negative_sentiment"] = True
            values["min_followers"] = rng.choice([1000, 10000, 100000])
            values["kind"] = "public"
        elif shape == 8:
            values["keywords"] = rng.sample(words, 3)
            values["languages"] = {rng.choice(list(TOPICS))}
            values["channels"] = set(rng.sample(CHANNELS, 3))
        else:
            values["known_customer"] = rng.choice([True, False])
            values["out_of_hours"] = rng.choice([True, None])
            values["keywords"] = rng.sample(rare, 2)
        rules.append(Rule(n, actions={"bench": n}, **values))
    return rules


def build_messages(count, rng):
    messages = []
    for n in range(count):
        lang = rng.choice(list(TOPICS))
        roll = rng.random()
        if roll < 0.1:
            text = rng.choice(THANKS[lang])
        else:
            parts = rng.choices(FILLER[lang], k=rng.randrange(4, 30))
            for _ in range(rng.randrange(0, 3)):
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(TOPICS[lang]))
            if roll < 0.3:
                parts.append(rng.choice(ANGRY[lang]))
            if roll > 0.9:
                parts.append(f"#{rng.randrange(10**5, 10**7)}")
            text = " ".join(parts)
            if n % 3 == 0:
                text = text.capitalize() + "?"
        messages.append(
            MessageFacts(
                text=text,
                channel=rng.choice(CHANNELS),
                kind=rng.choice(["public", "private"]),
                lang=rng.choice([lang, lang, ""]),
                followers=int(rng.paretovariate(1.2) * 50),
                known_customer=rng.random() < 0.5,
                out_of_hours=rng.random() < 0.3,
            )
        )
    return messages


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=bounded(int), default=200)
    parser.add_argument("--messages", type=bounded(int), default=10000)
    parser.add_argument("--repeat", type=bounded(int), default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rules = build_rules(args.rules, rng)
    messages = build_messages(args.messages, rng)
    lexicon = Lexicon.default()

    compile_ms, match_s, fired = [], [], 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        ruleset = RuleSet(rules, lexicon)
        compile_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        fired = sum(len(ruleset.match(facts)) for facts in messages)
        match_s.append(time.perf_counter() - start)

    best = min(match_s)
    rows = machine_rows(odoo=False) + [
        ("rules / messages", f"{len(rules)} / {len(messages)}"),
        ("runs", str(args.repeat)),
        ("compile (ms), best / median; no target", _pair(compile_ms, "{:.1f}")),
        ("match all (s), best / median", _pair(match_s, "{:.3f}")),
        (
            f"match all, best; target < {TARGET_SECONDS:g} s",
            f"{best:.3f} s ({verdict(best < TARGET_SECONDS)})",
        ),
        ("per message (µs), best", f"{best / len(messages) * 1e6:.1f}"),
        ("matches (rules fired)", f"{fired} ({fired / len(messages):.2f}/message)"),
    ]
    print_table("Rules", rows)


def _pair(values, pattern):
    return (
        f"{pattern.format(min(values))} / {pattern.format(statistics.median(values))}"
    )


if __name__ == "__main__":
    main()
