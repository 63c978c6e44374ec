"""A sweep's children: the contract between the gateway (which creates them) and the
analyzer (which compares them).

A sweep is a grid of ordinary experiments. Its record is a :class:`~lesde_contract.records.JobRecord`
of kind ``"sweep"`` (``sweeps/<id>/status.json``); its spec is what the user posted
(``sweeps/<id>/spec.json``); which experiment runs which grid point is kept once, in
``sweeps/<id>/children.json`` (:func:`lesde_contract.object_keys.sweep_children_key`), written by the
gateway when the sweep is created and read by everyone after. Each child's own record
carries ``sweep_id``. Grid values are keyed by dotted field paths of the experiment spec
(``"dataset.label_noise"``), in the order the axes were given.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound, ObjectStore


class SweepChild(BaseModel):
    """One grid point and the experiment that runs it."""

    index: int = Field(ge=0, description="Position of the point in the grid (axes' product order, or the points' list order).")
    experiment_id: str
    point: dict[str, Any] = Field(description="Dotted spec field path -> the value this child uses.")


class SweepChildren(BaseModel):
    """Every child of one sweep, in grid order."""

    axes: list[str] = Field(description="The dotted field paths the grid varies, in the order given.")
    children: list[SweepChild]

    def experiment_ids(self) -> list[str]:
        return [child.experiment_id for child in self.children]


class SweepNotFound(LookupError):
    """No children file: the sweep does not exist (or is half-created / being deleted)."""


def write_children(store: ObjectStore, sweep_id: str, children: SweepChildren) -> None:
    store.put_json(object_keys.sweep_children_key(sweep_id), children.model_dump(mode="json"))


def read_children(store: ObjectStore, sweep_id: str) -> SweepChildren:
    try:
        return SweepChildren.model_validate(store.get_json(object_keys.sweep_children_key(sweep_id)))
    except ObjectNotFound:
        raise SweepNotFound(f"no sweep with id {sweep_id!r}") from None
