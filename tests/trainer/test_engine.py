import inspect
import pickle

import numpy as np
import pytest
import torch
from lesde_trainer.engine import EnsembleTrainer, InvalidTrainingSpec, train_naive
from lesde_trainer.engine.kernel import ConvBackend, Kernel


def make(data, **kwargs):
    args = dict(
        model="lenet",
        num_classes=3,
        in_channels=1,
        dtype=torch.float64,
        trials=4,
        lr=0.05,
        seed=9,
        x_train=data.x_train,
        y_train=data.y_train,
        y_train_true=data.y_train_true,
    )
    args.update(kwargs)
    return EnsembleTrainer(**args)


def test_block_shapes_and_bookkeeping(geomnist_small):
    engine = make(geomnist_small, dtype=torch.float32)
    block = engine.train(7)
    np.testing.assert_array_equal(block.iterations, np.arange(7))
    assert block.index.shape == block.label.shape == block.true_label.shape == block.loss.shape == (7, 4)
    assert block.logits.shape == (7, 4, 3) and block.logits.dtype == np.float32
    np.testing.assert_array_equal(block.label, geomnist_small.y_train[block.index])
    assert engine.iteration == 7
    np.testing.assert_array_equal(engine.train(3).iterations, [7, 8, 9])
    # Loss logged is the cross-entropy of the logged logits.
    z = block.logits.astype(np.float64)
    ce = np.log(np.exp(z).sum(-1)) - np.take_along_axis(z, block.label[..., None], -1)[..., 0]
    np.testing.assert_allclose(block.loss, ce, rtol=1e-5, atol=1e-6)


def test_per_class_block_draws_one_sample_per_class(geomnist_small):
    block = make(geomnist_small, batching="per_class").train(5)
    assert block.index.shape == (5, 4, 3) and block.logits.shape == (5, 4, 3, 3)
    np.testing.assert_array_equal(block.label, np.broadcast_to(np.arange(3), (5, 4, 3)))


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
@pytest.mark.parametrize("batching", ["single", "per_class"])
@pytest.mark.parametrize("head", ["none", "random_orthogonal"])
def test_engine_matches_naive_loop(geomnist_small, dtype, tol, batching, head):
    engine = make(geomnist_small, dtype=dtype, trials=3, batching=batching, head=head)
    block = engine.train(50)
    for trial in (0, 2):
        logits, final = train_naive(
            model="lenet",
            num_classes=3,
            in_channels=1,
            dtype=dtype,
            trial=trial,
            lr=0.05,
            seed=9,
            iterations=50,
            x_train=geomnist_small.x_train,
            y_train=geomnist_small.y_train,
            batching=batching,
            head=head,
        )
        mine = block.logits[:, trial] if batching == "per_class" else block.logits[:, trial, None]
        np.testing.assert_allclose(mine, logits, atol=tol, rtol=0)
        state = engine.state_dict()
        for name, value in final.items():
            np.testing.assert_allclose(state[f"param/{name}"][trial], value, atol=tol, rtol=0)
    assert np.abs(block.logits[-1] - block.logits[0]).max() > 1e-3  # it did train


@pytest.mark.parametrize("model", ["alexnet", "mlp"])
def test_generic_models_match_naive_loop(geomnist_small, model):
    engine = make(geomnist_small, model=model, trials=2)
    block = engine.train(10)
    logits, _ = train_naive(
        model=model,
        num_classes=3,
        in_channels=1,
        dtype=torch.float64,
        trial=1,
        lr=0.05,
        seed=9,
        iterations=10,
        x_train=geomnist_small.x_train,
        y_train=geomnist_small.y_train,
    )
    np.testing.assert_allclose(block.logits[:, 1, None], logits, atol=1e-12, rtol=0)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_trial_in_ensemble_matches_trial_alone(geomnist_small, dtype, tol):
    ensemble = make(geomnist_small, dtype=dtype, trials=5).train(40)
    alone = make(geomnist_small, dtype=dtype, trials=1, trial_offset=3).train(40)
    np.testing.assert_array_equal(alone.index[:, 0], ensemble.index[:, 3])
    np.testing.assert_allclose(alone.logits[:, 0], ensemble.logits[:, 3], atol=tol, rtol=0)


@pytest.mark.parametrize("batching", ["single", "per_class"])
def test_resume_is_bitwise(geomnist_small, batching):
    straight = make(geomnist_small, dtype=torch.float32, batching=batching)
    whole = straight.train(30)
    first = make(geomnist_small, dtype=torch.float32, batching=batching)
    part1 = first.train(12)
    state = pickle.loads(pickle.dumps(first.state_dict()))
    resumed = make(geomnist_small, dtype=torch.float32, batching=batching)
    resumed.load_state_dict(state)
    assert resumed.iteration == 12
    part2 = resumed.train(18)
    np.testing.assert_array_equal(np.concatenate([part1.logits, part2.logits]), whole.logits)
    np.testing.assert_array_equal(np.concatenate([part1.index, part2.index]), whole.index)
    end_a, end_b = straight.state_dict(), resumed.state_dict()
    for key in end_a:
        np.testing.assert_array_equal(end_a[key], end_b[key])


def test_block_boundaries_do_not_matter(geomnist_small):
    a = make(geomnist_small, dtype=torch.float32)
    b = make(geomnist_small, dtype=torch.float32)
    whole = a.train(20)
    pieces = [b.train(n) for n in (1, 6, 13)]
    np.testing.assert_array_equal(np.concatenate([p.logits for p in pieces]), whole.logits)


@pytest.mark.parametrize("kernel", ["lenet", "functional"])
def test_probes_match_the_module(geomnist_small, kernel):
    engine = make(geomnist_small, kernel=kernel, head="random_orthogonal", eval_chunk=5)
    engine.train(20)
    x, y = geomnist_small.x_val, geomnist_small.y_val
    logits, feats = engine.logits(x), engine.features(x)
    assert logits.shape == (4, 24, 3) and feats.shape == (4, 24, 84)
    from lesde_trainer.models import build_model

    net = build_model("lenet", num_classes=3, in_channels=1, head="random_orthogonal", head_seed=9, dtype=torch.float64)
    state = engine.state_dict()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.as_tensor(state[f"param/{name}"][2]))
        ref_logits, ref_feats = net(torch.as_tensor(x, dtype=torch.float64), return_features=True)
    np.testing.assert_allclose(logits[2], ref_logits.numpy(), atol=1e-12)
    np.testing.assert_allclose(feats[2], ref_feats.numpy(), atol=1e-12)
    loss, acc = engine.evaluate(x, y)
    ref_loss = torch.nn.functional.cross_entropy(ref_logits, torch.as_tensor(y)).item()
    assert loss.shape == acc.shape == (4,)
    np.testing.assert_allclose(loss[2], ref_loss, atol=1e-12)
    assert acc[2] == np.mean(ref_logits.argmax(1).numpy() == y)


def test_learns_geomnist(geomnist_small):
    engine = make(geomnist_small, dtype=torch.float32, trials=3, lr=0.02, batching="per_class")
    before, _ = engine.evaluate(geomnist_small.x_train, geomnist_small.y_train)
    engine.train(300)
    after, _ = engine.evaluate(geomnist_small.x_train, geomnist_small.y_train)
    assert np.all(after < before)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(model="resnet"), "model"),
        (dict(trials=0), "trials"),
        (dict(lr=-1.0), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(batching="full"), "batching"),
        (dict(head="learned"), "head"),
        (dict(dtype=torch.float16), "dtype"),
        (dict(num_classes=2), "y_train"),
        (dict(in_channels=3), "x_train"),
        (dict(trial_offset=-1), "trial_offset"),
        (dict(kernel="lenet", model="mlp"), "kernel"),
    ],
)
def test_bad_engine_options(geomnist_small, kwargs, field):
    with pytest.raises(InvalidTrainingSpec, match=field):
        make(geomnist_small, **kwargs)


def test_state_from_another_run_is_refused(geomnist_small):
    state = make(geomnist_small, seed=1).state_dict()
    with pytest.raises(InvalidTrainingSpec, match="seed"):
        make(geomnist_small, seed=2).load_state_dict(state)


def test_probes_match_the_module_with_three_channels(rng):
    # The shared inference path orders patches by (channel, row, column); check C > 1 and a chunk
    # that does not divide N.
    x = rng.normal(size=(7, 3, 32, 32))
    engine = EnsembleTrainer(
        model="lenet",
        num_classes=3,
        in_channels=3,
        dtype=torch.float64,
        trials=3,
        lr=0.05,
        seed=4,
        x_train=x,
        y_train=np.array([0, 1, 2, 0, 1, 2, 0]),
        eval_chunk=3,
    )
    engine.train(5)
    from lesde_trainer.models import build_model

    net = build_model("lenet", num_classes=3, in_channels=3, dtype=torch.float64)
    state = engine.state_dict()
    logits = engine.logits(x)
    for trial in range(3):
        with torch.no_grad():
            for name, p in net.named_parameters():
                p.copy_(torch.as_tensor(state[f"param/{name}"][trial]))
            ref = net(torch.as_tensor(x))
        np.testing.assert_allclose(logits[trial], ref.numpy(), atol=1e-12)


# ---------------------------------------------------------------- the kernel interfaces
def assert_satisfies(obj, protocol):
    """``isinstance`` on the runtime-checkable Protocol checks the names only; also compare
    each method's parameters (names and kinds, ``self`` aside)."""
    assert isinstance(obj, protocol)
    for name, member in vars(protocol).items():
        if inspect.isfunction(member) and not name.startswith("_"):
            expected = [(p.name, p.kind) for p in list(inspect.signature(member).parameters.values())[1:]]
            actual = [(p.name, p.kind) for p in inspect.signature(getattr(obj, name)).parameters.values()]
            assert actual == expected, f"{type(obj).__name__}.{name}"


@pytest.mark.parametrize("kernel, convs", [("lenet", "direct"), ("lenet", "im2col"), ("functional", "auto")])
def test_every_kernel_satisfies_the_kernel_protocol(geomnist_small, kernel, convs):
    engine = make(geomnist_small, dtype=torch.float32, kernel=kernel, convs=convs)
    assert_satisfies(engine._kernel, Kernel)
    if kernel == "lenet":
        assert_satisfies(engine._kernel.convs, ConvBackend)


# ---------------------------------------------------------------- deferred (lazy) fc updates
def make_torch_lenet(data, **kwargs):
    """An engine on the torch LeNet kernel (the one with deferred fc updates)."""
    return make(data, kernel="lenet", **kwargs)


def with_window(engine, window):
    """Rebuild the engine's LeNet kernel on the same parameters with another folding window."""
    from lesde_trainer.engine.lenet_kernel import LeNetKernel

    engine._kernel = LeNetKernel(engine._kernel.params, head=engine._kernel.head, window=window)
    return engine


@pytest.mark.parametrize("batching", ["single", "per_class"])
def test_deferred_updates_match_eager_updates(geomnist_small, batching):
    # Window 5 does not divide the 23 iterations: the last window is cut short.
    eager = with_window(make_torch_lenet(geomnist_small, batching=batching, head="random_orthogonal"), 1)
    lazy = with_window(make_torch_lenet(geomnist_small, batching=batching, head="random_orthogonal"), 5)
    a, b = eager.train(23), lazy.train(23)
    np.testing.assert_allclose(b.logits, a.logits, atol=1e-12, rtol=0)
    state_a, state_b = eager.state_dict(), lazy.state_dict()
    assert "pending/steps" not in state_a and state_b["pending/steps"] == 3
    for name in state_a:
        if name.startswith("param/"):
            np.testing.assert_allclose(state_b[name], state_a[name], atol=1e-12, rtol=0)
    x = geomnist_small.x_val
    np.testing.assert_allclose(lazy.logits(x), eager.logits(x), atol=1e-12, rtol=0)
    np.testing.assert_allclose(lazy.features(x), eager.features(x), atol=1e-12, rtol=0)


def test_state_dict_mid_window_leaves_the_run_alone(geomnist_small):
    quiet = with_window(make_torch_lenet(geomnist_small, dtype=torch.float32), 4)
    probed = with_window(make_torch_lenet(geomnist_small, dtype=torch.float32), 4)
    whole = quiet.train(14)
    part1 = probed.train(6)
    state = probed.state_dict()  # 2 steps into the second window
    assert state["pending/steps"] == 2 and state["pending/body.fc1.weight/grads"].shape == (4, 2, 120)
    probed.logits(geomnist_small.x_val)
    part2 = probed.train(8)
    np.testing.assert_array_equal(np.concatenate([part1.logits, part2.logits]), whole.logits)
    np.testing.assert_array_equal(probed.state_dict()["param/body.fc1.weight"], quiet.state_dict()["param/body.fc1.weight"])


@pytest.mark.parametrize("split", [3, 4, 8])  # mid-window, at a boundary, in a later window
def test_resume_across_windows_is_bitwise(geomnist_small, split):
    straight = with_window(make_torch_lenet(geomnist_small, dtype=torch.float32, batching="per_class"), 4)
    whole = straight.train(11)
    first = with_window(make_torch_lenet(geomnist_small, dtype=torch.float32, batching="per_class"), 4)
    part1 = first.train(split)
    state = pickle.loads(pickle.dumps(first.state_dict()))
    assert ("pending/steps" in state) == (split % 4 != 0)
    resumed = with_window(make_torch_lenet(geomnist_small, dtype=torch.float32, batching="per_class"), 4)
    resumed.train(2)  # pending rows of its own, which loading must discard
    resumed.load_state_dict(state)
    part2 = resumed.train(11 - split)
    np.testing.assert_array_equal(np.concatenate([part1.logits, part2.logits]), whole.logits)
    end_a, end_b = straight.state_dict(), resumed.state_dict()
    assert end_a.keys() == end_b.keys()
    for key in end_a:
        np.testing.assert_array_equal(end_a[key], end_b[key])


def test_state_without_pending_entries_still_loads(geomnist_small):
    # A checkpoint written before deferred updates existed: its parameters are taken as they are.
    source = with_window(make_torch_lenet(geomnist_small), 1)
    source.train(6)
    state = source.state_dict()
    target = with_window(make_torch_lenet(geomnist_small), 4)
    target.train(3)
    target.load_state_dict(state)
    x = geomnist_small.x_val
    np.testing.assert_array_equal(target.logits(x), source.logits(x))
    np.testing.assert_allclose(target.train(5).logits, source.train(5).logits, atol=1e-12, rtol=0)


def test_transposed_copy_follows_the_base_weight(geomnist_small):
    # The input gradient of a deferred layer reads W0^T from a copy: it must track every fold and load.
    engine = with_window(make_torch_lenet(geomnist_small, dtype=torch.float32), 4)
    fc1 = engine._kernel.fc[0]
    for n in (3, 1, 6):
        engine.train(n)
        assert torch.equal(fc1.weight_t, fc1.weight.transpose(1, 2))
    state = engine.state_dict()
    engine.train(2)
    engine.load_state_dict(state)
    assert torch.equal(fc1.weight_t, fc1.weight.transpose(1, 2))


# ---------------------------------------------------------------- mini-batches
def test_mini_batches_draw_their_own_samples_and_match_across_kernels(geomnist_small):
    torch_kernel = make(geomnist_small, batch_size=4, kernel="lenet")
    generic = make(geomnist_small, batch_size=4, kernel="functional")
    assert torch_kernel.backend != "lenet/native"  # the C kernel trains batch size 1 only
    a, b = torch_kernel.train(15), generic.train(15)
    assert a.index.shape == a.label.shape == (15, 4, 4) and a.logits.shape == (15, 4, 4, 3)
    np.testing.assert_array_equal(a.index, b.index)
    assert len({tuple(row) for row in a.index.reshape(-1, 4).tolist()}) > 50  # the 4 slots are not one draw repeated
    np.testing.assert_allclose(a.logits, b.logits, atol=1e-12, rtol=0)


def test_mini_batch_runs_resume_bit_for_bit(geomnist_small):
    whole = make(geomnist_small, batch_size=3, dtype=torch.float32).train(12)
    first = make(geomnist_small, batch_size=3, dtype=torch.float32)
    part1 = first.train(5)
    resumed = make(geomnist_small, batch_size=3, dtype=torch.float32)
    resumed.load_state_dict(pickle.loads(pickle.dumps(first.state_dict())))
    np.testing.assert_array_equal(np.concatenate([part1.logits, resumed.train(7).logits]), whole.logits)
