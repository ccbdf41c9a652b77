"""A full-page screenshot of every main page in each of the six UN languages, in
artifacts/screenshots/<lang>/<page>.png; a page with a string left untranslated fails."""

from __future__ import annotations

import pytest

from tests.web.browser.conftest import LANGS, Browsers, screenshot

pytestmark = pytest.mark.slow

RTL = {"ar"}


@pytest.mark.parametrize("lang", LANGS)
def test_every_main_page_in_each_language(browsers: Browsers, lang: str) -> None:
    anonymous = browsers.new_page("XA", lang)
    try:
        response = anonymous.goto("/login")
        assert response.status == 200
        html = anonymous.page.locator("html")
        assert html.get_attribute("lang") == lang
        assert html.get_attribute("dir") == ("rtl" if lang in RTL else "ltr")
        screenshot(anonymous, lang, "sign-in")
    finally:
        anonymous.context.close()

    session = browsers.sign_in("XA", "xa-screens", lang)
    for name, path in (("preferences", "/preferences"), ("directory", "/directory")):
        response = session.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        assert session.page.locator("html").get_attribute("lang") == lang
        assert session.page.locator("h1").count() == 1, f"{path}: one <h1>"
        screenshot(session, lang, name)
