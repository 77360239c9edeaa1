"""Shared fixtures: caches built in tmp_path, settings pointed at them, global state restored."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from csst_crds_plugin import settings as settings_module
from csst_crds_plugin.rules import set_sha1sum

_ENV_VARS = (
    "CSST_CRDS_PATH", "CRDS_PATH", "CSST_CRDS_CONTEXT", "CRDS_CONTEXT", "CSST_CRDS_READONLY",
    "CRDS_READONLY_CACHE", "CSST_CRDS_IGNORE_CHECKSUM", "CRDS_IGNORE_MAPPING_CHECKSUM",
    "CSST_CRDS_ALLOW_BAD_RULES", "CSST_CRDS_ALLOW_BAD_REFERENCES", "CRDS_ALLOW_BAD_RULES",
    "CRDS_ALLOW_BAD_REFERENCES", "CSST_CRDS_MIRROR",
)


@pytest.fixture(autouse=True)
def _clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts without cache or context variables and with no pushed settings."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    settings_module.clear_settings()
    yield
    settings_module.clear_settings()


def mapping_text(body: str) -> str:
    """Dedent mapping text and give it a correct sha1sum."""
    return set_sha1sum(textwrap.dedent(body).lstrip("\n"))


CacheBuilder = Callable[..., Path]

CONFORMANCE = Path(os.environ.get("CSST_CRDS_CONFORMANCE_DIR") or
                   Path(__file__).resolve().parents[1].parent / "shared" / "conformance")
"""The conformance corpus, beside the checkout (or CSST_CRDS_CONFORMANCE_DIR)."""


@pytest.fixture
def conformance_corpus() -> Path:
    """Return the corpus: skipped with the reason in a user's clone, a failure under CI."""
    if not CONFORMANCE.is_dir():
        if os.environ.get("CSST_CRDS_REQUIRE_CONFORMANCE"):
            pytest.fail(f"the conformance corpus {CONFORMANCE} is missing")
        pytest.skip(f"no conformance corpus at {CONFORMANCE} (it lives beside the project "
                    "checkout)")
    return CONFORMANCE


@pytest.fixture
def cache_builder(tmp_path: Path) -> CacheBuilder:
    """Write ``{relpath: text}`` under mappings/, references/ and config/ of one observatory."""

    def build(
        mappings: dict[str, str] | None = None,
        references: dict[str, str | bytes] | None = None,
        config: dict[str, str] | None = None,
        observatory: str = "csst",
        root: Path | None = None,
    ) -> Path:
        root = root or tmp_path / "cache"
        for folder, files in (("mappings", mappings), ("references", references),
                              ("config", config)):
            for relpath, content in (files or {}).items():
                path = root / folder / observatory / relpath
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    path.write_bytes(content)
                elif folder == "mappings" and "'sha1sum'" in content:
                    path.write_text(mapping_text(content), encoding="utf-8")
                else:
                    path.write_text(content, encoding="utf-8")
        (root / "mappings" / observatory).mkdir(parents=True, exist_ok=True)
        return root

    return build


TINY_PMAP = """
header = {
    'derived_from' : 'generated',
    'mapping' : 'PIPELINE',
    'name' : 'csst_0001.pmap',
    'observatory' : 'CSST',
    'parkey' : ('INSTRUME',),
    'sha1sum' : '',
}

selector = {
    'MSC' : 'csst_msc_0001.imap',
}
"""

TINY_IMAP = """
header = {
    'derived_from' : 'generated',
    'instrument' : 'MSC',
    'mapping' : 'INSTRUMENT',
    'name' : 'csst_msc_0001.imap',
    'observatory' : 'CSST',
    'parkey' : ('REFTYPE',),
    'sha1sum' : '',
}

selector = {
    'bias' : 'csst_msc_bias_0001.rmap',
    'gain' : 'csst_msc_gain_0001.rmap',
    'fringe' : 'N/A',
    'pixarea' : 'OMIT',
}
"""

TINY_BIAS = """
header = {
    'derived_from' : 'generated',
    'filekind' : 'BIAS',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_bias_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR', 'READMODE'), ('DATE-OBS', 'TIME-OBS')),
    'sha1sum' : '',
}

selector = Match({
    ('06', 'FAST') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0001.fits',
        '2027-01-02 00:00:00' : 'csst_msc_bias_0002.fits',
    }),
    ('06', '*') : UseAfter({
        '2026-01-01 00:00:00' : 'csst_msc_bias_0003.fits',
    }),
    ('08', 'N/A') : UseAfter({
        '2027-01-01 00:00:00' : 'csst_msc_bias_0004.fits',
    }),
})
"""

TINY_GAIN = """
header = {
    'derived_from' : 'generated',
    'filekind' : 'GAIN',
    'instrument' : 'MSC',
    'mapping' : 'REFERENCE',
    'name' : 'csst_msc_gain_0001.rmap',
    'observatory' : 'CSST',
    'parkey' : (('DETECTOR',), ('EXPTIME',)),
    'sha1sum' : '',
}

selector = Match({
    '06' : Bracket({
        10.0 : 'csst_msc_gain_0001.fits',
        100.0 : 'csst_msc_gain_0002.fits',
    }),
    '08' : 'N/A',
})
"""


@pytest.fixture
def tiny_texts() -> dict[str, str]:
    """Return the tiny cache's mapping texts by file name (checksums are filled in when written)."""
    return {
        "csst_0001.pmap": TINY_PMAP,
        "csst_msc_0001.imap": TINY_IMAP,
        "csst_msc_bias_0001.rmap": TINY_BIAS,
        "csst_msc_gain_0001.rmap": TINY_GAIN,
    }


@pytest.fixture
def tiny_cache(cache_builder: CacheBuilder) -> Path:
    """One pmap, one imap, two rmaps (Match→UseAfter and Match→Bracket), 4×4 reference files."""
    refs = {f"msc/csst_msc_bias_000{i}.fits": b"SIMPLE" for i in range(1, 5)}
    refs.update({f"msc/csst_msc_gain_000{i}.fits": b"SIMPLE" for i in range(1, 3)})
    return cache_builder(
        mappings={
            "csst_0001.pmap": TINY_PMAP,
            "csst_msc_0001.imap": TINY_IMAP,
            "csst_msc_bias_0001.rmap": TINY_BIAS,
            "csst_msc_gain_0001.rmap": TINY_GAIN,
        },
        references=refs,
        config={"server_config": "{'observatory': 'csst', 'operational_context': "
                                 "'csst_0001.pmap'}\n"},
    )


@pytest.fixture
def tiny_settings(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point CSST_CRDS_PATH at the tiny cache."""
    monkeypatch.setenv("CSST_CRDS_PATH", str(tiny_cache))
    return tiny_cache
