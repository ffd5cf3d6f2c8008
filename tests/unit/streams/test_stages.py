"""Worker stages: every stage has modules, a subset gets its own consumer group."""

from __future__ import annotations

import importlib.util

import pytest

from config.streams import STAGES, StreamSettings
from streams.stages import STAGE_MODULES


def test_every_stage_lists_existing_modules():
    assert tuple(STAGE_MODULES) == STAGES
    for modules in STAGE_MODULES.values():
        for module in modules:
            assert importlib.util.find_spec(module) is not None, module


def test_subset_of_stages_gets_its_own_group(monkeypatch):
    monkeypatch.setenv("HOTLINE_APP_ID", "centre")
    assert StreamSettings().group_id == "centre"
    monkeypatch.setenv("HOTLINE_WORKER_STAGES", " sla, understand ")
    s = StreamSettings()
    assert s.stages == ("understand", "sla")  # pipeline order, whatever the input order
    assert s.group_id == "centre-understand-sla"


@pytest.mark.parametrize("raw", ["", "understand,nlp", " , "])
def test_unknown_or_empty_stages_are_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("HOTLINE_WORKER_STAGES", raw)
    with pytest.raises(ValueError, match="HOTLINE_WORKER_STAGES"):
        StreamSettings()
