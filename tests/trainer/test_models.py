import numpy as np
import pytest
import torch
from lesde_trainer.models import InvalidModelSpec, build_model, initial_parameters, random_orthogonal


@pytest.mark.parametrize("name", ["lenet", "alexnet", "mlp"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_shapes_and_dtypes(name, channels, dtype):
    net = build_model(name, num_classes=4, in_channels=channels, dtype=dtype)
    x = torch.zeros(5, channels, 32, 32, dtype=dtype)
    logits, feats = net(x, return_features=True)
    assert logits.shape == (5, 4) and logits.dtype == dtype
    assert feats.shape == (5, net.body.feature_dim)


def test_lenet_layers():
    net = build_model("lenet", num_classes=3, in_channels=3)
    shapes = {n: tuple(p.shape) for n, p in net.named_parameters()}
    assert shapes["body.conv1.weight"] == (6, 3, 5, 5) and shapes["body.conv2.weight"] == (16, 6, 5, 5)
    assert shapes["body.fc1.weight"] == (120, 400) and shapes["body.fc2.weight"] == (84, 120)
    assert shapes["body.classifier.weight"] == (3, 84)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_orthogonal_head_is_orthogonal_fixed_and_seeded(dtype):
    net = build_model("lenet", num_classes=5, in_channels=1, head="random_orthogonal", head_seed=11, dtype=dtype)
    h = net.head.matrix
    tol = 1e-6 if dtype == torch.float32 else 1e-13
    assert torch.allclose(h @ h.T, torch.eye(5, dtype=dtype), atol=tol)
    assert "head.matrix" not in dict(net.named_parameters())  # fixed: not trained
    np.testing.assert_array_equal(random_orthogonal(5, seed=11), random_orthogonal(5, seed=11))
    assert not np.allclose(random_orthogonal(5, seed=11), random_orthogonal(5, seed=12))


def test_initial_parameters_pure_in_seed_and_trial():
    net = build_model("lenet", num_classes=3, in_channels=1)
    a = initial_parameters(net, seed=1, trial=4)
    b = initial_parameters(net, seed=1, trial=4)
    c = initial_parameters(net, seed=1, trial=5)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["body.fc1.weight"], c["body.fc1.weight"])
    assert np.abs(a["body.fc1.weight"]).max() <= 1 / np.sqrt(400)


@pytest.mark.parametrize("kwargs", [dict(name="resnet"), dict(head="learned"), dict(in_channels=2), dict(num_classes=1)])
def test_bad_model_spec(kwargs):
    args = dict(name="lenet", num_classes=3, in_channels=1)
    args.update(kwargs)
    with pytest.raises(InvalidModelSpec):
        build_model(args.pop("name"), **args)
