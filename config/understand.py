"""Settings of the "understand" step: classifier artifact, review threshold, corrections."""

from __future__ import annotations

from pathlib import Path

from config.data import ARTIFACTS_DIR, DATA_DIR
from config.env import float_setting, int_setting, setting

MODEL_DIR = Path(
    setting(
        "UNDERSTAND_MODEL_DIR",
        str(ARTIFACTS_DIR / "understand"),
        "Folder where `hotline train` writes versioned classifier artifacts (and CURRENT)",
    )
)
MODEL_PATH = setting(
    "UNDERSTAND_MODEL_PATH",
    "",
    "Classifier artifact to load; empty = the version named in <UNDERSTAND_MODEL_DIR>/CURRENT",
)
TRAIN_DATA = Path(
    setting(
        "UNDERSTAND_TRAIN_DATA",
        str(DATA_DIR / "appeals_labelled.csv"),
        "Labelled appeals (CSV: subject, detail, label) that `hotline train` learns from",
    )
)
CORRECTIONS_PATH = Path(
    setting(
        "UNDERSTAND_CORRECTIONS_PATH",
        str(ARTIFACTS_DIR / "understand" / "corrections.csv"),
        "Reviewers' corrections (CSV: subject, detail, label, ...); appended on each review "
        "decision and added to the training data by `hotline train` when present",
    )
)
REVIEW_THRESHOLD = float_setting(
    "UNDERSTAND_REVIEW_THRESHOLD",
    0.6,
    "Calibrated confidence below which a classified appeal goes to human review (cross-validated: "
    "at 0.6, 88% of appeals pass automatically at 94% accuracy; those below are 61% right)",
    high=1.0,
)
POSSIBLE_EMERGENCY_THRESHOLD = float_setting(
    "UNDERSTAND_POSSIBLE_EMERGENCY_THRESHOLD",
    0.65,
    "Score of the emergency model (how much an appeal's head reads like a call for help) at or "
    "above which an appeal the emergency rules did not flag goes to review first, with the "
    "emergency review wait (reason possible_emergency); the lowest step of 0.05 that flags none "
    "of the 7,100 shared texts the model was not trained on (hot messages, replies), as written "
    "or framed as a call-centre report. Above 1 turns it off",
)
MAX_CHARS = int_setting(
    "UNDERSTAND_MAX_CHARS",
    1000,
    "Appeal text beyond this many characters is ignored by the classifier (head kept)",
    low=1,
)
FEATURE_CHARS = int_setting(
    "UNDERSTAND_FEATURE_CHARS",
    300,
    "Characters of subject + detail whose character n-grams the classifier reads (the head "
    "of the text, where the problem is stated; emergency and sub-category rules read up to "
    "UNDERSTAND_MAX_CHARS). Retrain after changing",
    low=1,
)
SEGMENT_CHARS = int_setting(
    "UNDERSTAND_SEGMENT_CHARS",
    250,
    "Characters of subject + detail that jieba segments for the word features and the "
    "tokens of each result (segmentation is the costliest step). Retrain after changing",
    low=1,
)
REVIEW_ALERT_AFTER = setting(
    "UNDERSTAND_REVIEW_ALERT_AFTER",
    "2h",
    "How long an appeal may wait for a reviewer (复核时限) before an `overdue` alert on sla.alerts "
    "(a `warn80` yellow card comes at HOTLINE_SLA_WARN_SECOND of it): wall time such as 2h, 30m, "
    "or working time on the SLA calendar such as 2wh; 0m turns these alerts off",
)
REVIEW_ALERT_AFTER_EMERGENCY = setting(
    "UNDERSTAND_REVIEW_ALERT_AFTER_EMERGENCY",
    "30m",
    "The same wait for an appeal flagged as an emergency (already transferred to 110/119/120/122; "
    "its department follow-up runs on the emergency SLA policy of hours, so review comes first); "
    "0m turns these alerts off",
)
