"""Signing in and out, the header's words, and error pages in the visitor's language."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ews.api.deps import Node, node
from ews.problems import Problem, invalid, problem_response, unexpected
from ews.services import accounts
from ews.web.i18n import add_words
from ews.web.render import render
from ews.web.session import SignInRequired, current_user, end_session, login_url, start_session

router = APIRouter(include_in_schema=False)

add_words(
    {
        "en": {
            "sign_in": "Sign in",
            "sign_out": "Sign out",
            "email": "E-mail",
            "password": "Password",
            "sign_in_title": "Sign in to ews",
            "sign_in_help": "People sign in with the account their node administrator created; programs use API keys.",
            "sign_in_failed": "E-mail or password is wrong.",
            "sign_in_limited": "Too many failed sign-ins. Try again in {minutes} minute(s).",
            "signed_in_as": "Signed in as",
            "nav_review": "Review",
            "nav_submit": "Submit",
            "nav_upload": "Upload",
            "nav_detections": "Detections",
            "error_401": "Please sign in",
            "error_403": "Not allowed",
            "error_404": "Not found",
            "error_409": "Not possible now",
            "error_422": "Something in the form needs fixing",
            "error_429": "Too many attempts",
            "error_500": "Something went wrong",
            "error_403_text": "Your account does not have the role this page needs.",
            "error_404_text": "There is nothing here, or nothing you may see.",
            "error_other_text": "The request could not be completed.",
            "error_csrf_text": "This form's security token is missing or out of date. Go back, reload the page and send it again.",
            "back_home": "Back to the overview",
        },
        "es": {
            "sign_in": "Iniciar sesión",
            "sign_out": "Cerrar sesión",
            "email": "Correo electrónico",
            "password": "Contraseña",
            "sign_in_title": "Iniciar sesión en ews",
            "sign_in_help": "Las personas inician sesión con la cuenta que creó el administrador del nodo; los programas usan claves de API.",
            "sign_in_failed": "El correo o la contraseña no son correctos.",
            "sign_in_limited": "Demasiados intentos fallidos. Vuelva a intentarlo en {minutes} minuto(s).",
            "signed_in_as": "Sesión de",
            "nav_review": "Revisión",
            "nav_submit": "Notificar",
            "nav_upload": "Cargar lote",
            "nav_detections": "Detecciones",
            "error_401": "Inicie sesión",
            "error_403": "No permitido",
            "error_404": "No encontrado",
            "error_409": "No es posible ahora",
            "error_422": "Hay que corregir algo del formulario",
            "error_429": "Demasiados intentos",
            "error_500": "Algo salió mal",
            "error_403_text": "Su cuenta no tiene el rol que requiere esta página.",
            "error_404_text": "Aquí no hay nada, o nada que usted pueda ver.",
            "error_other_text": "No se pudo completar la solicitud.",
            "error_csrf_text": "Falta el código de seguridad del formulario o ha caducado. Vuelva atrás, recargue la página y envíelo de nuevo.",
            "back_home": "Volver al resumen",
        },
        "pt": {
            "sign_in": "Entrar",
            "sign_out": "Sair",
            "email": "E-mail",
            "password": "Senha",
            "sign_in_title": "Entrar no ews",
            "sign_in_help": "As pessoas entram com a conta criada pelo administrador do nó; os programas usam chaves de API.",
            "sign_in_failed": "E-mail ou senha incorretos.",
            "sign_in_limited": "Muitas tentativas falhadas. Tente novamente em {minutes} minuto(s).",
            "signed_in_as": "Sessão de",
            "nav_review": "Revisão",
            "nav_submit": "Notificar",
            "nav_upload": "Enviar lote",
            "nav_detections": "Detecções",
            "error_401": "Entre, por favor",
            "error_403": "Não permitido",
            "error_404": "Não encontrado",
            "error_409": "Não é possível agora",
            "error_422": "É preciso corrigir algo no formulário",
            "error_429": "Tentativas demais",
            "error_500": "Algo deu errado",
            "error_403_text": "A sua conta não tem o papel que esta página exige.",
            "error_404_text": "Não há nada aqui, ou nada que possa ver.",
            "error_other_text": "Não foi possível concluir o pedido.",
            "error_csrf_text": "O código de segurança do formulário falta ou expirou. Volte, recarregue a página e envie de novo.",
            "back_home": "Voltar ao resumo",
        },
        "fr": {
            "sign_in": "Se connecter",
            "sign_out": "Se déconnecter",
            "email": "Courriel",
            "password": "Mot de passe",
            "sign_in_title": "Connexion à ews",
            "sign_in_help": "Les personnes se connectent avec le compte créé par l'administrateur du nœud ; les programmes utilisent des clés d'API.",
            "sign_in_failed": "Courriel ou mot de passe incorrect.",
            "sign_in_limited": "Trop d'échecs de connexion. Réessayez dans {minutes} minute(s).",
            "signed_in_as": "Connecté·e :",
            "nav_review": "Revue",
            "nav_submit": "Déclarer",
            "nav_upload": "Envoyer un lot",
            "nav_detections": "Détections",
            "error_401": "Veuillez vous connecter",
            "error_403": "Non autorisé",
            "error_404": "Introuvable",
            "error_409": "Impossible pour l'instant",
            "error_422": "Le formulaire contient une erreur",
            "error_429": "Trop de tentatives",
            "error_500": "Une erreur est survenue",
            "error_403_text": "Votre compte n'a pas le rôle que demande cette page.",
            "error_404_text": "Il n'y a rien ici, ou rien que vous puissiez voir.",
            "error_other_text": "La demande n'a pas pu aboutir.",
            "error_csrf_text": "Le jeton de sécurité du formulaire manque ou a expiré. Revenez en arrière, rechargez la page et renvoyez-le.",
            "back_home": "Retour à l'aperçu",
        },
    }
)


def _safe_next(target: str | None) -> str:
    """Only a path on this node: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, state: Node = Depends(node)):
    return render(request, state, "login.html", next=_safe_next(next), email="", message=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    email: str = Form(default="", max_length=320),
    password: str = Form(default="", max_length=4096),
    next: str = Form(default="/", max_length=2000),
    state: Node = Depends(node),
) -> Response:
    address = request.client.host if request.client else None
    target = _safe_next(next)
    try:
        signed = accounts.sign_in(state.engine, email, password, address)
    except accounts.RateLimited as limited:
        minutes = max(1, -(-limited.retry_after // 60))
        message = render_words(request)["sign_in_limited"].format(minutes=minutes)
        return render(
            request,
            state,
            "login.html",
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
            next=target,
            email=email,
            message=message,
        )
    if signed is None:
        return render(
            request,
            state,
            "login.html",
            status_code=401,
            next=target,
            email=email,
            message=render_words(request)["sign_in_failed"],
        )
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, signed)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    end_session(request, response)
    return response


def render_words(request: Request) -> dict[str, str]:
    from ews.web.i18n import language, words

    return words(language(request))


# --- error pages ------------------------------------------------------------------------------

NOT_PAGES = ("/api/", "/feeds/", "/openapi.json", "/docs", "/redoc", "/metrics", "/healthz", "/readyz", "/static/")


def is_page(request: Request) -> bool:
    """Web pages answer errors with HTML; the API, feeds and probes keep problem+json."""
    return not request.url.path.startswith(NOT_PAGES)


def error_page(request: Request, problem: Problem) -> Response:
    if problem.status == 401:
        return RedirectResponse(login_url(request), status_code=303)
    state: Node = request.app.state.node
    return render(
        request,
        state,
        "error.html",
        status_code=problem.status,
        headers=dict(problem.headers),
        status=problem.status,
        problem=problem,
        signed_in=current_user(request) is not None,
    )


def install(app: FastAPI) -> None:
    """Error handlers that answer pages with HTML and everything else as before (problem+json)."""
    api_handlers = dict(app.exception_handlers)

    async def on_problem(request: Request, problem: Problem):
        if is_page(request):
            return error_page(request, problem)
        return problem_response(problem, request)

    async def on_http(request: Request, error: StarletteHTTPException):
        if is_page(request):
            detail = error.detail if isinstance(error.detail, str) else ""
            return error_page(request, Problem(error.status_code, "Error", detail, headers=error.headers))
        return await api_handlers[StarletteHTTPException](request, error)

    async def on_validation(request: Request, error: RequestValidationError):
        if is_page(request):
            from ews.problems import _location, _message, field_error

            errors = [field_error(_location(tuple(e.get("loc", ()))), _message(e)) for e in error.errors()]
            return error_page(request, invalid(errors))
        return await api_handlers[RequestValidationError](request, error)

    async def on_unexpected(request: Request, error: Exception):
        problem = unexpected(error)
        if is_page(request):
            try:
                return error_page(request, problem)
            except Exception:  # noqa: BLE001 - the page itself may be what fails: answer without it
                pass
        return problem_response(problem, request)

    async def on_sign_in_required(request: Request, _: SignInRequired):
        return RedirectResponse(login_url(request), status_code=303)

    app.add_exception_handler(Problem, on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequired, on_sign_in_required)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_unexpected)
