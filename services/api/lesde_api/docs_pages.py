"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets served by the gateway, not a CDN.

FastAPI's own pages load their scripts from public CDNs, so on a lab network without
internet they stay blank. The scripts and styles come from the PyPI package
``fastapi-offline`` (its ``static`` folder: swagger-ui-bundle.js, swagger-ui.css,
redoc.standalone.js, favicon.png), mounted at :data:`ASSETS_PATH`; only its files are
used, the pages are FastAPI's. ReDoc is told not to load Google Fonts.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"


def assets_dir() -> str:
    """The folder of the packaged Swagger UI and ReDoc assets."""
    return str(files("fastapi_offline") / "static")


def install_docs_pages(app: FastAPI, *, title: str) -> None:
    """Serve ``/docs``, its OAuth2 redirect and ``/redoc``; create ``app`` with ``docs_url=None, redoc_url=None``."""
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
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - API reference",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
