"""Fixtures for the console tests: one demo cache per session, copied for tests that change it."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from csst_crds_plugin.cli.main import main


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the demo's cache (read only: copy it with `demo_copy` to change it)."""
    folder = tmp_path_factory.mktemp("console-demo") / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--dir", str(folder)]) == 0
    return folder / "cache"


@pytest.fixture
def demo_copy(demo_cache: Path, tmp_path: Path) -> Path:
    """Return a private copy of the demo cache."""
    target = tmp_path / "cache"
    shutil.copytree(demo_cache, target)
    return target


def write_reference(path: Path, reftype: str, detector: str, useafter: str, *,
                    fill: float, **keywords: object) -> Path:
    """Write an 8x8 MSC reference FITS file with the CSST reference keywords."""
    import numpy as np
    from astropy.io import fits

    filters = {"02": "GV", "06": "y", "08": "g"}
    header = fits.Header()
    values: dict[str, object] = {
        "TELESCOP": "CSST", "INSTRUME": "MSC", "REFTYPE": reftype.upper(),
        "DETECTOR": detector, "FILTER": filters[detector] if reftype == "flat" else "N/A",
        "READMODE": "N/A", "USEAFTER": useafter, "PEDIGREE": "SIMULATION",
        "DESCRIP": f"console test {reftype}", "AUTHOR": "console tests", **keywords}
    for key, value in values.items():
        header[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([fits.PrimaryHDU(header=header),
                  fits.ImageHDU(np.full((8, 8), fill, np.float32), name="SCI")]).writeto(path)
    return path


@pytest.fixture
def chain_files(tmp_path: Path):
    """``chain_files(chip, day, tag)`` → a bias and the dark made from it, by file name."""
    counter = iter(range(1, 10_000))

    def make(chip: str = "02", day: str = "2027-01-04", tag: str = "") -> list[Path]:
        folder = tmp_path / "submit"
        bias = write_reference(folder / f"bias_{chip}{tag}.fits", "bias", chip,
                               f"{day}T00:00:00", fill=float(next(counter)))
        dark = write_reference(folder / f"dark_{chip}{tag}.fits", "dark", chip,
                               f"{day}T00:00:00", fill=float(next(counter)), R_BIAS=bias.name)
        return [bias, dark]

    return make


class Console:
    """A console server running in this process on a free 127.0.0.1 port."""

    def __init__(self, cache: Path, **options: object) -> None:
        import threading
        import time

        import uvicorn

        from csst_crds_plugin.web.app import create_app

        self.cache = cache
        self.app = create_app(cache, **options)  # type: ignore[arg-type]
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=0,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def console_server():
    """``console_server(cache, **options)`` → a running Console (stopped after the test)."""
    running: list[Console] = []

    def start(cache: Path, **options: object) -> Console:
        running.append(Console(cache, **options))
        return running[-1]

    yield start
    for console in running:
        console.stop()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


@pytest.fixture
def snapshot():
    """``snapshot(root)``: every file of a cache (relative path → bytes), locks excluded."""
    return _snapshot


@pytest.fixture
def users(demo_copy: Path) -> dict[str, str]:
    """Tokens of three users of the demo copy: all roles, submit only, browse only."""
    from csst_crds_plugin.cache import CacheLayout
    from csst_crds_plugin.tools.users import add_user

    layout = CacheLayout(demo_copy, "csst")
    return {"admin": add_user(layout, "admin", ["submit", "activate", "bad"]),
            "pipeline": add_user(layout, "pipeline", ["submit"]),
            "reader": add_user(layout, "reader", [])}
