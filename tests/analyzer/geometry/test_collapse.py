import numpy as np
import pytest
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.geometry import equiangularity, equinorm, etf_distance, nc1, nc_metrics


def _simplex_etf(K: int, p: int, seed: int = 0) -> np.ndarray:
    """Eq. (10): columns of sqrt(K/(K-1)) Q (I - 11^T/K), returned as rows (K, p)."""
    if p < K:  # K = 2 on a line: the ETF is two antipodal points
        return np.array([[1.0], [-1.0]])
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((p, K)))
    return (np.sqrt(K / (K - 1)) * Q @ (np.eye(K) - 1.0 / K)).T


@pytest.mark.parametrize("K, p", [(2, 1), (3, 3), (5, 7)])
def test_zero_on_an_exact_simplex_etf(K, p):
    M = 4.2 * _simplex_etf(K, p) + 3.0  # any scale, any global offset
    feats = np.repeat(M[:, None, :], 6, axis=1)  # no within-class spread
    m = nc_metrics(feats)
    assert m.etf_distance == pytest.approx(0, abs=1e-12)
    assert m.equinorm == pytest.approx(0, abs=1e-12)
    assert m.equiangularity == pytest.approx(0, abs=1e-12)
    assert m.nc1 == pytest.approx(0, abs=1e-20)


def test_known_values_on_hand_made_means():
    # K = 3 means at 0, e1, 2 e1 (collinear): centred -e1, 0, e1
    M = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    # norms 1, 0, 1 -> mean 2/3, std sqrt(2)/3 -> equinorm 1/sqrt(2)
    assert equinorm(M) == pytest.approx(1 / np.sqrt(2))
    # Gram [[1,0,-1],[0,0,0],[-1,0,1]] / 2; target (I - 11/3)/sqrt(2)
    G = np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]) / 2
    target = (np.eye(3) - 1 / 3) / np.sqrt(2)
    assert etf_distance(M) == pytest.approx(np.linalg.norm(G - target))
    # K = 2 orthogonal-ish: centred means are always antipodal -> cos = -1 = -1/(K-1)
    assert equiangularity(np.array([[1.0, 0.0], [0.0, 1.0]])) == pytest.approx(0.0)
    # K = 4 square in the plane: cosines -1 (x2 pairs... ) and 0; |cos + 1/3|: 2/3 or 1/3
    sq = np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1]])
    # per ordered pair: neighbours (8 of 12) cos 0 -> 1/3; opposite (4 of 12) cos -1 -> 2/3
    assert equiangularity(sq) == pytest.approx((8 * (1 / 3) + 4 * (2 / 3)) / 12)


def test_nc1_known_value():
    # K = 2, p = 1: means -1, +1; within-class deviations +-0.5
    f = np.array([[[-1.5], [-0.5]], [[0.5], [1.5]]])
    # Sigma_W = 0.25, Sigma_B = 1 -> NC1 = 0.25 / 2
    assert nc1(f) == pytest.approx(0.125)


def test_batched_shapes_and_normalize():
    M = np.random.default_rng(0).standard_normal((4, 5, 3, 3))
    assert etf_distance(M).shape == (4, 5)
    assert nc_metrics(np.random.default_rng(1).standard_normal((4, 3, 6, 2))).nc1.shape == (4,)
    etf = _simplex_etf(3, 3)
    assert etf_distance(etf * np.array([[1.0], [5.0], [20.0]]), normalize=True) == pytest.approx(0, abs=1e-12)
    with pytest.raises(InvalidArgument, match="means"):
        etf_distance(np.zeros((1, 3)))
