"""The sweep spec: a base experiment and a grid over its fields, and the grid's expansion
into one experiment spec per point.

A grid is either a product of ``axes`` (``{"dataset.label_noise": [0, 0.5], "training.seed":
[1, 2]}``: every combination, the first axis varying slowest) or an explicit list of
``points`` (``[{"dataset.label_noise": 0.1, "training.seed": 3}, ...]``, each setting the
same fields). Keys are dotted paths to leaves of :class:`~lesde_contract.specs.ExperimentSpec`
(:data:`SWEEP_PATHS`); a value replaces the base's value there.

:func:`plan_sweep` checks the whole grid before anything is created and either returns
every child's validated spec or raises :class:`SweepRejected` listing each problem as
``(field, message)``, the field being where in the posted body it lies
(``axes.dataset.label_nois``, ``points[3]``). Grid values are validated strictly: a
boolean is not taken for a number, nor a string for one.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lesde_contract.specs.experiment import EXAMPLE_EXPERIMENT, ExperimentSpec, WorkCapExceeded, WorkLimits, check_work_cap

__all__ = ["SWEEP_PATHS", "PlannedChild", "SweepRejected", "SweepSpec", "describe_point", "plan_sweep"]

MAX_PROBLEMS = 20  # a grid with one bad value can break hundreds of children; the first few say enough
NAME_LENGTH = 200  # ExperimentSpec.name's bound
_NAMED = re.compile(r"^(?P<field>[a-z_]+(?:\.[a-z_]+)+): (?P<message>.+)$", re.S)


def _leaf_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _leaf_paths(annotation, f"{prefix}{name}.")
        else:
            yield prefix + name


#: Every field a grid may vary: the experiment spec's leaves, but its ``name`` (a child's
#: name is the sweep's plus its grid values).
SWEEP_PATHS: tuple[str, ...] = tuple(path for path in _leaf_paths(ExperimentSpec) if path != "name")


class SweepSpec(BaseModel):
    """What a researcher POSTs to ``/v1/sweeps``: ``base`` plus exactly one of ``axes`` or ``points``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "name": "label noise, small",
            "base": {**EXAMPLE_EXPERIMENT, "name": None},
            "axes": {"dataset.label_noise": [0.0, 0.3, 0.6, 0.8]},
        }]},
    )  # fmt: skip

    name: str | None = Field(default=None, max_length=NAME_LENGTH, description="Label of the sweep; its children's names start with it.")
    base: ExperimentSpec = Field(description="The experiment every child starts from.")
    axes: dict[str, list[Any]] | None = Field(
        default=None,
        description="Dotted field path -> the values it takes; the grid is their product, the first axis varying slowest.",
    )
    points: list[dict[str, Any]] | None = Field(
        default=None, description="Explicit grid points, each a {dotted field path: value} setting the same fields."
    )

    @model_validator(mode="after")
    def _one_grid(self) -> SweepSpec:
        if (self.axes is None) == (self.points is None):
            raise ValueError("axes: give exactly one of axes (a product of value lists) or points (a list of explicit points)")
        return self

    @property
    def grid_field(self) -> str:
        """``"axes"`` or ``"points"``: the body field the grid was given in."""
        return "axes" if self.axes is not None else "points"

    @property
    def paths(self) -> list[str]:
        """The dotted paths the grid varies, in the order given."""
        if self.axes is not None:
            return list(self.axes)
        return list(self.points[0]) if self.points else []

    @property
    def size(self) -> int:
        """Number of grid points (computed without building them)."""
        if self.axes is not None:
            return math.prod(len(values) for values in self.axes.values()) if self.axes else 0
        return len(self.points or ())

    def iter_points(self) -> Iterator[dict[str, Any]]:
        """Every grid point, in grid order."""
        if self.axes is None:
            yield from (dict(point) for point in self.points or ())
            return
        for values in itertools.product(*self.axes.values()):
            yield dict(zip(self.axes, values, strict=True))


@dataclass(frozen=True)
class PlannedChild:
    """One grid point and the validated experiment spec that runs it."""

    index: int
    point: dict[str, Any]
    spec: ExperimentSpec


class SweepRejected(ValueError):
    """The grid cannot be run; ``problems`` lists ``(field, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def describe_point(point: dict[str, Any]) -> str:
    """``'dataset.label_noise=0.1, model.name="mlp"'``: JSON values, so ``"3"`` and ``3`` read apart."""
    return ", ".join(f"{path}={json.dumps(value)}" for path, value in point.items())


def plan_sweep(
    spec: SweepSpec,
    *,
    max_points: int,
    max_trial_iterations: int,
    max_sweep_trial_iterations: int,
    limits: WorkLimits | None = None,
    chunk_iterations: int | None = None,
) -> list[PlannedChild]:
    """Every child of ``spec`` in grid order, or :class:`SweepRejected` naming each problem.

    Caps: at most ``max_points`` points (``LESDE_MAX_SWEEP_POINTS``), each child at most
    ``max_trial_iterations`` (``LESDE_MAX_TRIAL_ITERATIONS``), all children together at most
    ``max_sweep_trial_iterations`` trial-iterations (``LESDE_MAX_SWEEP_TRIAL_ITERATIONS``).
    """
    problems = _grid_problems(spec)
    if spec.size > max_points:
        cap_problem = f"the grid has {spec.size:,} points; allowed range: 1 to {max_points:,} points (LESDE_MAX_SWEEP_POINTS)"
        raise SweepRejected([*problems, (spec.grid_field, cap_problem)])
    if problems:
        raise SweepRejected(problems)
    children: list[PlannedChild] = []
    found: dict[tuple[str, str], None] = {}  # (field, message), in order, once each
    costs: dict[tuple[str, str], None] = {}  # the same, for the other costs: named once the trial-iterations fit
    for index, point in enumerate(spec.iter_points()):
        child = _child_spec(spec, point)
        if isinstance(child, ValidationError):
            found.update(dict.fromkeys(_child_problems(spec, index, point, child)))
            continue
        if child.trial_iterations > max_trial_iterations:
            found[
                (
                    _point_field(spec, index),
                    (
                        f"the child with {describe_point(point)} asks for training.trials x training.iterations = "
                        f"{child.trial_iterations:,}; allowed range: 1 to {max_trial_iterations:,} trial-iterations per experiment "
                        "(LESDE_MAX_TRIAL_ITERATIONS)"
                    ),
                )
            ] = None
        else:
            try:  # evaluation, probe and features work, and the memory of a chunk (LESDE_MAX_WORK_UNITS, _CHUNK_BYTES)
                check_work_cap(child, max_trial_iterations, limits=limits, chunk_iterations=chunk_iterations)
            except WorkCapExceeded as error:
                costs[(_point_field(spec, index), f"the child with {describe_point(point)}: {'.'.join(error.field)}: {error}")] = None
        children.append(PlannedChild(index=index, point=point, spec=child))
    total = sum(child.spec.trial_iterations for child in children)
    if not found and total > max_sweep_trial_iterations:
        found[
            (
                spec.grid_field,
                (
                    f"the grid's {len(children)} children ask for {total:,} trial-iterations in all; allowed range: 1 to "
                    f"{max_sweep_trial_iterations:,} trial-iterations per sweep (LESDE_MAX_SWEEP_TRIAL_ITERATIONS)"
                ),
            )
        ] = None
    found = found or costs
    if found:
        raise SweepRejected(_at_most(list(found)))
    return children


def _at_most(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], ("body", f"and {len(problems) - MAX_PROBLEMS} more problems like these")]


# -- the grid's shape, checked before any child is built -------------------------------------
def _grid_problems(spec: SweepSpec) -> list[tuple[str, str]]:
    if spec.axes is not None:
        return _axes_problems(spec.axes)
    return _points_problems(spec.points or [])


def _axes_problems(axes: dict[str, list[Any]]) -> list[tuple[str, str]]:
    if not axes:
        return [("axes", "give at least one axis: {dotted field path: [values]}")]
    problems = []
    for path, values in axes.items():
        field = f"axes.{path}"
        if path not in SWEEP_PATHS:
            problems.append((field, _unknown_path(path)))
        elif not values:
            problems.append((field, "an axis needs at least one value"))
        else:
            problems.extend(
                (field, f"values [{first}] and [{again}] are equal ({values[again]!r}); each value once")
                for first, again in _repeats(values)
            )
    return problems


def _points_problems(points: list[dict[str, Any]]) -> list[tuple[str, str]]:
    if not points:
        return [("points", "give at least one point: [{dotted field path: value}, ...]")]
    problems: list[tuple[str, str]] = []
    unknown: dict[str, int] = {}  # an unknown path -> the first point that sets it
    for index, point in enumerate(points):
        if not point:
            problems.append((f"points[{index}]", "a point sets at least one field"))
        for path in point:
            if path not in SWEEP_PATHS:
                unknown.setdefault(path, index)
        if index and point and set(point) != set(points[0]):
            problems.append(
                (
                    f"points[{index}]",
                    f"sets {sorted(point)} but points[0] sets {sorted(points[0])}; every point must set the same fields",
                )
            )
    problems.extend((f"points[{index}].{path}", _unknown_path(path)) for path, index in unknown.items())
    problems.extend(
        (f"points[{again}]", f"same values as points[{first}] ({describe_point(points[again])}); each point once")
        for first, again in _repeats(points)
    )
    return problems


def _repeats(values: list[Any]) -> Iterator[tuple[int, int]]:
    """``(first index, later index)`` of every value equal to an earlier one (``1`` equals ``1.0``)."""
    seen: dict[Any, int] = {}
    for index, value in enumerate(values):
        key = _canonical(value)
        if key in seen:
            yield seen[key], index
        else:
            seen[key] = index


def _canonical(value: Any) -> Any:
    """A hashable form under which JSON values a field would take as equal are equal."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    if isinstance(value, list):
        return ("list", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((key, _canonical(item)) for key, item in value.items())))
    return ("other", repr(value))


def _unknown_path(path: str) -> str:
    if path == "name":
        return "a child's name is not a grid field: it is the sweep's name followed by its grid values"
    members = [known for known in SWEEP_PATHS if known.startswith(path + ".")]
    if members:
        return f"{path!r} is a group of fields; vary one of them: {', '.join(members)}"
    nearest = difflib.get_close_matches(path, SWEEP_PATHS, n=2, cutoff=0.8)
    if nearest:
        return f"unknown field path {path!r}; did you mean {' or '.join(nearest)}?"
    return f"unknown field path {path!r}; allowed: {', '.join(SWEEP_PATHS)}"


# -- each child, built and validated ----------------------------------------------------------
def _child_spec(spec: SweepSpec, point: dict[str, Any]) -> ExperimentSpec | ValidationError:
    """The base with ``point``'s values set, validated strictly (no bool or string taken for a number)."""
    child = copy.deepcopy(spec.base.model_dump(mode="json"))
    for path, value in point.items():
        group, _, leaf = path.rpartition(".")
        target = child
        for part in group.split(".") if group else ():
            target = target[part]
        target[leaf] = value
    prefix = spec.name or spec.base.name
    name = f"{prefix} [{describe_point(point)}]" if prefix else f"[{describe_point(point)}]"
    child["name"] = name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1] + "…"
    try:
        return ExperimentSpec.model_validate(child, strict=True)
    except ValidationError as error:
        return error


def _point_field(spec: SweepSpec, index: int) -> str:
    return f"points[{index}]" if spec.points is not None else "axes"


def _child_problems(spec: SweepSpec, index: int, point: dict[str, Any], error: ValidationError) -> list[tuple[str, str]]:
    """Where the invalid child's problems lie in the posted body, and what they are.

    On axes, a problem with one axis's value names that axis and value only, so the
    children that share the value report it once; a problem of a combination names the
    grid point.
    """
    details = []
    for item in error.errors():
        loc, message = ".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, ")
        named = _NAMED.match(message) if not loc else None  # a cross-field check names its field first
        details.append((named["field"], named["message"]) if named else (loc, message))
    if spec.points is not None:
        reason = "; ".join(f"{loc}: {message}" if loc else message for loc, message in details)
        return [(f"points[{index}]", f"the child with {describe_point(point)} is invalid: {reason}")]
    problems = []
    for loc, message in details:
        if loc in point:
            problems.append((f"axes.{loc}", f"the children with {describe_point({loc: point[loc]})} are invalid: {loc}: {message}"))
        else:
            reason = f"{loc}: {message}" if loc else message
            problems.append(("axes", f"grid point {index} ({describe_point(point)}) is invalid: {reason}"))
    return problems
