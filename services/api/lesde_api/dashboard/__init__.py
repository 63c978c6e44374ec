"""The lab dashboard, served by the gateway itself: ``/``, ``/ui/...`` and ``/ui/static/...``.

How it is built, and why:

- **The server renders the shell, the browser fills it from the public API.** Each page
  (Jinja2 templates in ``templates/``) carries what needs no job data: the layout, the
  filter form, the job's kind and id, the example spec, the simulation form with its
  bounds. The job list and every job's data are fetched by the page's script from the
  same ``/v1`` JSON API that curl and the CLI use, and every button (cancel, delete,
  re-analyse, retry, submit) calls it. The dashboard routes themselves never read the
  store: a page reveals nothing that the API would not tell the same caller.
- **API keys.** When ``/v1`` answers 401, the script asks for a key once (a field in
  the page header), keeps it in the browser's ``localStorage`` and sends it as
  ``Authorization: Bearer <key>`` with every request. Because browsers cannot add that
  header to ``<img>``, ``<a>`` or ``EventSource``, figures are fetched and shown as blobs,
  downloads go through a fetch when a key is set, and live progress reads the
  Server-Sent Events of ``/v1/{kind}/{id}/events`` through a streamed fetch.
- **Live progress.** A job's page follows its event stream (status, progress, analysis
  changes); the list refreshes the listings every 2 s while a shown job is unfinished
  (one stream per row would exhaust the browser's six connections per host).
- **Any screen, 390 to 1,920 px.** No page scrolls sideways: below 900 px the job list is
  a list of cards, below 700 px other tables' rows are cards (or scroll inside their own
  box), figures are at most as wide as their panel (a click opens one full size), and on a
  phone the nav drops words so it stays one line. tests/dashboard/test_browser.py checks
  every page at 390 x 844 and 1,366 x 768.
- **Figures in every format.** Each figure links to its PNG, SVG and PDF
  (``/v1/{kind}/{id}/figures/{name}.{png,svg,pdf}``), downloaded with the key like every
  other file; a comparison asks for each pair on shared axes (``?share_axes_with=``) and
  says "separate scales" where the server cannot.
- **Offline.** No CDN, no build step: one stylesheet and a few small ES modules under
  ``static/``; pages without script say how to reach the same data with curl.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from lesde_api.dashboard.routes import STATIC_DIR, STATIC_PATH, router


def install_dashboard(app: FastAPI) -> None:
    """Serve the static assets and the pages (assets first: ``/ui/static/x`` is no job page)."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    app.include_router(router)
