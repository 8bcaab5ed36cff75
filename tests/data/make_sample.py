"""Write the synthetic CoNLL-format sample the fast tests use: ``tests/data/conll-sample/{train,test}.txt.gz``.

The sentences are made here, by a small seeded grammar of English-like financial news
(the register of CoNLL-2000), not copied from CoNLL-2000: each line is ``word POS chunk``
with Penn Treebank POS tags and CoNLL-2000's BIO chunk tags, a blank line between
sentences. What the grammar covers, so that taggers and probes have something to learn:

* noun phrases: determiners, possessive pronouns, adjectives (comparative, superlative),
  noun compounds, coordinated nouns, singular and plural nouns; names of capitalised
  words made up from syllables (so most names in the test split are unseen in training);
  pronouns; possessives, where ``'s`` starts the next NP as in CoNLL-2000; amounts such as
  ``$ 3.5 million``, ``about 12 %`` and years;
* verb groups agreeing with their subject (past, present, modal, negated, perfect,
  progressive, passive, ``to``-infinitives), with particles (PRT);
* prepositional phrases (PP), predicative adjective phrases (ADJP), adverbs (ADVP),
  complementiser and subordinate clauses (SBAR), relative clauses, clause coordination,
  quotations and punctuation (O);
* words drawn with Zipf-like frequencies from lists of a few hundred real English
  words, so that, as in CoNLL-2000, the test split has words unseen in training, and
  many words are both nouns and verbs (``cut``, ``report``, ``offer``; ``that`` is DT,
  IN or WDT): a word lookup is not the whole answer;
* one of CoNLL-2000's own inconsistencies: an adverb before the verb is sometimes its
  own ADVP chunk and sometimes inside the VP, so no tagger is perfect on it.

Run it from the repository root to (re)write the files; it is deterministic (seeded
``random.Random``, gzip without a timestamp), and a test checks that it reproduces the
committed files' text::

    .venv/bin/python tests/data/make_sample.py
"""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "conll-sample"

#: sentences per split and the seed that generates each split.
SPLITS = {"train": (400, 2000), "test": (120, 2001)}

Token = tuple[str, str]  # (word, POS)
Chunk = tuple[str | None, list[Token]]  # (chunk type, or None for O, and its tokens)

# Word lists, most frequent first (drawn with weight 1 / rank).
NOUNS = """company market price share report bank deal plan rate profit loan board stock fund analyst investor
executive official unit contract sale cost firm group bond order business industry government president director
product customer offer increase loss issue debt revenue value level tax system program interest court agency office
project network service account budget charge credit dollar economy effort estimate expense holder income
inventory lawyer leader margin member merger payment period plant policy position producer proposal reserve result
risk spokesman stake standard statement strategy supplier trader trend vehicle venture worker airline automaker bid
buyer chain client computer consumer dealer decision demand department division dividend drug employee engine
exchange fee figure flight forecast insurer lender magazine manager mill mine newspaper operator owner
package pension portfolio premium publisher railroad refinery regulator retailer steelmaker subsidiary tanker
turbine utility vineyard warehouse""".split()
ADJECTIVES = """new big small strong weak major recent financial federal high low other annual foreign local early
large public national international economic total current private domestic chief senior similar key modest
troubled profitable quarterly commercial industrial corporate previous regional strategic volatile""".split()
COMPARATIVES = ["higher", "lower", "stronger", "weaker", "bigger", "smaller"]
SUPERLATIVES = ["largest", "biggest", "highest", "lowest", "latest"]
PREDICATIVE = [
    "weak",
    "strong",
    "high",
    "low",
    "unchanged",
    "profitable",
    "likely",
    "difficult",
    "cautious",
    "optimistic",
]
PREPOSITIONS = ["in", "on", "for", "at", "with", "from", "about", "after", "under", "by", "into", "over", "against"]
INTRO_ADVERBS = ["Meanwhile", "However", "Separately", "Still", "Now", "Moreover"]
VP_ADVERBS = ["also", "still", "already", "recently", "only", "currently", "previously"]
MANNER_ADVERBS = ["sharply", "slightly", "quickly", "steadily", "modestly"]
MODALS = ["will", "would", "could", "may", "might", "should", "can"]
SUBORDINATORS = ["because", "while", "although", "since", "if", "after", "before"]
TIME_NOUNS = ["year", "quarter", "month", "week"]
MONTHS = ["January", "March", "April", "June", "July", "September", "October", "December"]
NAME_SYLLABLES = "bar ven tor ka li mo ran del sa quin ro fel ga nor te vis ha lan pe dri cor ma no sel".split()
COMPANY_SUFFIXES = ["Corp.", "Inc.", "Co.", "Group", "Industries", "Holdings"]

TRANSITIVE = """buy sell raise cut make take hold report acquire approve announce offer build sign reduce win lose spend
boost complete expand launch control manage own produce receive require increase lower post issue hire close
seek bring keep find""".split()
SAYING = ["say", "expect", "believe", "think", "note", "argue", "estimate", "predict"]
MOVING = ["rise", "fall", "climb", "drop", "gain", "decline", "slip", "jump", "surge", "ease"]
#: verbs with a particle (B-PRT); the particle is also a preposition, and some of these verbs take a PP
#: ("ran up the bill" or "ran up the hill"): which one a sentence has is not visible in its words.
WITH_PARTICLE = [("set", "up"), ("pay", "off"), ("give", "up"), ("shut", "down"), ("take", "over"), ("run", "up")]
WITH_PARTICLE += [("turn", "down"), ("look", "over")]
CONTROL = ["agree", "plan", "want", "decide", "hope", "try", "continue", "fail", "refuse", "need"]

#: past tense and past participle of the irregular verbs used here.
IRREGULAR = {
    "buy": ("bought", "bought"),
    "sell": ("sold", "sold"),
    "cut": ("cut", "cut"),
    "make": ("made", "made"),
    "take": ("took", "taken"),
    "hold": ("held", "held"),
    "build": ("built", "built"),
    "win": ("won", "won"),
    "lose": ("lost", "lost"),
    "spend": ("spent", "spent"),
    "seek": ("sought", "sought"),
    "bring": ("brought", "brought"),
    "keep": ("kept", "kept"),
    "find": ("found", "found"),
    "say": ("said", "said"),
    "think": ("thought", "thought"),
    "rise": ("rose", "risen"),
    "fall": ("fell", "fallen"),
    "set": ("set", "set"),
    "pay": ("paid", "paid"),
    "give": ("gave", "given"),
    "shut": ("shut", "shut"),
    "run": ("ran", "run"),
}
#: verbs that double their last consonant before -ed and -ing.
DOUBLING = {"cut", "drop", "plan", "slip", "win", "set", "shut", "control", "run"}


def plural(noun: str) -> str:
    if noun.endswith("man"):
        return noun[:-3] + "men"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def forms(verb: str) -> dict[str, str]:
    """The Penn-tagged forms of a verb: VB (also VBP), VBZ, VBD, VBN, VBG."""
    third = plural(verb) if not verb.endswith("o") else verb + "es"
    stem = verb + verb[-1] if verb in DOUBLING else verb
    if verb.endswith("ee"):
        past, gerund = verb + "d", verb + "ing"
    elif verb.endswith("e"):
        past, gerund = verb + "d", verb[:-1] + "ing"
    elif verb.endswith("y") and verb[-2] not in "aeiou":
        past, gerund = verb[:-1] + "ied", verb + "ing"
    else:
        past, gerund = stem + "ed", stem + "ing"
    vbd, vbn = IRREGULAR.get(verb, (past, past))
    return {"VB": verb, "VBZ": third, "VBD": vbd, "VBN": vbn, "VBG": gerund}


class Grammar:
    """One split's sentence generator; every choice comes from its own seeded ``random.Random``."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def pick(self, items):  # type: ignore[no-untyped-def]
        return self.r.choice(items)

    def zipf(self, items: list[str]) -> str:
        return self.r.choices(items, weights=[1 / (rank + 1) for rank in range(len(items))])[0]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    # Noun phrases

    def noun(self, number: str) -> Token:
        word = self.zipf(NOUNS)
        return (word, "NN") if number == "sg" else (plural(word), "NNS")

    def name(self) -> list[Token]:
        def word() -> str:
            return "".join(self.pick(NAME_SYLLABLES) for _ in range(self.r.randint(2, 3))).capitalize()

        if self.chance(0.4):
            first = (self.pick(["Mr.", "Ms."]), "NNP") if self.chance(0.6) else (word(), "NNP")
            return [first, (word(), "NNP")]
        return [(word(), "NNP"), (self.pick(COMPANY_SUFFIXES), "NNP")]

    def amount(self) -> list[Chunk]:
        """An amount's NP; "about" or "nearly" before it is, as in CoNLL-2000, sometimes inside the NP and
        sometimes an ADVP of its own."""
        about = [(self.pick(["about", "nearly", "almost"]), "RB")] if self.chance(0.25) else []
        if self.chance(0.5):
            number = self.pick([f"{self.r.randint(1, 99)}", f"{self.r.randint(1, 20)}.{self.r.randint(1, 9)}"])
            tokens = [(number, "CD"), ("%", "NN")]
        else:
            number = self.pick([f"{self.r.randint(2, 900)}", f"{self.r.randint(1, 9)}.{self.r.randint(1, 9)}"])
            tokens = [("$", "$"), (number, "CD"), (self.pick(["million", "billion"]), "CD")]
        if about and self.chance(0.4):
            return [("ADVP", about), ("NP", tokens)]
        return [("NP", [*about, *tokens])]

    def simple_np(self, number: str, determiner: bool = True) -> list[Token]:
        """[determiner] [adjective] [noun] noun [and noun]; after a possessive (``determiner=False``) no determiner."""
        if not determiner:
            det = ""
        elif number == "sg":
            det = self.pick(["the", "the", "the", "a", "this", "that", "each", "its", "their", "his"])
        else:
            det = self.pick(["the", "the", "these", "some", "many", "its", "their", "", ""])
        tokens: list[Token] = []
        if det:
            tokens.append((det, "PRP$" if det in ("its", "their", "his") else ("JJ" if det == "many" else "DT")))
        if self.chance(0.45):
            roll = self.r.random()
            if roll < 0.1:
                tokens.append((self.pick(COMPARATIVES), "JJR"))
            elif roll < 0.2 and det in ("the", "its", "their"):
                tokens.append((self.pick(SUPERLATIVES), "JJS"))
            else:
                tokens.append((self.zipf(ADJECTIVES), "JJ"))
        if self.chance(0.2):
            tokens.append(self.noun("sg"))  # noun compound: "the bank loans"
        tokens.append(self.noun(number))
        if number == "pl" and self.chance(0.08):  # "stocks and bonds" is one NP
            tokens += [("and", "CC"), self.noun("pl")]
        if determiner and det == "" and number == "pl" and self.chance(0.5):
            tokens.insert(0, (self.pick(["two", "three", "five", f"{self.r.randint(10, 500)}"]), "CD"))
        return tokens

    def noun_phrase(self, depth: int = 0, subject: bool = False) -> tuple[list[Chunk], str]:
        """The chunks of a noun phrase (maybe with an of-PP or a relative clause) and its grammatical number."""
        roll = self.r.random()
        if subject and roll < 0.15:
            word, number = self.pick([("he", "sg"), ("she", "sg"), ("it", "sg"), ("they", "pl"), ("we", "pl")])
            return [("NP", [(word, "PRP")])], number
        if roll < 0.32:
            chunks: list[Chunk] = [("NP", self.name())]
            if self.chance(0.3):  # "Acme Corp. 's new unit": the possessive starts the next NP
                number = self.pick(["sg", "pl"])
                chunks.append(("NP", [("'s", "POS"), *self.simple_np(number, determiner=False)]))
                return chunks, number
            return chunks, "sg"
        if not subject and roll < 0.42:
            return self.amount(), "pl"
        number = "sg" if self.chance(0.55) else "pl"
        chunks = [("NP", self.simple_np(number))]
        if depth == 0 and self.chance(0.3):  # "the price of the shares"
            inner, _ = self.noun_phrase(depth + 1)
            chunks += [("PP", [("of", "IN")]), *inner]
        elif depth == 0 and self.chance(0.1):  # ", which raised prices ," or "that raised prices"
            obj, _ = self.noun_phrase(depth + 1)
            rel = self.pick(["which", "that"])
            comma = [(None, [(",", ",")])] if rel == "which" else []
            chunks += [*comma, ("NP", [(rel, "WDT")]), ("VP", [(forms(self.zipf(TRANSITIVE))["VBD"], "VBD")]), *obj]
            chunks += comma
        return chunks, number

    def prep_phrase(self) -> list[Chunk]:
        if self.chance(0.25):
            when = self.pick(
                [
                    [("in", "IN"), (self.pick(MONTHS), "NNP")],
                    [("in", "IN"), (f"{self.r.randint(1985, 1995)}", "CD")],
                    [("last", "JJ"), (self.pick(TIME_NOUNS), "NN")],
                    [("this", "DT"), (self.pick(TIME_NOUNS), "NN")],
                ]
            )
            if when[0][1] != "IN":
                return [("NP", when)]
            return [("PP", when[:1]), ("NP", when[1:])]
        obj, _ = self.noun_phrase(1)
        return [("PP", [(self.pick(PREPOSITIONS), "IN")]), *obj]

    # Verb groups

    def verb_group(self, verb: str, number: str, passive: bool = False) -> list[Chunk]:
        """The VP chunk of ``verb`` agreeing with a subject of ``number``; an adverb before it is, as in
        CoNLL-2000, sometimes an ADVP chunk of its own and sometimes inside the VP."""
        f = forms(verb)
        present = ("is", "VBZ") if number == "sg" else ("are", "VBP")
        past_be = ("was", "VBD") if number == "sg" else ("were", "VBD")
        adverb = [(self.zipf(VP_ADVERBS), "RB")] if self.chance(0.25) else []
        lead: list[Chunk] = []
        if adverb and not passive and self.chance(0.5):
            lead, adverb = [("ADVP", adverb)], []
        roll = self.r.random()
        if passive:
            group = [self.pick([present, past_be, past_be]), *adverb, (f["VBN"], "VBN")]
        elif roll < 0.4:
            group = [*adverb, (f["VBD"], "VBD")]
        elif roll < 0.55:
            group = [*adverb, (f["VBZ"], "VBZ") if number == "sg" else (f["VB"], "VBP")]
        elif roll < 0.72:
            neg = [("not", "RB")] if self.chance(0.2) else adverb
            group = [(self.pick(MODALS), "MD"), *neg, (f["VB"], "VB")]
        elif roll < 0.8:
            does = self.pick([("did", "VBD"), ("does", "VBZ") if number == "sg" else ("do", "VBP")])
            group = [does, (self.pick(["n't", "not"]), "RB"), (f["VB"], "VB")]
        elif roll < 0.9:
            have = ("has", "VBZ") if number == "sg" else ("have", "VBP")
            group = [self.pick([have, ("had", "VBD")]), *adverb, (f["VBN"], "VBN")]
        else:
            group = [self.pick([present, past_be]), (f["VBG"], "VBG")]
        return [*lead, ("VP", group)]

    # Clauses

    def clause(self, depth: int = 0) -> list[Chunk]:
        subject, number = self.noun_phrase(subject=True)
        kind = self.r.random()
        chunks = list(subject)
        if kind < 0.3:  # transitive, maybe with a PP or two
            obj, _ = self.noun_phrase()
            chunks += [*self.verb_group(self.zipf(TRANSITIVE), number), *obj]
            for _ in range(2):
                if self.chance(0.4):
                    chunks += self.prep_phrase()
        elif kind < 0.42 and depth < 1:  # saying that ...
            chunks += self.verb_group(self.zipf(SAYING), number)
            if self.chance(0.7):
                chunks.append(("SBAR", [("that", "IN")]))
            chunks += self.clause(depth + 1)
        elif kind < 0.55:  # prices rose 5 % to $ 3 million
            chunks += self.verb_group(self.zipf(MOVING), number)
            if self.chance(0.3):
                chunks.append(("ADVP", [(self.pick(MANNER_ADVERBS), "RB")]))
            chunks += self.amount()
            if self.chance(0.5):
                chunks += [("PP", [("to", "TO")]), *self.amount()]
            if self.chance(0.3):
                chunks += [("PP", [("from", "IN")]), *self.amount()]
        elif kind < 0.65:  # the market was very weak
            tense = self.pick(["present", "past"])
            be = {("sg", "present"): "is", ("pl", "present"): "are", ("sg", "past"): "was", ("pl", "past"): "were"}
            tag = "VBD" if tense == "past" else ("VBZ" if number == "sg" else "VBP")
            very = [(self.pick(["very", "relatively", "too"]), "RB")] if self.chance(0.3) else []
            chunks += [("VP", [(be[(number, tense)], tag)]), ("ADJP", [*very, (self.pick(PREDICATIVE), "JJ")])]
            if self.chance(0.3):
                chunks += self.prep_phrase()
        elif kind < 0.73:  # they set up a unit; they ran up the hill
            verb, particle = self.pick(WITH_PARTICLE)
            obj, _ = self.noun_phrase()
            after: Chunk = ("PRT", [(particle, "RP")]) if self.chance(0.65) else ("PP", [(particle, "IN")])
            chunks += [*self.verb_group(verb, number), after, *obj]
        elif kind < 0.83:  # the unit was acquired by Acme Corp.
            chunks += self.verb_group(self.zipf(TRANSITIVE), number, passive=True)
            if self.chance(0.6):
                agent, _ = self.noun_phrase(1)
                chunks += [("PP", [("by", "IN")]), *agent]
            else:
                chunks += self.prep_phrase()
        else:  # the board agreed to buy the shares: one VP chunk
            *before, (_, group) = self.verb_group(self.zipf(CONTROL), number)
            obj, _ = self.noun_phrase()
            chunks += [*before, ("VP", [*group, ("to", "TO"), (self.zipf(TRANSITIVE), "VB")]), *obj]
        if depth == 0 and self.chance(0.15):
            chunks += [("SBAR", [(self.pick(SUBORDINATORS), "IN")]), *self.clause(depth + 1)]
        return chunks

    def sentence(self) -> list[Chunk]:
        roll = self.r.random()
        if roll < 0.1:  # `` We will cut costs , '' Mr. Smith said .
            speaker, _ = self.noun_phrase(1, subject=True)
            said: Chunk = ("VP", [self.pick([("said", "VBD"), ("said", "VBD"), ("says", "VBZ")])])
            tail = [*speaker, said] if self.chance(0.5) else [said, *speaker]
            chunks = [(None, [("``", "``")]), *self.clause(1), (None, [(",", ","), ("''", "''")]), *tail]
        else:
            chunks = []
            if roll < 0.2:
                chunks += [("ADVP", [(self.pick(INTRO_ADVERBS), "RB")]), (None, [(",", ",")])]
            chunks += self.clause()
            if self.chance(0.12):
                chunks += [(None, [(",", ","), (self.pick(["and", "but"]), "CC")]), *self.clause(1)]
        return [*chunks, (None, [(".", ".")])]


def bio(chunks: list[Chunk]) -> list[tuple[str, str, str]]:
    """The sentence as (word, POS, chunk tag) rows: B- on a chunk's first token, I- on the rest, O outside;
    the first word capitalised."""
    rows = []
    for kind, tokens in chunks:
        for i, (word, pos) in enumerate(tokens):
            rows.append((word, pos, "O" if kind is None else f"{'B' if i == 0 else 'I'}-{kind}"))
    word, pos, tag = rows[0]
    rows[0] = (word[:1].upper() + word[1:], pos, tag)
    return rows


def make_split(n_sentences: int, seed: int) -> bytes:
    """The text of one split: ``n_sentences`` sentences, each followed by a blank line."""
    g = Grammar(seed)
    lines = []
    for _ in range(n_sentences):
        lines += [" ".join(row) for row in bio(g.sentence())]
        lines.append("")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write(out: Path = OUT) -> dict[str, Path]:
    """Write ``train.txt.gz`` and ``test.txt.gz`` into ``out``; gzip without a timestamp, so reruns are identical."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, (n, seed) in SPLITS.items():
        paths[split] = out / f"{split}.txt.gz"
        paths[split].write_bytes(gzip.compress(make_split(n, seed), mtime=0))
    return paths


if __name__ == "__main__":
    for split, path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT).items():
        print(f"{split}: {path}")
