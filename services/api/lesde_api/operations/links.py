"""Every ``/v1/...`` URL the gateway hands out, built here from ids and names.

Workers store names (a summary's ``"figures"`` is a list of figure names); the routes
are the gateway's, so only the gateway turns names into links, when it serves them.
"""

from __future__ import annotations

from collections.abc import Iterable

from lesde_contract.specs.analysis import DEFAULT_KEY, FIGURE_NAMES


def job_url(kind: str, job_id: str) -> str:
    """``/v1/experiments/<id>``, ``/v1/simulations/<id>`` or ``/v1/sweeps/<id>``."""
    return f"/v1/{kind}s/{job_id}"


def job_links(kind: str, job_id: str) -> dict[str, str]:
    base = job_url(kind, job_id)
    return {"self": base, "cancel": f"{base}/cancel", "artifacts": f"{base}/artifacts", "analysis": f"{base}/analysis"}


def artifact_url(kind: str, job_id: str, name: str) -> str:
    return f"{job_url(kind, job_id)}/artifacts/{name}"


def _options_query(key: str) -> str:
    return "" if key == DEFAULT_KEY else f"?options_key={key}"


def analysis_links(job_id: str, key: str) -> dict[str, str]:
    """Where an experiment's analysis with option set ``key`` is served (``{name}`` stands for a figure)."""
    base, query = job_url("experiment", job_id), _options_query(key)
    return {
        "analysis": f"{base}/analysis{query}",
        "series": f"{base}/analysis/series.npz{query}",
        "figures": f"{base}/figures/{{name}}.png{query}",
    }


def figure_links(kind: str, job_id: str, names: Iterable[str], *, key: str = DEFAULT_KEY) -> dict[str, str]:
    """``{name: URL of the figure's PNG}``; the same URL ending ``.svg`` or ``.pdf`` serves it as SVG or PDF."""
    base, query = job_url(kind, job_id), _options_query(key)
    return {name: f"{base}/figures/{name}.png{query}" for name in names}


def with_experiment_links(summary: dict, job_id: str, key: str) -> dict:
    """``summary`` with ``figures`` ({name: URL}) and ``series_url`` set, whatever was stored there."""
    summary["figures"] = figure_links("experiment", job_id, FIGURE_NAMES, key=key)
    summary["series_url"] = analysis_links(job_id, key)["series"]
    return summary


def with_simulation_links(summary: dict, job_id: str) -> dict:
    """``summary`` with its stored figure names (a list, or an older summary's {name: URL}) as {name: URL}."""
    summary["figures"] = figure_links("simulation", job_id, summary.get("figures") or ())
    return summary


def sweep_links(sweep_id: str) -> dict[str, str]:
    """Where a sweep and its results are served (``{name}`` stands for a figure)."""
    base = job_url("sweep", sweep_id)
    return {
        "self": base,
        "cancel": f"{base}/cancel",
        "retry": f"{base}/retry",
        "analysis": f"{base}/analysis",
        "table": f"{base}/table.csv",
        "figures": f"{base}/figures/{{name}}.png",
    }


def with_sweep_links(summary: dict, sweep_id: str) -> dict:
    """``summary`` with its stored figure names as {name: URL} and ``table_url`` set."""
    summary["figures"] = figure_links("sweep", sweep_id, summary.get("figures") or ())
    summary["table_url"] = sweep_links(sweep_id)["table"]
    return summary
