"""The worker image holds every package the project installs.

The Dockerfile copies package folders one by one; ``dead_letters`` was missing, so
``hotline deadletter`` failed in the image with ModuleNotFoundError while the worker ran.
"""

from __future__ import annotations

import re
import tomllib

from config.stack import PROJECT_ROOT


def test_the_image_copies_every_installed_package():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text("utf-8")
    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, re.MULTILINE))
    assert packages <= copied, f"not in the image: {sorted(packages - copied)}"


def test_the_installed_package_reads_the_mounted_artifacts():
    # installed non-editable, the default would be site-packages/artifacts
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text("utf-8")
    assert "HOTLINE_ARTIFACTS_DIR=/app/artifacts" in dockerfile
