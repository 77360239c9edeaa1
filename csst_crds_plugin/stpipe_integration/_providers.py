"""The providers stpipe's lookups use: one per observatory and settings, built once."""

from __future__ import annotations

from pathlib import Path

from csst_crds_plugin.errors import CacheError, ReferenceLookupError
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.settings import Settings, get_settings

__all__ = ["check_observatory_held", "clear_providers", "shared_provider", "uri_path"]

_PROVIDERS: dict[tuple[Settings, str], ReferenceProvider] = {}
_URI = "crds://"


def shared_provider(observatory: str) -> ReferenceProvider:
    """Return the provider for `observatory` under the settings in force, built once and reused.

    Like the CRDS client, a process keeps the context it resolved first, so one pipeline run
    never mixes contexts; `clear_providers` forgets them (a changed setting makes a new one).
    An observatory whose rules the cache does not hold is a `CacheError`, never a fall back
    to the CRDS library.
    """
    key = (get_settings(), observatory.lower())
    provider = _PROVIDERS.get(key)
    if provider is None:
        check_observatory_held(key[0].cache_root, key[1])
        provider = _PROVIDERS[key] = ReferenceProvider(observatory=key[1])
    return provider


def check_observatory_held(cache_root: Path, observatory: str) -> None:
    """Fail, naming the folder, when the cache has no rules for `observatory`."""
    folder = Path(cache_root) / "mappings" / observatory
    if Path(cache_root).is_dir() and not folder.is_dir():
        held = sorted(p.name for p in (Path(cache_root) / "mappings").glob("*") if p.is_dir())
        raise CacheError(
            f"the cache {cache_root} holds no {observatory} rules ({folder} is missing; it "
            f"holds: {', '.join(held) or 'none'}). The CRDS library is not consulted while "
            f"csst-crds-plugin serves stpipe: fill the cache with `csst-crds sync "
            f"--observatory {observatory} --source DIR|URL`, or point CSST_CRDS_PATH at a "
            f"cache that has them"
        )


def clear_providers() -> None:
    """Forget every provider (the next lookup resolves the context again)."""
    _PROVIDERS.clear()


def uri_path(provider: ReferenceProvider, reference_uri: str) -> str:
    """Return the cache path of ``crds://<name>`` in `provider`'s cache; never outside its root."""
    if not reference_uri.startswith(_URI):
        raise ReferenceLookupError(
            f"reference URI {reference_uri!r} should start with {_URI!r}, e.g. "
            f"{_URI}csst_msc_dark_0001.fits"
        )
    return str(provider.locate_name(reference_uri.removeprefix(_URI)))
