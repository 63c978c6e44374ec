"""The reproduction report: each of the paper's claims is judged by its stated rule from
the numbers of the run, and the report can say "does not hold" (no run, no server: the
report is a pure function of the sweep summary and the children's summaries)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture(scope="module")
def report_module():
    sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location("reproduction_report", SCRIPTS / "reproduction_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["reproduction_report"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("reproduction_report", None)
    sys.path.remove(str(SCRIPTS))


GRID = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 0.8]


def _row(index: int, p: float, *, transition: bool) -> dict:
    """A child whose numbers follow the paper (``transition``) or stay flat across p."""
    below = p < 2 / 3 - 1e-9 or not transition
    return {
        "index": index, "experiment_id": f"child{index:04d}aaaa", "dataset.label_noise": p, "status": "succeeded",
        "verdict": "separable" if below else "not separable",
        "validation_accuracy_mean": 0.95 - 0.2 * p if below else 0.34, "validation_accuracy_std": 0.02,
        "validation_loss_mean": 0.2 if below else 1.1, "validation_loss_initial": 1.0986,
        "train_accuracy_mean": 0.9, "train_accuracy_std": 0.03,
        "r_gamma": 0.5 + p if transition else 0.5, "r_gamma_se": 0.05, "r_gamma_at_bound": False,
        "r_gamma_T20": 0.45 + p, "r_gamma_T10": 0.5 + p, "r_gamma_T5": 0.55 + p, "gamma_rate": 1e-3, "gamma_rate_se": 1e-4,
        "verdict_trained": "separable" if below else "not separable", "verdict_true": "separable",
        "r_gamma_true": 0.5, "figure_4c": 0.4 + p, "figure_4c_true": 0.4, "skill_L": 0.5,
        "nrmse_L": 0.3, "nrmse_I": 0.6, "alpha_hat_late": 0.01, "beta_hat_late": -0.002,
        "nc1_initial": 0.2, "nc1_final": 0.05 if below else 0.25, "nc1_stream": "features",
    }  # fmt: skip


def _inputs(transition: bool) -> dict:
    rows = [_row(i, p, transition=transition) for i, p in enumerate(GRID)]
    line = (
        {"value": 0.5, "direction": "separable -> not separable", "uncertainty": {"interval": [0.4, 0.6]}, "first_not_separable": 2 / 3, "last_separable": 0.6}
        if transition else {"value": None, "reason": "r_slope of Gamma stays below 1 at every grid value"}
    )  # fmt: skip
    children = {
        row["experiment_id"]: {"separability": {"features": {"initial": 0.1, "final": 1.0 if row["verdict"] == "separable" else 0.1}}}
        for row in rows
    }
    return {"summary": {"rows": rows, "flip": {"lines": [line]}, "notes": ["a note"]}, "child_summaries": children}


def _write(module, tmp_path: Path, transition: bool, change=None) -> str:
    data = _inputs(transition)
    if change is not None:
        change(data)
    spec = {
        "dataset": {"name": "geomnist", "classes": ["triangle", "rectangle", "ellipse"], "train_per_class": 300, "val_per_class": 100},
        "model": {"name": "lenet", "dtype": "float32"},
        "training": {"iterations": 10_000, "trials": 50, "learning_rate": 0.005, "eval_every": 100},
    }
    path = tmp_path / "docs" / "reproduction.md"
    module.write_report(
        path, sweep_file=Path("examples/sweeps/x.json"), child_spec=spec,
        view={"id": "sweep0000aaaa", "counts": {"succeeded": len(GRID)}}, summary=data["summary"],
        child_summaries=data["child_summaries"], shown=[], figures_dir=tmp_path / "docs" / "reproduction", seconds=60.0, where="test",
    )  # fmt: skip
    return path.read_text()


def test_a_run_that_follows_the_paper_holds_every_claim(report_module, tmp_path):
    text = _write(report_module, tmp_path, transition=True)
    claims = [line for line in text.splitlines() if line.startswith("- (")]
    assert len(claims) == 6
    assert all("**holds**" in line for line in claims), claims
    assert "crosses 1 at p = 0.500" in text and "[0.400, 0.600]" in text
    assert "](reproduction/figures/sweep-tail-index.png)" in text  # figures relative to the report


def test_a_flat_run_is_reported_as_not_holding(report_module, tmp_path):
    text = _write(report_module, tmp_path, transition=False)
    claim = {line.split(":")[0]: line for line in text.splitlines() if line.startswith("- (")}
    assert "**does not hold**" in claim["- (i-a) validation accuracy falls toward chance for p >= 2/3"]
    assert "**does not hold**" in claim["- (i-b) features separate for p < 2/3 and not above"]
    assert "**does not hold**" in claim["- (ii) the tail index of Gamma crosses 1 near p = 0.6"]
    assert "stays below 1" in claim["- (ii) the tail index of Gamma crosses 1 near p = 0.6"]


def _claims(text: str) -> dict[str, str]:
    return {line.split(":")[0][2:].split(")")[0] + ")": line for line in text.splitlines() if line.startswith("- (")}


def test_numbers_that_cannot_decide_a_claim_leave_it_not_decided(report_module, tmp_path):
    """A flip interval spanning the grid, imitations no better than zero, features that
    separate before training: each of these says nothing, and the report says so."""

    def weaken(data: dict) -> None:
        data["summary"]["flip"]["lines"][0]["uncertainty"]["interval"] = [0.0, 0.8]
        for row in data["summary"]["rows"]:
            row["nrmse_L"], row["nrmse_I"] = 0.95, 1.05
        for child in data["child_summaries"].values():
            child["separability"]["features"]["initial"] = 1.0

    claim = _claims(_write(report_module, tmp_path, transition=True, change=weaken))
    assert "**not decided**" in claim["(ii)"] and "too wide" in claim["(ii)"]
    assert "**not decided**" in claim["(iv)"] and "neither imitates" in claim["(iv)"]
    assert "**not decided**" in claim["(i-b)"] and "untrained" in claim["(i-b)"]
    assert "**holds**" in claim["(i-a)"]


def test_a_flip_the_wrong_way_does_not_hold(report_module, tmp_path):
    def downward(data: dict) -> None:
        data["summary"]["flip"]["lines"][0]["direction"] = "not separable -> separable"

    claim = _claims(_write(report_module, tmp_path, transition=True, change=downward))
    assert "**does not hold**" in claim["(ii)"] and "opposite" in claim["(ii)"]


def test_accuracy_below_chance_for_high_noise_still_falls_toward_chance(report_module, tmp_path):
    def below(data: dict) -> None:
        data["summary"]["rows"][-1]["validation_accuracy_mean"] = 0.15  # p = 0.8: a wrong label is the majority

    claim = _claims(_write(report_module, tmp_path, transition=True, change=below))
    assert "**holds**" in claim["(i-a)"]


def test_children_whose_means_never_clear_their_noise_are_left_out_of_the_imitation_claim(report_module, tmp_path):
    def noisy_high_p(data: dict) -> None:
        for row in data["summary"]["rows"]:
            if row["dataset.label_noise"] >= 0.6:
                row["nrmse_L"], row["nrmse_I"] = 1.2, 1.0  # the I-model "wins" on noise
                data["child_summaries"][row["experiment_id"]]["imitation"] = {m: {"onset": {"reached": False}} for m in ("L", "I")}

    claim = _claims(_write(report_module, tmp_path, transition=True, change=noisy_high_p))
    assert "**holds**" in claim["(iv)"] and "6 of 6 children" in claim["(iv)"] and "4 never do" in claim["(iv)"]


def test_both_groupings_and_the_papers_number_are_shown_where_they_differ(report_module, tmp_path):
    text = _write(report_module, tmp_path, transition=True)
    claim = _claims(text)
    # trained labels: r crosses 1; true labels: it stays below; the paper's Fig. 4c number (0.4 + p) crosses at p = 0.6
    assert "with Xbar by true label, r of Gamma does not cross 1" in claim["(ii)"]
    assert "the paper's Figure 4c number" in claim["(ii)"] and "crosses 1 at p = 0.600" in claim["(ii)"]
    assert "r(Gamma), verdict, Fig. 4c by true label" in text
    row = next(line for line in text.splitlines() if line.startswith("| 0.8 |"))
    assert "1.25 / 1.30 / 1.35" in row and "not separable" in row and "0.50, separable, 0.40" in row


def test_the_sample_size_section_and_the_page(report_module, tmp_path):
    rows = []
    children = {}
    for i, (train, val) in enumerate([(40, 10), (800, 200), (4800, 1200)]):
        row = _row(i, 0.0, transition=True) | {"dataset.train_per_class": train, "dataset.val_per_class": val}
        rows.append(row)
        children[row["experiment_id"]] = {
            "estimates": {"models": {"I": {"A_end": 20.0 + i, "B_end": -2.0}, "L": {"A_end": 15.0, "B_end": -9.0}}}
        }
    spec = {
        "model": {"name": "lenet", "dtype": "float64"},
        "training": {"iterations": 10_000, "trials": 100, "learning_rate": 0.005, "eval_every": 1000},
    }
    shown = [report_module.ChildFigures(label="n = 1,000", row=rows[1], files=["child-1-AB.png", "child-1-leode.png"])]
    lines = report_module.sample_size_section(report_module.SweepRun(
        title="The sample-size runs", sweep_file=Path("examples/sweeps/sample-size.json"), child_spec=spec,
        view={"id": "s1", "counts": {"succeeded": 3}, "children": [{}, {}, {}]}, summary={"rows": rows},
        child_summaries=children, shown=shown, rel=Path("reproduction/sample-size"), seconds=600.0, where="test",
    ))  # fmt: skip
    text = "\n".join(lines)
    assert "| 800/200 |" in text and "21.00, -2.00" in text and "15.00, -9.00" in text
    assert "Figure 3, rows 1 and 3" in text and "Figure 5" in text and "reproduction/sample-size/child-1-AB.png" in text
    assert "5,000 trial-iterations per second" in text  # 3 x 100 x 10,000 in 600 s
    sections = tmp_path / "reproduction"
    (sections / "sample-size").mkdir(parents=True)
    (sections / "sample-size" / "section.md").write_text(text)
    page = tmp_path / "reproduction.md"
    assert report_module.assemble_page(page, sections, machine="2 CPU cores (test)") == ["sample-size"]
    written = page.read_text()
    assert "2 CPU cores (test)" in written and "## The sample-size runs" in written and "What we checked" in written
