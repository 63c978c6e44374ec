"""The LE-SDE Lab HTTP gateway. OpenAPI at ``/docs``.

Run: ``uvicorn lesde_api.main:app``. This process never imports torch or scipy: work
is sent to the trainer and analyzer workers by task name.
"""

from __future__ import annotations

from fastapi import FastAPI

from lesde_api.errors import install_error_handlers
from lesde_api.routes import experiments, exports, health, imports, simulations, sweeps

DESCRIPTION = """
Submit multi-trial training experiments, sweeps over their fields and LE-SDE simulations, poll their status,
and fetch the analysis (alpha/beta estimates, tail indices, separability, neural
collapse, LE-ODE imitation) as JSON and PNG.
"""


def create_app() -> FastAPI:
    app = FastAPI(title="LE-SDE Lab", version="0.1.0", description=DESCRIPTION)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(experiments.router)
    app.include_router(exports.router)
    app.include_router(imports.router)
    app.include_router(simulations.router)
    app.include_router(sweeps.router)
    return app


app = create_app()
