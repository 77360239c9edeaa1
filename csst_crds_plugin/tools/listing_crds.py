"""CRDS's ``crds list`` options on the cache: cat, resolve contexts, required parkeys, ...

Each function returns the lines ``csst-crds list`` prints, in CRDS's shapes: ``--cat`` a
banner then a mapping's text or a reference's header; ``--file-properties`` ``instrument
filekind name``; ``--required-parkeys`` ``instrument: [parkeys]`` under a divider per context;
``--dataset-headers`` the selection parameters of dataset files (CRDS asks its server's archive
for dataset ids; here the datasets are files).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.cache.config import resolve_context
from csst_crds_plugin.errors import CacheError
from csst_crds_plugin.observatories import get_observatory
from csst_crds_plugin.rules import parse_mapping
from csst_crds_plugin.rules.ir import MAPPING_EXTENSIONS
from csst_crds_plugin.tools.certify.keyword_checks import crds_name_parts

__all__ = [
    "cat_files", "dataset_headers", "file_properties", "required_parkeys", "resolve_contexts",
]

_SKIP = ("N/A", "OMIT")


def _locate(layout: CacheLayout, name: str) -> Path:
    """Return a path as given, else a cached mapping or reference of that name."""
    path = Path(name)
    if path.is_file():
        return path
    if path.name == name:
        if name.endswith(MAPPING_EXTENSIONS) and layout.has_mapping(name):
            return layout.mapping_path(name)
        found = layout.find_reference(name)
        if found is not None:
            return found
    raise CacheError(f"{name}: no such file, nor in the cache {layout.root}")


def _header(layout: CacheLayout, name: str) -> dict[str, object]:
    path = _locate(layout, name)
    if path.name.endswith(MAPPING_EXTENSIONS):
        return {str(k): v for k, v in parse_mapping(
            path.read_text(encoding="utf-8"), str(path)).header_dict().items()}
    from csst_crds_plugin.tools.delivery.submission import read_header

    return read_header(path)


def cat_files(layout: CacheLayout, names: Iterable[str]) -> list[str]:
    """Each file under a banner: a mapping's text, or a reference's header keywords."""
    lines: list[str] = []
    for name in names:
        path = _locate(layout, name)
        lines += ["#" * 80, f"File: {path.resolve()}", "-" * 80]
        if path.name.endswith(MAPPING_EXTENSIONS):
            lines += path.read_text(encoding="utf-8").rstrip("\n").splitlines()
        else:
            lines += [f"{key} = {value!r}" for key, value in _header(layout, name).items()]
    return lines


def resolve_contexts(layout: CacheLayout, specs: Sequence[str]) -> list[str]:
    """Return the pmap name each context spec means (all cached contexts when none is given)."""
    if not specs:
        return sorted(p.name for p in layout.mappings_dir.glob("*.pmap"))
    config = load_config(layout)
    return [resolve_context(spec, config, "--contexts") for spec in specs]


def file_properties(layout: CacheLayout, names: Iterable[str]) -> list[str]:
    """``instrument filekind name`` for each file, from its header, else from its name."""
    lines = []
    for name in names:
        header = {k.lower(): v for k, v in _header(layout, name).items()}
        parts = crds_name_parts(Path(name).name)
        instrument = str(header.get("instrument") or header.get("instrume") or
                         (parts[1] if parts else "")).lower()
        filekind = str(header.get("filekind") or header.get("reftype") or
                       (parts[2] if parts else "")).lower()
        lines.append(f"{instrument} {filekind} {Path(name).name}")
    return lines


def _flat(parkey: object) -> list[str]:
    if isinstance(parkey, (tuple, list)):
        return [name for item in parkey for name in _flat(item)]
    return [str(parkey)]


def _rmap_parkeys(layout: CacheLayout, name: str) -> set[str]:
    header = _header(layout, name)
    found = set(_flat(header.get("parkey", ())))
    switch = str(header.get("reffile_switch", "NONE"))
    if switch.upper() != "NONE":
        found.add(switch)
    found.update(_flat(header.get("extra_keys", ())))
    found.update(get_observatory(layout.observatory).extra_keys)
    return found


def required_parkeys(layout: CacheLayout, contexts: Sequence[str]) -> list[str]:
    """For each context, every instrument's matching parameters (CRDS's ``--required-parkeys``)."""
    config = load_config(layout)
    lines = []
    for spec in contexts:
        context = resolve_context(spec, config, "--contexts")
        pmap = parse_mapping(layout.read_mapping(context)[1], context)  # absent: says so
        lines.append(f"{'-' * 16} Parkeys required for {context!r} {'-' * 16}")
        own = _flat(pmap.header_dict().get("parkey", ()))
        for instrument, imap_name in sorted(pmap.selector.entries, key=lambda e: str(e[0])):
            if str(imap_name).upper() in _SKIP:
                continue
            imap = parse_mapping(layout.read_mapping(str(imap_name))[1], str(imap_name))
            found = set(_flat(imap.header_dict().get("parkey", ())))
            for _reftype, rmap in imap.selector.entries:
                if str(rmap).upper() not in _SKIP and str(rmap).endswith(".rmap"):
                    found |= _rmap_parkeys(layout, str(rmap))
            lines.append(f"{str(instrument).lower()}: {[*own, *sorted(found)]}")
    return lines


def dataset_headers(files: Iterable[str]) -> list[str]:
    """Return the selection parameters of each FITS or ASDF dataset, one block per file."""
    from csst_crds_plugin.tools.affected.scan import scan_file

    lines = []
    for path in files:
        lines.append(f"{'-' * 16} Dataset header of {path} {'-' * 16}")
        lines += [f"{key} = {value!r}" for key, value in sorted(scan_file(path).items())]
    return lines
