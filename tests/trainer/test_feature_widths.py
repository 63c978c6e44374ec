"""The spec's cost model knows each network's feature width; the trainer's networks agree."""

from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.experiment import FEATURE_WIDTHS
from lesde_trainer.models import MODELS, build_model

CUSTOM = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 12},
    {"type": "tanh"},
    {"type": "linear", "out_features": 3},
]


def test_every_model_has_its_feature_width_in_the_spec():
    built_in = {name: model.feature_dim for name, model in MODELS.items() if name != "custom"}
    assert built_in == FEATURE_WIDTHS


def test_a_custom_networks_feature_width_is_its_classifiers_input():
    spec = ExperimentSpec.model_validate({"model": {"name": "custom", "layers": CUSTOM}})
    net = build_model("custom", num_classes=3, in_channels=1, layers=CUSTOM)
    assert spec.feature_width == net.body.feature_dim == 12
