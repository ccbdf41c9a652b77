"""The web interface's languages: the six UN languages, their catalogs and locale formatting.

Every visible string goes through gettext. The web's messages live in one `.po` file per area
(`locale/<lang>/LC_MESSAGES/<area>.po`: `core` for the layout and sign-in, then one per group
of pages) so that areas can grow independently; at first use all of a language's files are
merged into one catalog, with the formal documents' catalog (kind titles, instrument names,
element labels from the law data) behind it. With `strict` (tests, and `COMITY_WEB_STRICT_I18N=1`)
a string with no translation raises `MissingTranslation` instead of falling back to English,
so a forgotten translation fails a page test.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_timedelta as babel_format_timedelta
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from comity.documents import catalogs as document_catalogs

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: str


# In the UN's order of the official languages (Arabic, Chinese, English, French, Russian,
# Spanish); each named in itself so that anyone can find their own.
LANGUAGES: dict[str, Language] = {
    "ar": Language("ar", "العربية", "rtl"),
    "zh": Language("zh", "中文", "ltr"),
    "en": Language("en", "English", "ltr"),
    "fr": Language("fr", "Français", "ltr"),
    "ru": Language("ru", "Русский", "ltr"),
    "es": Language("es", "Español", "ltr"),
}


class MissingTranslation(LookupError):
    """A string shown in a page has no translation in the page's language."""


def strict_default() -> bool:
    return os.environ.get("COMITY_WEB_STRICT_I18N", "") == "1"


def choose_language(*candidates: str | None, accept: str = "") -> str:
    """The first supported language among explicit choices, then the browser's
    Accept-Language, then English."""
    for candidate in candidates:
        if candidate and candidate in LANGUAGES:
            return candidate
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return SOURCE_LANGUAGE


def area_files(lang: str) -> list[Path]:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    return sorted(folder.glob("*.po")) if folder.is_dir() else []


def read_catalog(path: Path, lang: str) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=lang)


@cache
def merged_catalog(lang: str, area: str = "") -> Catalog:
    """A language's web areas in one catalog. With `area`, that area's file only: the same
    English words can mean different things in two areas ("From" a sender on the desk, "From"
    a date in statistics), so a page looks in its own area's file first."""
    merged = Catalog(locale=lang, domain="web")
    paths = area_files(lang)
    if area:
        paths = [path for path in paths if path.stem == area]
    for path in paths:
        for message in read_catalog(path, lang):
            if not message.id or message.fuzzy or not message.string:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                continue
            if message.id not in merged:
                merged[message.id] = message
    return merged


class WebTranslations(gettext.NullTranslations):
    """gettext for one language: the web catalog, then the documents' catalog; English is
    the source language and needs no catalog."""

    def __init__(self, lang: str, strict: bool, area: str = "") -> None:
        super().__init__()
        self.lang = lang
        self.strict = strict and lang != SOURCE_LANGUAGE
        self.own = _compiled(merged_catalog(lang, area)) if area else gettext.NullTranslations()
        self.web = _compiled(merged_catalog(lang))
        self.documents: gettext.NullTranslations = (
            document_catalogs.translations(lang)
            if document_catalogs.catalog_path(lang).exists()
            else gettext.NullTranslations()
        )

    def _has(self, translations: gettext.NullTranslations, key: object) -> bool:
        return key in getattr(translations, "_catalog", {})

    def gettext(self, message: str) -> str:
        if self.lang == SOURCE_LANGUAGE or not message:
            return message
        if self._has(self.own, message):
            return self.own.gettext(message)
        if self._has(self.web, message):
            return self.web.gettext(message)
        if self._has(self.documents, message):
            return self.documents.gettext(message)
        if self.strict:
            raise MissingTranslation(f"[{self.lang}] {message!r}")
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self.lang == SOURCE_LANGUAGE:
            return singular if n == 1 else plural
        for translations in (self.own, self.web, self.documents):
            if self._has(translations, (singular, 0)):
                return translations.ngettext(singular, plural, n)
        if self.strict:
            raise MissingTranslation(f"[{self.lang}] {singular!r} / {plural!r}")
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.ngettext(singular, plural, n)


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def translations(lang: str, strict: bool | None = None, area: str = "") -> WebTranslations:
    """gettext for `lang`; with `area`, that area's own translations come first."""
    if lang not in LANGUAGES:
        lang = SOURCE_LANGUAGE
    return WebTranslations(lang, strict_default() if strict is None else strict, area)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a deferred message
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Formatter:
    """Dates, times, numbers and durations in the reader's language and time zone."""

    lang: str
    time_zone: str = "UTC"

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def datetime(self, value: dt.datetime | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        return babel_format_datetime(
            value, format=style, tzinfo=zone(self.time_zone), locale=self.lang
        )

    def date(self, value: dt.date | dt.datetime | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, dt.datetime):
            value = value.astimezone(zone(self.time_zone)).date()
        return babel_format_date(value, format=style, locale=self.lang)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.lang)

    def percent(self, value: float | None) -> str:
        return "—" if value is None else format_percent(value, locale=self.lang)

    def duration(self, value: timedelta | float | None, add_direction: bool = False) -> str:
        if value is None:
            return "—"
        seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
        return babel_format_timedelta(
            timedelta(seconds=seconds),
            threshold=1.0,
            add_direction=add_direction,
            locale=self.lang,
        )


def all_languages() -> Iterator[Language]:
    return iter(LANGUAGES.values())
