import numpy as np

from understand.evaluation import compute_metrics, cross_validate, format_report


def test_metrics_on_known_predictions():
    classes = ["城乡建设", "环境保护"]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = ["城乡建设", "环境保护", "环境保护", "环境保护"]
    m = compute_metrics(y, proba, classes)
    assert m["accuracy"] == 0.75
    assert m["confusion"]["matrix"] == [[1, 0], [1, 2]]
    assert m["per_class"]["城乡建设"]["precision"] == 0.5
    assert m["per_class"]["环境保护"]["recall"] == round(2 / 3, 4)
    at_07 = next(r for r in m["review"] if r["threshold"] == 0.7)
    assert at_07 == {"threshold": 0.7, "auto_share": 0.75, "auto_accuracy": 1.0}
    assert "macro-F1" in format_report(m)


def test_cross_validation_on_a_small_subset(small_rows):
    m = cross_validate(small_rows, folds=2, seed=0, params={"calibration_folds": 2})
    assert m["n"] == len(small_rows)
    assert sum(c["support"] for c in m["per_class"].values()) == len(small_rows)
    # 40 examples per class already separate the categories far better than chance (1/7).
    assert m["macro_f1"] > 0.5
