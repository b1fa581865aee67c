"""The structure editor glue (/static/editor.js over the vendored JSME) in Chromium, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from tests.browser import console_errors, offsite_requests
from tests.support import running, wait_for

STATIC = Path(__file__).resolve().parents[2] / "ews" / "static"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>editor</title><link rel="icon" href="/static/favicon.svg"></head>
<body><main><div id="editor" data-target="molfile" aria-label="Structure editor"></div>
<label for="molfile">Molfile</label><textarea id="molfile" name="molfile">{prefill}</textarea>
<script src="/static/editor.js"></script></main></body></html>"""


def editor_app(prefill: str = "") -> FastAPI:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def page():
        return PAGE.format(prefill=prefill)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def test_drawn_structure_lands_in_the_textarea_as_a_molfile(browser):
    from selenium.webdriver.common.by import By

    if not (STATIC / "vendor" / "jsme" / "jsme.nocache.js").exists():
        pytest.fail("JSME is missing: run `make assets`")
    with running(editor_app()) as base:
        browser.get(base + "/")
        wait_for(lambda: browser.find_element(By.ID, "editor").get_attribute("data-ready") == "true")
        # what a person's drawing does, through the editor's own API: a structure, then the change callback
        # (JSME may load the SMILES reader as a deferred code fragment, so the structure can arrive later)
        browser.execute_script(
            "document.getElementById('editor').ewsEditor.readGenericMolecularInput('CC(=O)Oc1ccccc1C(=O)O');"
        )
        molfile = wait_for(
            lambda: browser.execute_script(
                "const e = document.getElementById('editor'); e.ewsWrite();"
                "const v = document.getElementById('molfile').value;"
                "return v && parseInt(v.split('\\n')[3].slice(0, 3)) > 0 ? v : null;"
            )
        )
        assert "V2000" in molfile
        counts = molfile.splitlines()[3]
        assert (int(counts[:3]), int(counts[3:6])) == (13, 13)  # aspirin: 13 heavy atoms, 13 bonds
        from rdkit import Chem

        assert Chem.MolToSmiles(Chem.MolFromMolBlock(molfile)) == Chem.MolToSmiles(
            Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
        )
        assert offsite_requests(browser) == []
        assert console_errors(browser) == []


def test_a_smiles_already_in_the_field_is_loaded(browser):
    from selenium.webdriver.common.by import By

    with running(editor_app(prefill="c1ccccc1O")) as base:
        browser.get(base + "/")
        wait_for(lambda: browser.find_element(By.ID, "editor").get_attribute("data-ready") == "true")
        from rdkit import Chem

        drawn = wait_for(
            lambda: browser.execute_script("return document.getElementById('editor').ewsEditor.smiles()")
        )
        assert Chem.CanonSmiles(drawn) == Chem.CanonSmiles("c1ccccc1O")
        assert offsite_requests(browser) == []
