"""Keeps the web catalogs complete: extracts every message of the web's templates and Python
files, adds new ones to each language's area file, and lists those with no translation.

    python -m comity.web.messages update [AREA ...]  # add new messages (empty) to the .po files
    python -m comity.web.messages check    # list messages without translation; exit 1 if any
    python -m comity.web.messages fill AREA FILE.yaml   # {message: {lang: translation}}

An area is the first folder under `templates/` (top-level templates are `core`) or the module
name under `pages/` (`auth` is `core`). The test suite runs `check`.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import write_po

from comity.web import i18n

WEB = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2)}
CORE_MODULES = {"auth", "app", "core", "i18n", "messages", "__init__"}

Message = str | tuple[str, str]


def area_of(path: Path) -> str:
    relative = path.relative_to(WEB)
    if relative.parts[0] == "templates":
        return relative.parts[1] if len(relative.parts) > 2 else "core"
    if relative.parts[0] == "pages" and path.stem not in CORE_MODULES:
        return path.stem
    return "core"


def source_files() -> list[Path]:
    files = sorted((WEB / "templates").rglob("*.html"))
    files += sorted(p for p in WEB.rglob("*.py") if "locale" not in p.parts)
    return files


def extract_messages() -> dict[str, dict[Message, list[str]]]:
    """area → message id (or singular, plural) → where it is used."""
    found: dict[str, dict[Message, list[str]]] = defaultdict(dict)
    for path in source_files():
        method = "jinja2.ext.babel_extract" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
        with path.open("rb") as source:
            for lineno, message, _comments, _context in extract(
                method, source, keywords=KEYWORDS, options=options
            ):
                key: Message = message if isinstance(message, str) else (message[0], message[1])
                if not key:
                    continue
                where = f"{path.relative_to(WEB)}:{lineno}"
                found[area_of(path)].setdefault(key, []).append(where)
    return found


def catalog_file(lang: str, area: str) -> Path:
    return i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{area}.po"


def update(areas: list[str] | None = None) -> int:
    """Add every extracted message missing from its area file (of `areas` only, if given);
    keeps existing translations."""
    added = 0
    for area, messages in extract_messages().items():
        if areas and area not in areas:
            continue
        for lang in i18n.LANGUAGES:
            if lang == i18n.SOURCE_LANGUAGE:
                continue
            path = catalog_file(lang, area)
            catalog = i18n.read_catalog(path, lang) if path.exists() else Catalog(locale=lang)
            catalog.domain = "web"
            catalog.project = "comity"
            for key, places in messages.items():
                if key in catalog:
                    continue
                string: str | tuple[str, ...] = (
                    "" if isinstance(key, str) else tuple("" for _ in range(catalog.num_plurals))
                )
                catalog.add(
                    key, string, locations=[(p.split(":")[0], int(p.split(":")[1])) for p in places]
                )
                added += 1
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as out:
                write_po(
                    out, catalog, width=100, omit_header=False, sort_output=True, no_location=True
                )
    return added


def missing() -> list[tuple[str, str, str]]:
    """(language, area, message) for every message used by the web with no translation in its
    language (neither in the web catalogs nor in the documents' catalog)."""
    result: list[tuple[str, str, str]] = []
    for area, messages in sorted(extract_messages().items()):
        for lang in i18n.LANGUAGES:
            if lang == i18n.SOURCE_LANGUAGE:
                continue
            translations = i18n.WebTranslations(lang, strict=True, area=area)
            for key in messages:
                try:
                    if isinstance(key, str):
                        translations.gettext(key)
                    else:
                        translations.ngettext(key[0], key[1], 2)
                except i18n.MissingTranslation:
                    result.append((lang, area, key if isinstance(key, str) else key[0]))
    return result


def fill(area: str, translations_file: Path) -> int:
    """Write translations given as YAML (`message: {ar: ..., zh: ..., ...}`; a plural message
    is keyed by its singular and gives a list per language) into the area's files."""
    import yaml

    given = yaml.safe_load(translations_file.read_text(encoding="utf-8")) or {}
    written = 0
    for lang in i18n.LANGUAGES:
        if lang == i18n.SOURCE_LANGUAGE:
            continue
        path = catalog_file(lang, area)
        if not path.exists():
            continue
        catalog = i18n.read_catalog(path, lang)
        for message in catalog:
            if not message.id:
                continue
            singular = message.id if isinstance(message.id, str) else message.id[0]
            entry = given.get(singular, {}).get(lang)
            if not entry:
                continue
            message.string = tuple(entry) if isinstance(entry, list) else entry
            message.flags.discard("fuzzy")
            written += 1
        with path.open("wb") as out:
            write_po(out, catalog, width=100, sort_output=True, no_location=True)
    return written


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        print(f"added {update(argv[1:] or None)} message entries")
        return 0
    if command == "check":
        gaps = missing()
        for lang, area, message in gaps:
            print(f"{lang}\t{area}\t{message}")
        print(f"{len(gaps)} missing translations", file=sys.stderr)
        return 1 if gaps else 0
    if command == "fill" and len(argv) == 3:
        print(f"wrote {fill(argv[1], Path(argv[2]))} translations")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
