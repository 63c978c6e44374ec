import pytest
from lesde_contract.specs.simulation import MAX_SIMULATION_WORK, PhaseDiagramSpec, SimulationSpec
from pydantic import ValidationError


@pytest.mark.parametrize(
    "field, value",
    [
        ("classes", 1),
        ("classes", 21),
        ("dim", 0),
        ("samples_per_class", 0),
        ("sigma", -0.1),
        ("step", 0.0),
        ("steps", 0),
        ("runs", 10_001),
        ("seed", -1),
        ("record_every", 0),
        ("mode", "euler"),
        ("model", "X"),
    ],
)
def test_out_of_range_fields_name_the_field(field, value):
    with pytest.raises(ValidationError) as exc:
        SimulationSpec(**{field: value})
    assert field in str(exc.value)


def test_schedule_union_and_nested_bounds():
    spec = SimulationSpec(alpha={"kind": "power", "scale": 1.0, "exponent": 0.5}, beta={"kind": "constant", "value": 0.1})
    assert spec.alpha.kind == "power" and spec.beta.value == 0.1
    with pytest.raises(ValidationError, match="exponent"):
        SimulationSpec(alpha={"kind": "power", "scale": 1.0, "exponent": -1})
    with pytest.raises(ValidationError, match="alpha.values"):
        SimulationSpec(steps=10, alpha={"kind": "array", "values": [1.0] * 5})
    with pytest.raises(ValidationError, match="kind"):
        SimulationSpec(alpha={"kind": "cubic", "value": 1.0})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(model="L", classes=3, dim=2), "dim"),
        (dict(runs=10_000, steps=10_000, samples_per_class=10, record_every=100), "runs"),
        (dict(class_weights=[1.0, 2.0, 3.0]), "class_weights"),
        (dict(steps=10, record_every=20), "record_every"),
        (dict(runs=1000, samples_per_class=1000), "samples_per_class"),
    ],
)
def test_model_level_checks_name_the_field(kwargs, name):
    with pytest.raises(ValidationError) as exc:
        SimulationSpec(**kwargs)
    assert name in str(exc.value)


def test_work_cap_constant_is_documented_value():
    assert MAX_SIMULATION_WORK == 50_000_000
    assert SimulationSpec(model="L", classes=3).p == 3


def test_phase_diagram_grid_bounds():
    spec = PhaseDiagramSpec(grid={"kind": "exponent", "exponents": [0.5, 1.5]})
    assert spec.size == 2
    with pytest.raises(ValidationError, match="gaps"):
        PhaseDiagramSpec(grid={"kind": "gap", "gaps": [0.1] * 65})
    with pytest.raises(ValidationError, match="grid"):
        PhaseDiagramSpec(
            base={"runs": 400, "steps": 10000, "samples_per_class": 5, "record_every": 100}, grid={"kind": "gap", "gaps": [0.1] * 10}
        )
