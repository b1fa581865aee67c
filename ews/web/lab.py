"""The lab's pages: report one detection (check, then save), upload a batch, and read detections.

The same services as the API: ``ews.services.detections`` stores (idempotently,
with the alert rules in the same transaction) and decides what each person may
read — a lab its own detections with their private fields, an authority its
country's without them.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import exists
from sqlalchemy import select as sa_select  # more columns than sqlmodel's select() types
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from chem.depict import svg
from chem.match import VERDICTS
from ews.api.deps import Node, node, session
from ews.api.detections import _submit_rows
from ews.auth import Principal
from ews.db import session_scope
from ews.models import Alert, AlertDetection, Detection, DetectionComponent, UploadBatch
from ews.problems import Problem, field_error, invalid
from ews.schemas import COMPONENT_ROLES, SAMPLE_FORMS, TECHNIQUES, DetectionIn, country_code
from ews.services import batches, review
from ews.services import detections as service
from ews.web import vocabulary  # noqa: F401  (registers the translated vocabulary)
from ews.web.i18n import add_words
from ews.web.render import render
from ews.web.session import page_roles

router = APIRouter(include_in_schema=False)
READERS = ("lab", "authority", "regional", "admin")
COMPONENT_ROWS = 3
PAGE_SIZE = 100
CSV_LIMIT = 10_000
MAX_MOLFILE_BYTES = 200_000
CSV_COLUMNS = (  # (column, required, the word that explains it)
    ("external_ref", False, "external_ref"),
    ("country", True, "country"),
    ("smiles", True, "structure"),
    ("name", False, "component_name"),
    ("purity_percent", False, "purity"),
    ("form", False, "form"),
    ("sold_as", False, "sold_as"),
    ("seized_on", False, "seized_on"),
    ("analyzed_on", False, "analyzed_on"),
    ("region", False, "region"),
    ("confidence", False, "confidence"),
    ("techniques", False, "techniques"),
    ("case_ref", False, "case_ref"),
    ("notes", False, "notes"),
)

add_words(
    {
        "en": {
            "submit_title": "Report a detection",
            "submit_help": "One sample: what it was, where and when it was seized, and what you identified in it. Check shows the match before anything is stored.",
            "sample": "Sample",
            "components": "Components",
            "structure": "Structure (SMILES or InChI)",
            "component_name": "Name (as reported)",
            "purity": "Purity %",
            "molfile": "Or a Molfile (paste, upload or draw)",
            "molfile_upload": "Molfile file",
            "private_fields": "Private to your lab",
            "external_ref": "Your reference",
            "case_ref": "Case reference",
            "notes": "Notes",
            "analyzed_on": "Analysed",
            "techniques": "Techniques",
            "confidence": "Confidence",
            "check": "Check",
            "save_detection": "Save detection",
            "check_ok": "All structures were read. Check the match, then save.",
            "check_failed": "Some fields need fixing; nothing was stored.",
            "detection_title": "Detection",
            "detections_title": "Detections",
            "detections_help_lab": "Your laboratory's detections, newest first.",
            "detections_help_other": "Detections you may see, newest first; labs' private fields are not shown.",
            "from": "From",
            "to": "To",
            "all": "all",
            "download_csv": "Download CSV",
            "next_page": "Older",
            "no_detections": "No detections match.",
            "reported": "Reported",
            "substance": "Substance",
            "alerts_about": "Alerts raised by it",
            "upload_title": "Upload a batch",
            "upload_help": "A CSV (one component per row; rows with the same external_ref are one detection) or an SDF (one detection per record, sample fields as data items). At most {rows} detections and 5 MB per file.",
            "accepted_columns": "Accepted columns",
            "required": "required",
            "file": "File",
            "upload": "Upload",
            "uploading": "Uploading…",
            "matching": "Matching structures…",
            "results": "Results",
            "row": "Row",
            "result": "Result",
            "row_created": "stored",
            "row_replayed": "already stored",
            "row_failed": "failed",
            "errors": "Errors",
            "upload_summary": "{created} stored, {replayed} already stored, {failed} failed",
            "download_results": "Download results (CSV)",
            "upload_another": "Upload another file",
            "role": "Role",
            "amount_mg": "Amount per unit (mg)",
            "appearance": "Appearance",
            "colour": "Colour",
            "logo": "Logo or imprint",
            "shape": "Shape",
            "tablet_mass_mg": "Tablet mass (mg)",
            "diameter_mm": "Diameter (mm)",
            "packaging": "Packaging",
            "v.active": "active",
            "v.adulterant": "adulterant",
            "v.diluent": "diluent",
            "v.impurity": "impurity",
            "v.by_product": "by-product",
            "v.unknown": "unknown",
        },
        "es": {
            "submit_title": "Notificar una detección",
            "submit_help": "Una muestra: qué era, dónde y cuándo se incautó y qué identificó en ella. «Comprobar» muestra la coincidencia antes de guardar nada.",
            "sample": "Muestra",
            "components": "Componentes",
            "structure": "Estructura (SMILES o InChI)",
            "component_name": "Nombre (según el informe)",
            "purity": "Pureza %",
            "molfile": "O un Molfile (pegar, cargar o dibujar)",
            "molfile_upload": "Archivo Molfile",
            "private_fields": "Privado de su laboratorio",
            "external_ref": "Su referencia",
            "case_ref": "Referencia del caso",
            "notes": "Notas",
            "analyzed_on": "Analizada",
            "techniques": "Técnicas",
            "confidence": "Confianza",
            "check": "Comprobar",
            "save_detection": "Guardar detección",
            "check_ok": "Se leyeron todas las estructuras. Revise la coincidencia y guarde.",
            "check_failed": "Hay campos que corregir; no se guardó nada.",
            "detection_title": "Detección",
            "detections_title": "Detecciones",
            "detections_help_lab": "Las detecciones de su laboratorio, las más recientes primero.",
            "detections_help_other": "Las detecciones que usted puede ver, las más recientes primero; no se muestran los campos privados de los laboratorios.",
            "from": "Desde",
            "to": "Hasta",
            "all": "todas",
            "download_csv": "Descargar CSV",
            "next_page": "Anteriores",
            "no_detections": "Ninguna detección coincide.",
            "reported": "Notificada",
            "substance": "Sustancia",
            "alerts_about": "Alertas que originó",
            "upload_title": "Cargar un lote",
            "upload_help": "Un CSV (un componente por fila; las filas con el mismo external_ref son una detección) o un SDF (una detección por registro, campos de la muestra como datos). Como máximo {rows} detecciones y 5 MB por archivo.",
            "accepted_columns": "Columnas aceptadas",
            "required": "obligatoria",
            "file": "Archivo",
            "upload": "Cargar",
            "uploading": "Cargando…",
            "matching": "Identificando estructuras…",
            "results": "Resultados",
            "row": "Fila",
            "result": "Resultado",
            "row_created": "guardada",
            "row_replayed": "ya guardada",
            "row_failed": "fallida",
            "errors": "Errores",
            "upload_summary": "{created} guardadas, {replayed} ya guardadas, {failed} fallidas",
            "download_results": "Descargar resultados (CSV)",
            "upload_another": "Cargar otro archivo",
            "role": "Función",
            "amount_mg": "Cantidad por unidad (mg)",
            "appearance": "Aspecto",
            "colour": "Color",
            "logo": "Logotipo o grabado",
            "shape": "Forma",
            "tablet_mass_mg": "Masa del comprimido (mg)",
            "diameter_mm": "Diámetro (mm)",
            "packaging": "Envase",
            "v.active": "activo",
            "v.adulterant": "adulterante",
            "v.diluent": "diluyente",
            "v.impurity": "impureza",
            "v.by_product": "subproducto",
            "v.unknown": "desconocido",
        },
        "pt": {
            "submit_title": "Notificar uma detecção",
            "submit_help": "Uma amostra: o que era, onde e quando foi apreendida e o que identificou nela. «Verificar» mostra a correspondência antes de guardar.",
            "sample": "Amostra",
            "components": "Componentes",
            "structure": "Estrutura (SMILES ou InChI)",
            "component_name": "Nome (como relatado)",
            "purity": "Pureza %",
            "molfile": "Ou um Molfile (colar, enviar ou desenhar)",
            "molfile_upload": "Arquivo Molfile",
            "private_fields": "Privado do seu laboratório",
            "external_ref": "Sua referência",
            "case_ref": "Referência do caso",
            "notes": "Notas",
            "analyzed_on": "Analisada",
            "techniques": "Técnicas",
            "confidence": "Confiança",
            "check": "Verificar",
            "save_detection": "Guardar detecção",
            "check_ok": "Todas as estruturas foram lidas. Confira a correspondência e guarde.",
            "check_failed": "Há campos a corrigir; nada foi guardado.",
            "detection_title": "Detecção",
            "detections_title": "Detecções",
            "detections_help_lab": "As detecções do seu laboratório, as mais recentes primeiro.",
            "detections_help_other": "As detecções que pode ver, as mais recentes primeiro; os campos privados dos laboratórios não aparecem.",
            "from": "De",
            "to": "Até",
            "all": "todas",
            "download_csv": "Baixar CSV",
            "next_page": "Anteriores",
            "no_detections": "Nenhuma detecção corresponde.",
            "reported": "Notificada",
            "substance": "Substância",
            "alerts_about": "Alertas que originou",
            "upload_title": "Enviar um lote",
            "upload_help": "Um CSV (um componente por linha; linhas com o mesmo external_ref são uma detecção) ou um SDF (uma detecção por registro, campos da amostra como dados). No máximo {rows} detecções e 5 MB por arquivo.",
            "accepted_columns": "Colunas aceites",
            "required": "obrigatória",
            "file": "Arquivo",
            "upload": "Enviar",
            "uploading": "Enviando…",
            "matching": "Identificando estruturas…",
            "results": "Resultados",
            "row": "Linha",
            "result": "Resultado",
            "row_created": "guardada",
            "row_replayed": "já guardada",
            "row_failed": "falhou",
            "errors": "Erros",
            "upload_summary": "{created} guardadas, {replayed} já guardadas, {failed} falharam",
            "download_results": "Baixar resultados (CSV)",
            "upload_another": "Enviar outro arquivo",
            "role": "Função",
            "amount_mg": "Quantidade por unidade (mg)",
            "appearance": "Aspecto",
            "colour": "Cor",
            "logo": "Logotipo ou gravação",
            "shape": "Forma",
            "tablet_mass_mg": "Massa do comprimido (mg)",
            "diameter_mm": "Diâmetro (mm)",
            "packaging": "Embalagem",
            "v.active": "ativo",
            "v.adulterant": "adulterante",
            "v.diluent": "diluente",
            "v.impurity": "impureza",
            "v.by_product": "subproduto",
            "v.unknown": "desconhecido",
        },
        "fr": {
            "submit_title": "Déclarer une détection",
            "submit_help": "Un échantillon : ce que c'était, où et quand il a été saisi, et ce que vous y avez identifié. « Vérifier » montre la correspondance avant tout enregistrement.",
            "sample": "Échantillon",
            "components": "Composants",
            "structure": "Structure (SMILES ou InChI)",
            "component_name": "Nom (tel que déclaré)",
            "purity": "Pureté %",
            "molfile": "Ou un Molfile (coller, envoyer ou dessiner)",
            "molfile_upload": "Fichier Molfile",
            "private_fields": "Privé à votre laboratoire",
            "external_ref": "Votre référence",
            "case_ref": "Référence du dossier",
            "notes": "Notes",
            "analyzed_on": "Analysé",
            "techniques": "Techniques",
            "confidence": "Confiance",
            "check": "Vérifier",
            "save_detection": "Enregistrer la détection",
            "check_ok": "Toutes les structures ont été lues. Vérifiez la correspondance, puis enregistrez.",
            "check_failed": "Des champs sont à corriger ; rien n'a été enregistré.",
            "detection_title": "Détection",
            "detections_title": "Détections",
            "detections_help_lab": "Les détections de votre laboratoire, les plus récentes d'abord.",
            "detections_help_other": "Les détections que vous pouvez voir, les plus récentes d'abord ; les champs privés des laboratoires ne sont pas affichés.",
            "from": "Du",
            "to": "Au",
            "all": "toutes",
            "download_csv": "Télécharger en CSV",
            "next_page": "Plus anciennes",
            "no_detections": "Aucune détection ne correspond.",
            "reported": "Déclarée",
            "substance": "Substance",
            "alerts_about": "Alertes qu'elle a déclenchées",
            "upload_title": "Envoyer un lot",
            "upload_help": "Un CSV (un composant par ligne ; les lignes de même external_ref forment une détection) ou un SDF (une détection par enregistrement, champs de l'échantillon en données). Au plus {rows} détections et 5 Mo par fichier.",
            "accepted_columns": "Colonnes acceptées",
            "required": "obligatoire",
            "file": "Fichier",
            "upload": "Envoyer",
            "uploading": "Envoi…",
            "matching": "Identification des structures…",
            "results": "Résultats",
            "row": "Ligne",
            "result": "Résultat",
            "row_created": "enregistrée",
            "row_replayed": "déjà enregistrée",
            "row_failed": "échec",
            "errors": "Erreurs",
            "upload_summary": "{created} enregistrées, {replayed} déjà enregistrées, {failed} en échec",
            "download_results": "Télécharger les résultats (CSV)",
            "upload_another": "Envoyer un autre fichier",
            "role": "Rôle",
            "amount_mg": "Quantité par unité (mg)",
            "appearance": "Aspect",
            "colour": "Couleur",
            "logo": "Logo ou gravure",
            "shape": "Forme",
            "tablet_mass_mg": "Masse du comprimé (mg)",
            "diameter_mm": "Diamètre (mm)",
            "packaging": "Emballage",
            "v.active": "actif",
            "v.adulterant": "adultérant",
            "v.diluent": "diluant",
            "v.impurity": "impureté",
            "v.by_product": "sous-produit",
            "v.unknown": "inconnu",
        },
    }
)


# --- /submit ----------------------------------------------------------------------------------


def _text(form: FormData, key: str, limit: int = 10_000) -> str:
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _molfile(form: FormData) -> str:
    upload = form.get("molfile_file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_MOLFILE_BYTES + 1)
        if len(raw) > MAX_MOLFILE_BYTES:
            raise invalid([field_error("molfile_file", f"at most {MAX_MOLFILE_BYTES} bytes")])
        return raw.decode("utf-8", errors="replace")
    value = form.get("molfile")
    return value[:MAX_MOLFILE_BYTES] if isinstance(value, str) and value.strip() else ""


def _component(structure: str, name: str, purity: str) -> dict[str, Any]:
    key = "inchi" if structure.startswith("InChI=") else "smiles"
    component: dict[str, Any] = {key: structure}
    if name:
        component["name"] = name
    if purity:
        component["purity_percent"] = purity.replace(",", ".")
    return component


def _profile(form: FormData, role_key: str, amount_key: str) -> dict[str, Any]:
    """A component row's place in the seizure: its role and amount per unit, when given."""
    profile: dict[str, Any] = {}
    if _text(form, role_key, 20):
        profile["role"] = _text(form, role_key, 20)
    if _text(form, amount_key, 20):
        profile["amount_mg"] = _text(form, amount_key, 20).replace(",", ".")
    return profile


APPEARANCE_INPUTS = (  # (form field, AppearanceIn field, limit)
    ("colour", "colour", 100),
    ("logo", "logo", 200),
    ("shape", "shape", 100),
    ("tablet_mass_mg", "mass_mg", 20),
    ("diameter_mm", "diameter_mm", 20),
    ("packaging", "packaging", 500),
)


def _appearance(form: FormData) -> dict[str, Any]:
    appearance: dict[str, Any] = {}
    for key, field, limit in APPEARANCE_INPUTS:
        value = _text(form, key, limit)
        if value:
            appearance[field] = value.replace(",", ".") if field in ("mass_mg", "diameter_mm") else value
    return appearance


async def payload_from_form(form: FormData) -> dict[str, Any]:
    """The body the API would receive, from the submit form's fields (validation is DetectionIn's)."""
    sample: dict[str, Any] = {
        k: _text(form, k, 200)
        for k in ("form", "sold_as", "seized_on", "analyzed_on", "country", "region", "confidence")
        if _text(form, k, 200)
    }
    sample["techniques"] = [t for t in form.getlist("techniques") if isinstance(t, str)][:20]
    if appearance := _appearance(form):
        sample["appearance"] = appearance
    components = []
    for i in range(COMPONENT_ROWS):
        structure = _text(form, f"structure_{i}")
        if structure:
            component = _component(structure, _text(form, f"name_{i}", 300), _text(form, f"purity_{i}", 20))
            components.append({**component, **_profile(form, f"role_{i}", f"amount_{i}")})
    molfile = await _molfile(form)
    if molfile:
        component = {"molfile": molfile}
        if _text(form, "molfile_name", 300):
            component["name"] = _text(form, "molfile_name", 300)
        if _text(form, "molfile_purity", 20):
            component["purity_percent"] = _text(form, "molfile_purity", 20).replace(",", ".")
        components.append({**component, **_profile(form, "molfile_role", "molfile_amount")})
    body: dict[str, Any] = {"sample": sample, "components": components}
    for key in ("external_ref", "case_ref", "notes"):
        if _text(form, key):
            body[key] = _text(form, key)
    return body


def _validation_errors(error: ValidationError) -> list[dict[str, str]]:
    from ews.problems import _location, _message

    return [field_error(_location(tuple(e.get("loc", ()))), _message(dict(e))) for e in error.errors()]


def _checked(state: Node, payload: DetectionIn) -> list[dict]:
    results = []
    for component in payload.components:
        fmt, text = component.structure
        result = state.identifier.identify(text, fmt, name=component.name, jurisdiction=payload.sample.country)
        shown = None
        if "error" not in result:
            shared = next((m.get("shared_atoms") for m in result["matches"] if m.get("shared_atoms")), ())
            shown = svg(result["standardized"]["smiles"], size=(200, 150), highlight=tuple(shared or ()))
        results.append(
            {
                "result": result,
                "drawing": shown or "",
                "purity": component.purity_percent,
                "role": component.role,
                "amount_mg": component.amount_mg,
            }
        )
    return results


def _submit_page(request: Request, state: Node, user: Principal, form: dict, **extra) -> HTMLResponse:
    return render(
        request,
        state,
        "submit.html",
        status_code=extra.pop("status_code", 200),
        f=form,
        forms=SAMPLE_FORMS,
        techniques=TECHNIQUES,
        roles=COMPONENT_ROLES,
        rows=range(COMPONENT_ROWS),
        today=date.today().isoformat(),
        **{"errors": [], "checked": None, **extra},
    )


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, user: Principal = Depends(page_roles("lab")), state: Node = Depends(node)):
    blank = {
        "country": user.country or "",
        "confidence": "confirmed",
        "idempotency_key": secrets.token_urlsafe(16),
    }
    return _submit_page(request, state, user, blank)


@router.post("/submit", response_class=HTMLResponse)
async def submit(request: Request, user: Principal = Depends(page_roles("lab")), state: Node = Depends(node)):
    form = await request.form()
    echo: dict[str, Any] = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
    echo["techniques"] = [t for t in form.getlist("techniques") if isinstance(t, str)]
    echo["idempotency_key"] = _text(form, "idempotency_key", 100) or secrets.token_urlsafe(16)
    try:
        body = await payload_from_form(form)
        payload = DetectionIn.model_validate(body)
    except ValidationError as error:
        return _submit_page(request, state, user, echo, errors=_validation_errors(error), status_code=422)
    except Problem as problem:
        return _submit_page(request, state, user, echo, errors=problem.errors, status_code=problem.status)
    if _text(form, "action") != "save":
        checked = await run_in_threadpool(_checked, state, payload)
        failed = [
            field_error(f"components[{i}]", c["result"]["error"])
            for i, c in enumerate(checked)
            if "error" in c["result"]
        ]
        return _submit_page(
            request, state, user, echo, checked=checked, errors=failed, status_code=422 if failed else 200
        )
    try:
        stored = await run_in_threadpool(
            service.submit,
            state.engine,
            state.identifier,
            user,
            payload,
            echo["idempotency_key"],
            state.detection_listeners,
        )
    except Problem as problem:
        return _submit_page(
            request,
            state,
            user,
            echo,
            errors=problem.errors or [field_error("body", problem.detail)],
            status_code=problem.status,
        )
    return RedirectResponse(f"/detections/{stored.detection.id}", status_code=303)


# --- /detections ------------------------------------------------------------------------------


def _filters(since: str | None, until: str | None, verdict: str | None, country: str | None):
    errors = []
    parsed: dict[str, Any] = {}
    for key, value in (("since", since), ("until", until)):
        if value:
            try:
                parsed[key] = date.fromisoformat(value)
            except ValueError:
                errors.append(field_error(key, "a date as YYYY-MM-DD"))
    if verdict and verdict not in VERDICTS:
        errors.append(field_error("verdict", f"one of {', '.join(VERDICTS)}"))
    if country:
        try:
            parsed["country"] = country_code(country)
        except ValueError as error:
            errors.append(field_error("country", str(error)))
    if errors:
        raise invalid(errors)
    return service.DetectionFilter(
        country=parsed.get("country"),
        verdict=verdict or None,
        since=parsed.get("since"),
        until=parsed.get("until"),
    )


@router.get("/detections", response_class=HTMLResponse)
def detections_page(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    verdict: str | None = None,
    country: str | None = None,
    cursor: str | None = Query(default=None, max_length=200),
    user: Principal = Depends(page_roles(*READERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    filters = _filters(since, until, verdict, country)
    page, next_cursor = service.search(db, user, filters, cursor, PAGE_SIZE)
    rows = [service.view(d, c, user) for d, c in page]
    query = request.url.query
    return render(
        request,
        state,
        "detections.html",
        rows=rows,
        next_cursor=next_cursor,
        verdicts=VERDICTS,
        q={"since": since or "", "until": until or "", "verdict": verdict or "", "country": country or ""},
        csv_query="&".join(p for p in query.split("&") if p and not p.startswith(("cursor=", "lang="))),
    )


def _csv(rows: list[dict], header: list[str]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def _csv_rows(db: Session, user: Principal, filters: service.DetectionFilter) -> list[tuple]:
    """Detections and their components for the CSV, under the same visibility rule as the API,
    without loading each component's match result (the slow part of a large download)."""
    other = aliased(DetectionComponent)
    query = (
        sa_select(
            *(
                col(c)
                for c in (
                    Detection.id,
                    Detection.organisation_id,
                    Detection.created_at,
                    Detection.seized_on,
                    Detection.country,
                    Detection.region,
                    Detection.form,
                    Detection.sold_as,
                    Detection.external_ref,
                    Detection.case_ref,
                    Detection.notes,
                    DetectionComponent.position,
                    DetectionComponent.name,
                    DetectionComponent.substance_name,
                    DetectionComponent.inchikey,
                    DetectionComponent.verdict,
                    DetectionComponent.drug_class,
                    DetectionComponent.purity_percent,
                )
            ),
        )
        .join(DetectionComponent, col(DetectionComponent.detection_id) == Detection.id)
        .where(service.visible(user))
    )
    if filters.country:
        query = query.where(col(Detection.country) == filters.country)
    if filters.since:
        query = query.where(col(Detection.seized_on) >= filters.since)
    if filters.until:
        query = query.where(col(Detection.seized_on) <= filters.until)
    if filters.verdict:
        query = query.where(
            exists().where(col(other.detection_id) == Detection.id, col(other.verdict) == filters.verdict)
        )
    query = query.order_by(
        col(Detection.created_at).desc(), col(Detection.id).desc(), col(DetectionComponent.position)
    ).limit(CSV_LIMIT)
    return [tuple(row) for row in db.execute(query).all()]


@router.get("/detections.csv")
def detections_csv(
    since: str | None = None,
    until: str | None = None,
    verdict: str | None = None,
    country: str | None = None,
    user: Principal = Depends(page_roles(*READERS)),
    db: Session = Depends(session),
) -> Response:
    """The detections the page lists, one row per component; private fields only for the lab's own."""
    filters = _filters(since, until, verdict, country)
    header = ["detection_id", "created_at", "seized_on", "country", "region", "form", "sold_as", "position"]
    header += ["name", "substance", "inchikey", "verdict", "class", "purity_percent"]
    private = user.has("lab") and not user.sees_everything
    if private:
        header += ["external_ref", "case_ref", "notes"]
    rows = []
    for row in _csv_rows(db, user, filters):
        (identifier, organisation_id, created_at, seized_on, country_, region, form, sold_as) = row[:8]
        private_values = dict(zip(("external_ref", "case_ref", "notes"), row[8:11], strict=True))
        position, name, substance, inchikey, found, drug_class, purity = row[11:]
        own = organisation_id == user.organisation_id  # as in the API's view
        rows.append(
            {
                "detection_id": identifier,
                "created_at": created_at.isoformat(timespec="seconds"),
                "seized_on": seized_on.isoformat() if seized_on else "",
                "country": country_,
                "region": region or "",
                "form": form or "",
                "sold_as": sold_as or "",
                "position": position,
                "name": name or "",
                "substance": substance or "",
                "inchikey": inchikey,
                "verdict": found,
                "class": drug_class or "",
                "purity_percent": "" if purity is None else purity,
                **{k: (v or "") if own else "" for k, v in private_values.items()},
            }
        )
    response = _csv(rows, header)
    response.headers["content-disposition"] = 'attachment; filename="detections.csv"'
    return response


@router.get("/detections/{detection_id}", response_class=HTMLResponse)
def detection_page(
    detection_id: str,
    request: Request,
    user: Principal = Depends(page_roles(*READERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    detection = service.get_visible(db, user, detection_id)
    components = service.components_of(db, detection.id)
    view = service.view(detection, components, user)
    drawings = {c.id: svg(c.std_smiles, size=(220, 160)) or "" for c in components}
    alerts = db.exec(
        select(Alert)
        .join(AlertDetection, col(AlertDetection.alert_id) == Alert.id)
        .where(AlertDetection.detection_id == detection.id)
        .distinct()
    ).all()
    return render(
        request,
        state,
        "detection.html",
        d=view,
        detection=detection,
        drawings=drawings,
        alerts=[a for a in alerts if review.can_read(a, user)],
        own="case_ref" in view,
    )


# --- /upload ----------------------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, user: Principal = Depends(page_roles("lab")), state: Node = Depends(node)):
    return render(
        request,
        state,
        "upload.html",
        columns=CSV_COLUMNS,
        forms=SAMPLE_FORMS,
        techniques=TECHNIQUES,
        max_rows=state.settings.max_batch_rows,
    )


def _row_result(row: dict, result: dict) -> dict:
    detection = result.get("detection") or {}
    return {
        "row": result["index"] + 1,
        "status": result["status"],
        "external_ref": row.get("external_ref") if isinstance(row, dict) else None,
        "detection_id": detection.get("id"),
        "verdicts": [c["verdict"] for c in detection.get("components", [])],
        "names": [
            c.get("name") or (c.get("substance") or {}).get("name") or "" for c in detection.get("components", [])
        ],
        "errors": [
            {"field": e.get("field", ""), "message": e.get("message", "")} for e in result.get("errors", [])
        ]
        or ([{"field": "", "message": result["detail"]}] if result.get("detail") else []),
    }


@router.post("/upload")
async def upload(
    request: Request, user: Principal = Depends(page_roles("lab")), state: Node = Depends(node)
) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise invalid([field_error("file", "choose a CSV or SDF file")])
    raw = await upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid([field_error("file", "not UTF-8 text")]) from None
    name = upload.filename.lower()
    sdf = name.endswith((".sdf", ".sd", ".mol"))
    rows = batches.rows_from_sdf(text) if sdf else batches.rows_from_csv(text)
    if not rows:
        raise invalid([field_error("file", "the file holds no rows")])
    if len(rows) > state.settings.max_batch_rows:
        raise Problem(413, "Content too large", f"at most {state.settings.max_batch_rows} detections per file")
    outcome = await run_in_threadpool(_submit_rows, rows, None, user, state)
    results = [_row_result(rows[r["index"]].body or {}, r) for r in outcome["results"]]
    with session_scope(state.engine) as db:
        batch = UploadBatch(
            organisation_id=user.organisation_id,
            user_id=user.user_id,
            filename=upload.filename[:300],
            summary=outcome["summary"],
            results=results,
        )
        db.add(batch)
    lang = request.query_params.get("lang")
    suffix = f"?lang={lang}" if lang in ("en", "es", "pt", "fr") else ""
    return RedirectResponse(f"/upload/{batch.id}{suffix}", status_code=303)


def _batch(db: Session, user: Principal, batch_id: str) -> UploadBatch:
    batch = db.get(UploadBatch, batch_id)
    if batch is None or batch.organisation_id != user.organisation_id:
        raise Problem(404, "Not found", f"no upload {batch_id!r}")
    return batch


@router.get("/upload/{batch_id}.csv")
def upload_results_csv(
    batch_id: str, user: Principal = Depends(page_roles("lab")), db: Session = Depends(session)
) -> Response:
    batch = _batch(db, user, batch_id)
    rows = [
        {
            "row": r["row"],
            "external_ref": r.get("external_ref") or "",
            "status": r["status"],
            "detection_id": r.get("detection_id") or "",
            "verdicts": ";".join(r.get("verdicts", [])),
            "errors": "; ".join(
                f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in r["errors"]
            ),
        }
        for r in batch.results
    ]
    response = _csv(rows, ["row", "external_ref", "status", "detection_id", "verdicts", "errors"])
    response.headers["content-disposition"] = f'attachment; filename="upload-{batch.id}-results.csv"'
    return response


@router.get("/upload/{batch_id}", response_class=HTMLResponse)
def upload_results(
    batch_id: str,
    request: Request,
    user: Principal = Depends(page_roles("lab")),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    return render(request, state, "upload_results.html", batch=_batch(db, user, batch_id))
