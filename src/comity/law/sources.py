"""The primary texts shipped in `texts/` and the rules checked against them.

A rule may be `verified: true` only if its `source_text` appears verbatim (modulo whitespace
and Markdown emphasis) in one of these texts; `tests/law/test_sources.py` holds every rule to
that. `passage("budapest 29(2)(c)")` reads the cited article, paragraph and point out of the
text, so that a reviewer (and the test) can see what a citation points to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from comity.law.model import Cited, Law

TEXTS_DIR = Path(str(resources.files("comity.law") / "texts"))

_CITED_AS = re.compile(r"^Cited as: (?P<name>[a-z0-9-]+)\s*$", re.MULTILINE)
_SOURCE = re.compile(r"^Source: (?P<source>.+)$", re.MULTILINE)
_ARTICLE = re.compile(r"^## Article (?P<number>\d+)\b")
_PARAGRAPH = re.compile(r"^(?P<number>\d+)\.\s*(?P<text>.*)$")
_POINT = re.compile(r"^\s+\(?(?P<letter>[a-z]|[ivx]+)\)\s*(?P<text>.*)$")
_CITATION = re.compile(
    r"^(?P<name>[a-z0-9-]+) (?P<article>\d+)(?:\((?P<paragraph>\d+)\))?(?:\((?P<point>[a-z]+)\))?"
)


def normalise(text: str) -> str:
    """Text compared for verbatim matching: Markdown emphasis dropped, whitespace collapsed."""
    return " ".join(text.replace("*", "").split())


@dataclass(frozen=True, slots=True)
class PrimaryText:
    """One shipped text: the name citations use for it, where it was copied from, its body."""

    cited_as: str
    file: str
    source: str
    body: str

    @property
    def articles(self) -> dict[str, dict[str, str]]:
        """Article number -> {"": whole article, "2": paragraph 2, "2(c)": its point c}."""
        return _articles(self.body)


def _articles(body: str) -> dict[str, dict[str, str]]:
    articles: dict[str, dict[str, list[str]]] = {}
    units: dict[str, list[str]] = {}
    paragraph = ""
    for line in body.splitlines():
        heading = _ARTICLE.match(line)
        if heading:
            units = {"": []}
            articles[heading["number"]] = units
            paragraph = ""
            continue
        if not units or not line.strip() or line.startswith("#"):
            continue
        numbered = _PARAGRAPH.match(line)
        point = _POINT.match(line)
        keys = [""]
        if numbered:
            paragraph = numbered["number"]
            keys.append(paragraph)
        elif point and paragraph:
            keys += [paragraph, f"{paragraph}({point['letter']})"]
        elif paragraph:
            keys.append(paragraph)
        elif point:  # an article of points only (untoc 2(b))
            keys.append(f"({point['letter']})")
        for key in keys:
            units.setdefault(key, []).append(line.strip())
    return {
        number: {key: " ".join(lines) for key, lines in parts.items()}
        for number, parts in articles.items()
    }


@lru_cache(maxsize=1)
def primary_texts() -> dict[str, PrimaryText]:
    """The shipped texts by the name citations use (`budapest`, `untoc`, `eu-eevidence`)."""
    texts: dict[str, PrimaryText] = {}
    for path in sorted(TEXTS_DIR.glob("*.txt")):
        body = path.read_text(encoding="utf-8")
        cited_as, source = _CITED_AS.search(body), _SOURCE.search(body)
        if cited_as is None or source is None:
            raise ValueError(f"{path.name}: a primary text needs 'Source:' and 'Cited as:' lines")
        texts[cited_as["name"]] = PrimaryText(
            cited_as["name"], path.name, source["source"].strip(), body
        )
    return texts


def passage(citation: str) -> str | None:
    """The text a citation points to (its first part, e.g. `budapest 29(2)(c)`), or None when
    the cited text, article, paragraph or point is not in the repository."""
    cited = _CITATION.match(citation.strip())
    if cited is None:
        return None
    text = primary_texts().get(cited["name"])
    article = text.articles.get(cited["article"]) if text else None
    if article is None:
        return None
    key = cited["paragraph"] or ""
    if cited["point"]:
        key = f"{key}({cited['point']})"
    return article.get(key)


def appears_verbatim(quote: str) -> bool:
    """Whether `quote` appears, modulo whitespace and emphasis, in a shipped primary text."""
    wanted = normalise(quote)
    return bool(wanted) and any(wanted in normalise(t.body) for t in primary_texts().values())


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule of the data with where it sits (`budapest: kinds.preservation.route`)."""

    where: str
    rule: Cited


def _walk(value: object, where: str) -> Iterator[RuleRef]:
    if isinstance(value, Cited):
        yield RuleRef(where, value)
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            label = getattr(item, "field", None) or getattr(item, "ground", None)
            label = label or getattr(item, "code", None) or str(index)
            yield from _walk(item, f"{where}[{label}]")


def rules(law: Law) -> list[RuleRef]:
    """Every cited rule of the law data, once per place it appears (a YAML anchor reused by
    several kinds appears under each)."""
    return list(_walk(law, ""))


def unverified(law: Law) -> list[RuleRef]:
    """The rules still `verified: false`: what a legal reviewer has left to check."""
    return [ref for ref in rules(law) if not ref.rule.verified]


#: Where the list of unverified rules stands in the legal reviewer's guide.
UNVERIFIED_START = "<!-- unverified rules: generated by `python -m comity.law.sources` -->"
UNVERIFIED_END = "<!-- end of unverified rules -->"


def unverified_table(law: Law) -> str:
    """The unverified rules as a Markdown table, one row per citation: the instrument file it
    sits in, the citation, and how many places of the data use it (a list of elements shared by
    several kinds counts once per kind). What `docs/guide-law-review.md` shows."""
    places: dict[tuple[str, str], int] = {}
    for ref in unverified(law):
        parts = ref.where.split(".")
        source = parts[1] if parts[0] == "instruments" and len(parts) > 1 else parts[0]
        key = (source, ref.rule.citation)
        places[key] = places.get(key, 0) + 1
    lines = [
        f"{len(places)} citations in {sum(places.values())} places of the data are unverified.",
        "",
        "| data | citation | places |",
        "|---|---|---|",
    ]
    lines += [f"| {src} | {cite} | {n} |" for (src, cite), n in sorted(places.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    from comity.law.loader import get_law

    print(UNVERIFIED_START)
    print(unverified_table(get_law()))
    print(UNVERIFIED_END)
