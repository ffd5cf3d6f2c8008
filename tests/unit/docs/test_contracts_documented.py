"""Generated documents stay in step with the code."""

from __future__ import annotations

from cli.intake import SCHEMA_FILE
from config.catalogue import all_settings
from config.stack import PROJECT_ROOT
from streams.asyncapi import build, render
from streams.topics import SPECS


def test_asyncapi_document_is_current():
    assert SCHEMA_FILE.exists(), "run `hotline schema`"
    assert SCHEMA_FILE.read_bytes() == render(), "docs/asyncapi.json is stale: run `hotline schema`"


def test_asyncapi_describes_every_topic_and_required_appeal_fields():
    doc = build()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == set(SPECS)
    appeal = doc["components"]["schemas"]["Appeal"]
    assert {"appeal_id", "channel", "received_at", "content", "raw"} <= set(appeal["required"])
    assert appeal["properties"]["received_at"] == {"type": "string", "format": "date-time"}


def test_readme_documents_every_setting():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in all_settings() if f"`{name}`" not in readme]
    assert not missing, f"README lacks {missing}: paste `hotline config --markdown`"
