"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets served by the gateway, not a CDN.

FastAPI's own pages load their scripts from public CDNs, so on a lab network without
internet they stay blank. The scripts and styles come from the PyPI package
``fastapi-offline`` (its ``static`` folder: swagger-ui-bundle.js, swagger-ui.css,
redoc.standalone.js, favicon.png), mounted at :data:`ASSETS_PATH`; only its files are
used, the pages are FastAPI's. Nothing in either page reaches another host:

* ReDoc is told not to load Google Fonts, and its script is served with the two addresses
  of its "API docs by Redocly" footer rewritten (:data:`REDOC_REWRITES`): the logo it
  fetches from cdn.redoc.ly becomes an inline SVG, and the link to redocly.com a link to
  nowhere (the text stays).
* Swagger UI is told to use no validator (``validatorUrl: null``): by default it shows a
  badge loaded from validator.swagger.io, sending it the schema's address.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
REDOC_SCRIPT = "redoc.standalone.js"
# A small grey "R" in a rounded square, in place of Redocly's logo (the image is 16 px high in the footer).
REDOC_LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Crect width='16' height='16' rx='3' fill='%23888'/%3E%3Ctext x='8' y='12' font-size='11' "
    "text-anchor='middle' fill='white' font-family='sans-serif'%3ER%3C/text%3E%3C/svg%3E"
)
# In redoc.standalone.js: the footer's image (fetched on every page load) and its link.
REDOC_REWRITES = {
    'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"': f'src:"{REDOC_LOGO}"',
    'href:"https://redocly.com/redoc/"': 'href:"#"',
}
SWAGGER_PARAMETERS = {"validatorUrl": None}


def assets_dir() -> str:
    """The folder of the packaged Swagger UI and ReDoc assets."""
    return str(files("fastapi_offline") / "static")


@cache
def redoc_script() -> bytes:
    """The packaged ReDoc script with :data:`REDOC_REWRITES` applied (a rewrite not found is skipped:
    tests/api/test_docs_offline.py then finds what is left)."""
    text = (files("fastapi_offline") / "static" / REDOC_SCRIPT).read_text(encoding="utf-8")
    for old, new in REDOC_REWRITES.items():
        text = text.replace(old, new)
    return text.encode("utf-8")


def install_docs_pages(app: FastAPI, *, title: str) -> None:
    """Serve ``/docs``, its OAuth2 redirect and ``/redoc``; create ``app`` with ``docs_url=None, redoc_url=None``."""

    # Before the mount, which would otherwise answer this path with the file as packaged.
    @app.get(f"{ASSETS_PATH}/{REDOC_SCRIPT}", include_in_schema=False)
    def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})

    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - API",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - API reference",
            redoc_js_url=f"{ASSETS_PATH}/{REDOC_SCRIPT}",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
