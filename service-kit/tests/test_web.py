"""service_kit.web: the page policy, the catalogues compiled from .po files, the
person's language."""

from __future__ import annotations

from pathlib import Path

from babel.support import Translations
from flask import Flask

from service_kit.web import chosen_language, compile_catalogues, page_csp


def test_the_page_policy_allows_only_the_apps_own_code_and_named_form_targets() -> None:
    policy = page_csp(form_targets=["https://id.garage.example"])
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe" not in policy
    assert "form-action 'self' https://id.garage.example;" in policy
    assert "frame-ancestors 'none'" in policy


def test_every_po_file_of_a_language_lands_in_one_catalogue(tmp_path: Path) -> None:
    source = tmp_path / "translations" / "nl"
    source.mkdir(parents=True)
    (source / "frontdesk.po").write_text('msgid "Today"\nmsgstr "Vandaag"\n', encoding="utf-8")
    (source / "accounts.po").write_text(
        'msgid "Invoices"\nmsgstr "Facturen"\n\nmsgid "Untranslated"\nmsgstr ""\n', encoding="utf-8"
    )
    compiled = compile_catalogues(tmp_path / "translations", tmp_path / "compiled")
    catalogue = Translations.load(str(compiled), ["nl"])
    assert catalogue.gettext("Today") == "Vandaag"
    assert catalogue.gettext("Invoices") == "Facturen"
    assert catalogue.gettext("Untranslated") == "Untranslated"  # falls back to the English


def test_a_chosen_language_wins_over_the_browsers() -> None:
    app = Flask(__name__)
    with app.test_request_context(headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}):
        assert chosen_language(None) == "nl"
        assert chosen_language("en") == "en"
        assert chosen_language("fr") == "nl"  # not offered: the browser's choice
    with app.test_request_context(headers={"Accept-Language": "de-DE"}):
        assert chosen_language(None) == "en"
