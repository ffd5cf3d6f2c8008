"""Where the shared labelled data and trained artifacts live."""

from __future__ import annotations

from pathlib import Path

from config.env import setting
from config.stack import PROJECT_ROOT

DATA_DIR = Path(
    setting(
        "DATA_DIR",
        str(PROJECT_ROOT.parent / "shared" / "data"),
        "Folder with appeals_labelled.csv, label_taxonomy.csv, hot_messages.csv, replies.csv",
    )
)
ARTIFACTS_DIR = Path(
    setting("ARTIFACTS_DIR", str(PROJECT_ROOT / "artifacts"), "Folder for trained model artifacts")
)
