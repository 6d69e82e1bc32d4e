"""Every user-facing string is translated in every locale, and the .po files match the code."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, build_i18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "__": None, "N_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
LOCALES = ("en", "ru")
PLACEHOLDER_RE = re.compile(r"\{[a-z_0-9]*\}")


def _code_msgids() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(locale: str):
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    return read_po(BytesIO(path.read_bytes()), locale=locale)


@pytest.fixture(scope="module")
def code_msgids() -> set[str]:
    msgids = _code_msgids()
    assert len(msgids) > 20, "extraction found almost nothing: keywords or paths are wrong"
    return msgids


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_translated(locale: str, code_msgids: set[str]) -> None:
    catalog = _catalog(locale)
    untranslated = sorted(
        msgid for msgid in code_msgids if not (catalog.get(msgid) and catalog.get(msgid).string)
    )
    assert not untranslated, (
        f"{locale}: missing translations (run `make translations-update`): {untranslated}"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_po_has_no_strings_the_code_no_longer_uses(locale: str, code_msgids: set[str]) -> None:
    catalog = _catalog(locale)
    stale = sorted(
        m.id for m in catalog if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in code_msgids
    )
    assert not stale, f"{locale}: .po is out of date with the code: {stale}"
    assert not [m.id for m in catalog if m.id and m.fuzzy], f"{locale}: fuzzy entries need review"


def test_russian_is_not_english_left_in_place() -> None:
    words = re.compile(r"[A-Za-z]{3,}")
    for message in _catalog("ru"):
        if message.id and message.string == message.id:
            prose = re.sub(r"<[^>]*>|\{[^}]*\}|/[a-z]+", "", str(message.id))
            assert not words.search(prose), f"ru: not translated: {message.id!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_markup(locale: str) -> None:
    for message in _catalog(locale):
        if not message.id or not message.string:
            continue
        source, target = str(message.id), str(message.string)
        assert sorted(PLACEHOLDER_RE.findall(source)) == sorted(PLACEHOLDER_RE.findall(target)), source
        assert sorted(re.findall(r"</?[a-z]+>", source)) == sorted(re.findall(r"</?[a-z]+>", target)), source


def test_compiled_catalogs_load_and_differ() -> None:
    i18n = build_i18n("en")
    assert set(LOCALES) <= set(i18n.available_locales)
    assert i18n.gettext("Main menu", locale="ru") == "Главное меню"
    assert i18n.gettext("Main menu", locale="en") == "Main menu"
