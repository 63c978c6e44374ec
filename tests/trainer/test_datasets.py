import pickle

import numpy as np
import pytest

from lesde_trainer.datasets import InvalidDataSpec, corrupt_labels, load_dataset
from lesde_trainer.datasets.geomnist import generate_geomnist_class


def test_geomnist_is_deterministic_and_shaped():
    a = load_dataset("geomnist", classes=["ellipse", "triangle"], train_per_class=12, val_per_class=5, seed=7)
    b = load_dataset("geomnist", classes=["ellipse", "triangle"], train_per_class=12, val_per_class=5, seed=7)
    c = load_dataset("geomnist", classes=["ellipse", "triangle"], train_per_class=12, val_per_class=5, seed=8)
    assert a.x_train.shape == (24, 1, 32, 32) and a.x_val.shape == (10, 1, 32, 32)
    assert a.x_train.dtype == np.float32 and 0 <= a.x_train.min() and a.x_train.max() <= 1
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.class_names == ("ellipse", "triangle")
    np.testing.assert_array_equal(a.y_train, np.repeat([0, 1], 12))


def test_geomnist_class_order_follows_the_caller():
    ab = load_dataset("geomnist", classes=["rectangle", "ellipse"], train_per_class=6, val_per_class=2, seed=1)
    ba = load_dataset("geomnist", classes=["ellipse", "rectangle"], train_per_class=6, val_per_class=2, seed=1)
    # The same rectangles (train + val together) carry label 0 in one and label 1 in the other.
    def pool(d, label):
        imgs = np.concatenate([d.x_train[d.y_train == label], d.x_val[d.y_val == label]])
        return sorted(i.tobytes() for i in imgs)
    assert pool(ab, 0) == pool(ba, 1) and pool(ab, 1) == pool(ba, 0)


def test_geomnist_rotation_spans_the_class():
    images = generate_geomnist_class("rectangle", 5, seed=0)
    assert images.shape == (5, 1, 32, 32)
    # 0 and 176 degrees look alike for a rectangle, 88 degrees does not.
    assert np.abs(images[0] - images[-1]).mean() < np.abs(images[0] - images[2]).mean()


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 2 / 3, 0.8])
def test_corruption_fraction_exact_and_spread_evenly(p):
    data = load_dataset("geomnist", classes=["triangle", "rectangle", "ellipse"], train_per_class=30,
                        val_per_class=4, label_noise=p, seed=2)
    np.testing.assert_array_equal(data.corrupted, data.y_train != data.y_train_true)
    np.testing.assert_array_equal(data.y_train_true, np.repeat([0, 1, 2], 30))
    np.testing.assert_array_equal(data.y_val, np.repeat([0, 1, 2], 4))  # validation stays clean
    for k in range(3):
        moved = data.y_train[(data.y_train_true == k) & data.corrupted]
        assert moved.size == round(p * 30)
        counts = np.bincount(moved, minlength=3)
        assert counts[k] == 0 and abs(counts[(k + 1) % 3] - counts[(k + 2) % 3]) <= 1


def test_corrupt_labels_deterministic():
    labels = np.repeat(np.arange(4), 10)
    a = corrupt_labels(labels, num_classes=4, fraction=0.3, rng=np.random.default_rng(1))
    b = corrupt_labels(labels, num_classes=4, fraction=0.3, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert (a != labels).sum() == 12


def test_digits_32x32():
    data = load_dataset("digits", classes=["7", "0", "3"], train_per_class=50, val_per_class=20, seed=0)
    assert data.x_train.shape == (150, 1, 32, 32) and data.x_val.shape == (60, 1, 32, 32)
    assert data.class_names == ("7", "0", "3")
    from sklearn.datasets import load_digits
    raw = load_digits()
    # Downsampling our image back to 8x8 recovers a real "7".
    small = data.x_train[0, 0].reshape(8, 4, 8, 4).mean(axis=(1, 3)) * 16
    nearest = np.argmin(np.abs(raw.images - small).mean(axis=(1, 2)))
    assert raw.target[nearest] == 7


def _write_fake_cifar(root, per_batch=12, test=20, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, count in [*[(f"data_batch_{i}", per_batch) for i in range(1, 6)], ("test_batch", test)]:
        labels = [int(v) for v in np.arange(count) % 10]
        entry = {"batch_label": name, "labels": labels, "data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                 "filenames": [f"{name}_{i}.png" for i in range(count)]}
        with open(folder / name, "wb") as handle:
            pickle.dump(entry, handle, protocol=2)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": names, "num_cases_per_batch": per_batch, "num_vis": 3072}, handle, protocol=2)
    return folder


def test_cifar10_from_torchvision_layout(tmp_path):
    folder = _write_fake_cifar(tmp_path)
    data = load_dataset("cifar10", classes=["cat", "airplane"], train_per_class=5, val_per_class=2, seed=0,
                        root=tmp_path)
    assert data.x_train.shape == (10, 3, 32, 32) and data.x_val.shape == (4, 3, 32, 32)
    with open(folder / "data_batch_1", "rb") as handle:
        raw = pickle.load(handle, encoding="latin1")
    cats = raw["data"][np.array(raw["labels"]) == 3].reshape(-1, 3, 32, 32)
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.2470, 0.2435, 0.2616])
    restored = np.rint((data.x_train[data.y_train == 0] * std[:, None, None] + mean[:, None, None]) * 255)
    # Every training cat of batch 1 is among the loaded images with label 0 ("cat").
    distances = np.abs(restored[:, None] - cats[None].astype(np.float64)).max(axis=(2, 3, 4))
    assert np.all(distances.min(axis=0) == 0)
    assert abs(data.x_train.mean()) < 1.0


def test_cifar10_missing_dir_names_the_path(tmp_path):
    with pytest.raises(InvalidDataSpec, match="cifar-10-batches-py"):
        load_dataset("cifar10", classes=["cat", "dog"], train_per_class=5, val_per_class=2, root=tmp_path / "nope")


def test_cifar10_too_few_samples(tmp_path):
    _write_fake_cifar(tmp_path)
    with pytest.raises(InvalidDataSpec, match="train_per_class"):
        load_dataset("cifar10", classes=["cat", "dog"], train_per_class=7, val_per_class=2, root=tmp_path)


@pytest.mark.parametrize("kwargs, field", [
    (dict(name="mnist"), "name"),
    (dict(classes=["triangle", "hexagon"]), "classes"),
    (dict(classes=["triangle"]), "classes"),
    (dict(classes=["triangle", "triangle"]), "classes"),
    (dict(label_noise=1.0), "label_noise"),
    (dict(label_noise=-0.1), "label_noise"),
    (dict(train_per_class=0), "train_per_class"),
])
def test_bad_requests_raise_domain_errors(kwargs, field):
    args = dict(name="geomnist", classes=["triangle", "ellipse"], train_per_class=4, val_per_class=2)
    args.update(kwargs)
    with pytest.raises(InvalidDataSpec, match=field) as info:
        load_dataset(args.pop("name"), **args)
    assert isinstance(info.value, ValueError)


def test_digits_too_many_samples():
    with pytest.raises(InvalidDataSpec, match="train_per_class"):
        load_dataset("digits", classes=["1", "2"], train_per_class=170, val_per_class=30)
