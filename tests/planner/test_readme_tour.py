"""The README's Tour runs as written: its ```bash blocks, in order, in one shell, against the
test stack (the URLs come in through the PACER_*_URL variables the commands default on)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import Api
from tests.planner.conftest import REPO, stack_env

BIN = Path(sys.executable).parent


def tour_blocks(readme: str) -> list[str]:
    section = readme.split("\n## Tour\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```bash\n(.*?)^```", section, flags=re.S | re.M)


def test_the_tour_has_blocks_for_each_step() -> None:
    blocks = tour_blocks((REPO / "README.md").read_text())

    assert len(blocks) >= 6
    script = "\n".join(blocks)
    for step in ("pacer events push", "/progress", "pacer tasks import", "/finalize", "pacer review show"):
        assert step in script
    # The commands paste as-is for a newcomer: every URL has a default.
    assert "${PACER_TARGETS_URL:-http://127.0.0.1:8001}" in script


def test_every_tour_command_runs_against_the_stack(api: Api) -> None:
    blocks = tour_blocks((REPO / "README.md").read_text())
    script = "set -euo pipefail\n" + "\n".join(blocks).replace(".venv/bin/", f"{BIN}/")

    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=stack_env(api),
        timeout=300,
    )

    assert result.returncode == 0, f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    out = result.stdout
    rows = sum(1 for _ in (REPO / "docs/examples/events.csv").open()) - 1
    assert f"accepted {rows}, duplicates 0, rejected 0" in out
    assert f"accepted 0, duplicates {rows}, rejected 0" in out
    assert '"health":' in out and '"expected_method":"seasonal"' in out.replace(" ", "")
    assert '"plan":{"code":"TOUR-2024"' in out.replace(" ", "")
    assert "created 3, already present 0, differing 0" in out
    assert "created 0, already present 3, differing 0" in out
    assert "finalized" in out
    report = out.rsplit("finalized", 1)[1]
    assert "Beauty GMV Q1 +30% YoY" in report
    assert "Book two more live-stream hosts" in report
