"""Settings of the routing step (派单): where the dispatch catalogue lives."""

from __future__ import annotations

from pathlib import Path

from config.data import ARTIFACTS_DIR
from config.env import float_setting, setting

#: The catalogue shipped with the package; deployments point HOTLINE_ROUTING_CATALOGUE at their own.
DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "routing" / "data" / "catalogue.toml"

CATALOGUE_PATH = Path(
    setting(
        "ROUTING_CATALOGUE",
        str(DEFAULT_CATALOGUE),
        "Dispatch catalogue (派单目录, TOML): departments, kinds and routing rules",
    )
)

#: Below this classifier confidence the category is ignored and routing relies on keywords
#: and district only: a wrong category would push the appeal to the wrong department.
MIN_CATEGORY_CONFIDENCE = float_setting(
    "ROUTING_MIN_CATEGORY_CONFIDENCE",
    0.5,
    "Classifier confidence below which routing ignores the predicted category",
    high=1.0,
)

#: Prefix of the per-department assignment topics: ``assign.<department code>``.
TOPIC_PREFIX = setting(
    "ROUTING_TOPIC_PREFIX", "assign.", "Prefix of per-department assignment topics"
)

#: Trained text → department-kind model (JSON); routing uses keyword rules alone without it.
KIND_MODEL_PATH = Path(
    setting(
        "ROUTING_KIND_MODEL",
        str(Path(__file__).resolve().parent.parent / "routing" / "data" / "kind_model.json"),
        "Department-kind model trained on reply-derived references (hotline routing train)",
    )
)

#: Reassigned appeals (改派) with their text, harvested from the topics for `routing train`.
REASSIGNMENTS_PATH = Path(
    setting(
        "ROUTING_REASSIGNMENTS_PATH",
        str(ARTIFACTS_DIR / "routing" / "reassignments.csv"),
        "Reassigned appeals with their text (CSV: subject, detail, department_code, ...), "
        "kept by `hotline routing harvest-reassignments` for `hotline routing train --corrections`",
    )
)

#: Below this model probability the keyword rule (when one fires) decides the kind.
MIN_KIND_PROBABILITY = float_setting(
    "ROUTING_MIN_KIND_PROBABILITY",
    0.0,
    "Kind-model probability below which a firing keyword rule overrides the model",
    high=1.0,
)
