"""A new user's first run, as written: the README's "Running it" steps, and every
command `nextbest demo` prints, run in an empty directory exactly as they read.

Two liberties, both outside what the user types: `make install` is not run again (this
suite runs inside the environment it makes; `.venv` in the directory links to it), and
the server listens on a free port instead of 8000.
"""

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"\bnb_[0-9a-f]+_[A-Za-z0-9_\-]+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def user_env() -> dict[str, str]:
    """The environment of a user who never set NEXTBEST_* (the suite's own are left out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTBEST_")}
    return env | {"PYTHONUNBUFFERED": "1"}


def run(line: str, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=user_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@contextmanager
def serving(line: str, cwd: Path, port: int) -> Iterator[str]:
    """The server `line` starts, until it answers /readyz; stopped afterwards."""
    server = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=user_env(), start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, f"the server exited: {line}"
            time.sleep(0.1)
        else:
            pytest.fail(f"no answer on {base}/readyz: {line}")
        yield base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, 15)
        server.wait(timeout=30)


def readme_steps() -> list[str]:
    """The shell lines of the first code block under '## Running it' (loops kept whole)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Running it", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    steps: list[str] = []
    for line in block.splitlines():
        if (steps and steps[-1].rstrip().endswith("do")) or line.strip() == "done":
            steps[-1] += "\n" + line
        else:
            steps.append(line)
    return [s for s in steps if s.strip()]


@pytest.fixture
def new_directory(tmp_path: Path) -> Path:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    return tmp_path


def test_the_readme_first_steps_work_as_written(new_directory: Path) -> None:
    steps = readme_steps()
    assert steps[0].startswith("make install") and "serve" in steps[-1]
    key = None
    for step in steps[1:-1]:
        output = run(step, new_directory)
        rejected = re.findall(r"^  rejected +([\d,]+)$", output, re.MULTILINE)
        assert "import" not in step or (len(rejected) == 8 and set(rejected) == {"0"}), output
        if "keys create" in step:
            key = KEY.search(output)
    assert key is not None
    port = free_port()
    with serving(steps[-1].replace("--port 8000", f"--port {port}"), new_directory, port) as base:
        answer = httpx.get(
            f"{base}/v1/customers/C000001/cross-sell",
            headers={"Authorization": f"Bearer {key.group()}"},
        )
        assert answer.status_code == 200 and answer.json()["items"], answer.text
        assert httpx.get(f"{base}/docs").status_code == 200


def demo_commands(output: str) -> tuple[str, str, list[str]]:
    """(the 'more keys' command, the 'serve' command, the curl lines) the demo printed."""
    lines = [line.strip() for line in output.splitlines()]
    more_keys = lines[lines.index("More keys, for this demo's database:") + 1]
    serve = lines[lines.index("Serve the demo:") + 1]
    return more_keys, serve, [line for line in lines if line.startswith("curl ")]


def test_every_command_the_demo_prints_works_as_printed(new_directory: Path) -> None:
    port = free_port()
    demo = f".venv/bin/nextbest demo --customers 300 --no-serve --port {port}"
    first = run(demo, new_directory)
    again = run(demo, new_directory)  # a second run finds its rows already there
    imported = [line for line in again.splitlines() if line.strip().startswith("imported")]
    assert imported and all(line.endswith(" 0 rejected)") for line in imported), imported
    more_keys, serve, curls = demo_commands(first)
    assert len(curls) >= 10
    with serving(serve, Path("/"), port):  # printed for any directory
        for curl in curls:
            body = run(curl, Path("/"))
            if "/metrics" in curl:
                assert "nextbest_http_requests" in body
            else:
                assert '"error"' not in body[:200], (curl, body[:300])
        made = KEY.search(run(more_keys, Path("/")))
        assert made is not None
        with_new_key = shlex.split(curls[1])
        with_new_key[with_new_key.index("-H") + 1] = f"Authorization: Bearer {made.group()}"
        done = subprocess.run([*with_new_key, "-w", "%{http_code}"], capture_output=True, text=True)
        assert done.stdout.endswith("200"), done.stdout[-300:]
