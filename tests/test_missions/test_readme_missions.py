"""The README's "For JWST, Roman and other stpipe missions" examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "For JWST, Roman and other stpipe missions"


def _blocks() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    part = next(p for p in re.split(r"^## ", readme, flags=re.M) if p.startswith(SECTION))
    return {language or "shell": text for language, text in
            re.findall(r"^```(\w*)\n(.*?)^```", part, flags=re.S | re.M)}


def test_the_mission_examples_run_as_written(readme_folder: Path, crds_cache: Path) -> None:
    blocks = _blocks()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSST_CRDS_", "CRDS_"))}
    env.update(CRDS_PATH=str(crds_cache), CRDS_SERVER_URL="https://127.0.0.1:9",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", blocks["shell"]], cwd=readme_folder,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (readme_folder / "r0001_dqinit.asdf").is_file() or \
        list(readme_folder.glob("r0001*dq*.asdf")), sorted(readme_folder.iterdir())
    assert list((readme_folder / "out").glob("jw0001*.fits"))
    done = subprocess.run([sys.executable, "-c", blocks["python"]], cwd=readme_folder, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["crds://roman_wfi_mask_0001.asdf", "roman_0001.pmap"]
