"""The spec's cost model knows each network's feature width; the trainer's networks agree."""

from lesde.specs.experiment import FEATURE_WIDTHS
from lesde_trainer.models import MODELS


def test_every_model_has_its_feature_width_in_the_spec():
    assert {name: model.feature_dim for name, model in MODELS.items()} == FEATURE_WIDTHS
