import pickle

import numpy as np
import pytest
from lesde_trainer.datasets import InvalidDataSpec, corrupt_labels, geomnist, load_dataset
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


NOMINAL = {"rectangle": geomnist.RECTANGLE_SIZE, "triangle": geomnist.TRIANGLE_SIZE, "ellipse": geomnist.ELLIPSE_SEMI_AXES}


def _mask_moments(coverage):
    """Area, centre (x, y) and variances (x, y) in px of a (32, 32) coverage mask.

    Coverage sits at pixel centres, which drops each pixel's own spread: Sheppard's
    correction adds it back (1/12 px^2), so a w-wide box has variance exactly w^2 / 12.
    """
    axis = np.arange(32) + 0.5 - 16
    x, y = np.meshgrid(axis, axis, indexing="xy")
    area = coverage.sum()
    cx, cy = (coverage * x).sum() / area, (coverage * y).sum() / area
    vx = (coverage * (x - cx) ** 2).sum() / area + 1 / 12
    vy = (coverage * (y - cy) ** 2).sum() / area + 1 / 12
    return area, cx, cy, vx, vy


def _unrotated(shape, dims):
    return geomnist.rasterise(shape, angles_deg=[0.0], dims=[dims], offsets=[[0.0, 0.0]])[0]


def test_geomnist_rectangle_is_8_by_16():
    mask = _unrotated("rectangle", geomnist.RECTANGLE_SIZE)
    area, cx, cy, vx, vy = _mask_moments(mask)
    # Edges at whole pixels: the mask is exactly 8 columns by 16 rows of ones.
    assert (mask.max(axis=0) > 0).sum() == 8 and (mask.max(axis=1) > 0).sum() == 16
    assert set(np.unique(mask)) == {0.0, 1.0} and area == 128
    np.testing.assert_allclose([cx, cy, np.sqrt(12 * vx), np.sqrt(12 * vy)], [0, 0, 8, 16], atol=1e-12)


def test_geomnist_triangle_is_isosceles_base_20_height_22_centred_on_its_centroid():
    mask = _unrotated("triangle", geomnist.TRIANGLE_SIZE)
    area, cx, cy, vx, vy = _mask_moments(mask)
    # Isosceles triangle, base b along x, height h: area b h / 2, var_x = b^2/24, var_y = h^2/18.
    assert abs(area - 220) < 2  # the base (y = 22/3) is off the 1/4 px sampling grid
    assert abs(np.sqrt(24 * vx) - 20) < 0.1 and abs(np.sqrt(18 * vy) - 22) < 0.1
    assert abs(cx) < 1e-12 and abs(cy) < 0.1  # centroid at the image centre
    assert (mask.max(axis=0) > 0).sum() == 20  # base corners at x = -10 and 10, pixel edges
    assert np.allclose(mask, mask[:, ::-1])  # symmetric about the vertical axis
    rows = np.flatnonzero(mask.max(axis=1) > 0)
    assert rows[0] == 1 and rows[-1] == 23  # apex up at y = -44/3, base at y = 22/3 (row 0 is the top)


def test_geomnist_ellipse_semi_axes_6_by_12_jittered_by_1px():
    params = geomnist.sample_parameters("ellipse", 40, seed=5)
    semi = params.dims
    assert np.all(np.abs(semi - [6, 12]) <= 1) and semi.std(axis=0).min() > 0.3  # jittered, within +-1
    assert not np.allclose(semi[:, 0] - 6, semi[:, 1] - 12)  # each semi-axis drawn on its own
    np.testing.assert_array_equal(params.offsets, 0)
    masks = geomnist.rasterise("ellipse", angles_deg=np.zeros(40), dims=semi, offsets=params.offsets)
    for mask, (a, b) in zip(masks, semi):
        area, cx, cy, vx, vy = _mask_moments(mask)
        # Ellipse with semi-axes a, b: area pi a b, var_x = a^2/4, var_y = b^2/4.
        assert abs(area / (np.pi * a * b) - 1) < 0.02
        assert abs(2 * np.sqrt(vx) - a) < 0.1 and abs(2 * np.sqrt(vy) - b) < 0.1


@pytest.mark.parametrize("shape", ["rectangle", "triangle"])
def test_geomnist_rectangle_and_triangle_shift_by_1px(shape):
    params = geomnist.sample_parameters(shape, 40, seed=5)
    np.testing.assert_array_equal(params.dims, np.broadcast_to(NOMINAL[shape], (40, 2)))
    assert np.all(np.abs(params.offsets) <= 1) and params.offsets.std(axis=0).min() > 0.3
    masks = geomnist.rasterise(shape, angles_deg=np.zeros(40), dims=params.dims, offsets=params.offsets)
    centred = _mask_moments(_unrotated(shape, NOMINAL[shape]))
    for mask, (dx, dy) in zip(masks, params.offsets):
        _, cx, cy, _, _ = _mask_moments(mask)
        # Sampled at 1/4 px, a shifted shape's centre moves by the shift up to edge
        # quantisation (well under the 1 px jitter).
        assert abs(cx - centred[1] - dx) < 0.2 and abs(cy - centred[2] - dy) < 0.2


def test_geomnist_parameters_angles_linear_and_blur_range():
    for shape in geomnist.CLASS_NAMES:
        params = geomnist.sample_parameters(shape, 23, seed=1)
        np.testing.assert_allclose(params.angles_deg, 176 * np.arange(23) / 22)
        assert np.all((0.9 <= params.sigmas) & (params.sigmas <= 1.1)) and params.sigmas.std() > 0.03
    assert geomnist.sample_parameters("triangle", 1, seed=1).angles_deg.tolist() == [0.0]


def test_geomnist_rotation_by_90_degrees_transposes_the_mask():
    # Rotating by 90 degrees about the centre maps pixel (row, col) to a transposed,
    # flipped pixel exactly (the sampling grid is symmetric about the centre).
    for shape in geomnist.CLASS_NAMES:
        dims = [NOMINAL[shape]]
        upright, turned = geomnist.rasterise(shape, angles_deg=[0.0, 90.0], dims=dims * 2, offsets=[[0, 0]] * 2)
        # p = R(90) q sends the shape's (u, v) to (x, y) = (-v, u): clockwise on screen.
        np.testing.assert_allclose(turned, upright.T[:, ::-1], atol=1e-12)


def _scipy_blur(image, sigma):
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(image, sigma, mode="constant", truncate=4.0)


def test_geomnist_blur_matches_scipy_gaussian_filter():
    rng = np.random.default_rng(0)
    images, sigmas = rng.random((3, 32, 32)), np.array([0.9, 1.0, 1.1])
    expected = [_scipy_blur(image, sigma) for image, sigma in zip(images, sigmas)]
    np.testing.assert_allclose(geomnist.gaussian_blur(images, sigmas=sigmas), expected, atol=1e-14)


def test_geomnist_images_are_the_blurred_masks_and_deterministic():
    images = generate_geomnist_class("triangle", 7, seed=3)
    np.testing.assert_array_equal(images, generate_geomnist_class("triangle", 7, seed=3))
    assert not np.array_equal(images, generate_geomnist_class("triangle", 7, seed=4))
    assert images.shape == (7, 1, 32, 32) and images.dtype == np.float32
    p = geomnist.sample_parameters("triangle", 7, seed=3)
    masks = geomnist.rasterise("triangle", angles_deg=p.angles_deg, dims=p.dims, offsets=p.offsets)
    expected = np.stack([_scipy_blur(mask, sigma) for mask, sigma in zip(masks, p.sigmas)])
    np.testing.assert_allclose(images[:, 0], expected, atol=1e-6)  # float32 output


def test_geomnist_classes_are_distinguishable():
    n = 30
    images = np.concatenate([generate_geomnist_class(c, n, seed=0) for c in geomnist.CLASS_NAMES]).reshape(3 * n, -1)
    labels = np.repeat(np.arange(3), n)
    # Leave-one-out nearest neighbour: every image is closer to some image of its own
    # class (a neighbouring angle) than to any image of another class.
    distances = ((images[:, None].astype(np.float64) - images[None]) ** 2).sum(axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.array_equal(labels[distances.argmin(axis=1)], labels)
    # Mean images differ by several standard errors for the rectangle against the others;
    # triangle and ellipse (similar area and reach) differ less, but measurably.
    means = np.stack([images[labels == k].mean(axis=0) for k in range(3)])
    assert np.linalg.norm(means[1] - means[0]) > 3 and np.linalg.norm(means[1] - means[2]) > 3
    assert np.linalg.norm(means[0] - means[2]) > 0.5


def test_geomnist_version_is_recorded_on_the_dataset():
    data = load_dataset("geomnist", classes=["triangle", "ellipse"], train_per_class=3, val_per_class=2, seed=0)
    assert data.generator_version == geomnist.GENERATOR_VERSION == "authors-2021.1"
    digits = load_dataset("digits", classes=["1", "2"], train_per_class=3, val_per_class=2, seed=0)
    assert digits.generator_version is None


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: generate_geomnist_class("hexagon", 3, seed=0), "shape"),
        (lambda: generate_geomnist_class("triangle", 0, seed=0), "count"),
        (lambda: generate_geomnist_class("triangle", 3, seed=-1), "seed"),
        (lambda: geomnist.rasterise("ellipse", angles_deg=[0.0], dims=[[6.0, 12.0]] * 2, offsets=[[0, 0]]), "dims"),
        (lambda: geomnist.rasterise("ellipse", angles_deg=[0.0], dims=[[0.0, 12.0]], offsets=[[0, 0]]), "dims"),
        (lambda: geomnist.gaussian_blur(np.zeros((2, 32, 32)), sigmas=[1.0, 0.0]), "sigmas"),
    ],
)
def test_geomnist_bad_arguments_name_the_field(call, field):
    with pytest.raises(InvalidDataSpec, match=field):
        call()


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 2 / 3, 0.8])
def test_corruption_fraction_exact_and_spread_evenly(p):
    data = load_dataset(
        "geomnist", classes=["triangle", "rectangle", "ellipse"], train_per_class=30, val_per_class=4, label_noise=p, seed=2
    )
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
        entry = {
            "batch_label": name,
            "labels": labels,
            "data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
            "filenames": [f"{name}_{i}.png" for i in range(count)],
        }
        with open(folder / name, "wb") as handle:
            pickle.dump(entry, handle, protocol=2)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": names, "num_cases_per_batch": per_batch, "num_vis": 3072}, handle, protocol=2)
    return folder


def test_cifar10_from_torchvision_layout(tmp_path):
    folder = _write_fake_cifar(tmp_path)
    data = load_dataset("cifar10", classes=["cat", "airplane"], train_per_class=5, val_per_class=2, seed=0, root=tmp_path)
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


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(name="mnist"), "name"),
        (dict(classes=["triangle", "hexagon"]), "classes"),
        (dict(classes=["triangle"]), "classes"),
        (dict(classes=["triangle", "triangle"]), "classes"),
        (dict(label_noise=1.0), "label_noise"),
        (dict(label_noise=-0.1), "label_noise"),
        (dict(train_per_class=0), "train_per_class"),
    ],
)
def test_bad_requests_raise_domain_errors(kwargs, field):
    args = dict(name="geomnist", classes=["triangle", "ellipse"], train_per_class=4, val_per_class=2)
    args.update(kwargs)
    with pytest.raises(InvalidDataSpec, match=field) as info:
        load_dataset(args.pop("name"), **args)
    assert isinstance(info.value, ValueError)


def test_digits_too_many_samples():
    with pytest.raises(InvalidDataSpec, match="train_per_class"):
        load_dataset("digits", classes=["1", "2"], train_per_class=170, val_per_class=30)


def test_train_counts_give_an_imbalanced_set_and_equal_counts_the_balanced_one():
    from lesde_trainer.datasets import load_dataset

    classes = ["triangle", "rectangle", "ellipse"]
    imbalanced = load_dataset("geomnist", classes=classes, train_per_class=5, val_per_class=4, seed=2, train_counts=[12, 6, 3])
    np.testing.assert_array_equal(np.bincount(imbalanced.y_train_true), [12, 6, 3])
    np.testing.assert_array_equal(np.bincount(imbalanced.y_val), [4, 4, 4])
    balanced = load_dataset("geomnist", classes=classes, train_per_class=6, val_per_class=4, seed=2)
    same = load_dataset("geomnist", classes=classes, train_per_class=99, val_per_class=4, seed=2, train_counts=[6, 6, 6])
    np.testing.assert_array_equal(balanced.x_train, same.x_train)
    np.testing.assert_array_equal(balanced.x_val, same.x_val)
