"""Loading mappings by name: text source, checksum verification, one parse per process."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from csst_crds_plugin.context import InstrumentMapping, PipelineMapping, ReferenceMapping
from csst_crds_plugin.errors import (
    CacheError,
    ChecksumError,
    CsstCrdsError,
    CsstCrdsWarning,
    RuleValidationError,
)
from csst_crds_plugin.rule_mapping import RuleMapping
from csst_crds_plugin.rules import compute_sha1sum, parse_mapping, sha1sum_problem
from csst_crds_plugin.rules.ir import MAPPING_KINDS, Key

__all__ = ["NAME_LIMIT", "MappingLoader", "TextSource", "check_mapping_name", "load_mapping"]

# (path, size, mtime_ns, ignore_checksum) -> mapping object
_MAPPINGS: dict[tuple[str, int, int, bool], RuleMapping] = {}
_LOCK = threading.Lock()

TextSource = Callable[[str], tuple[Any, ...]]
"""``source(name) -> (path, text, (size, mtime_ns)[, data])``; raises FileNotCachedError.

``data``, when given, are the bytes the text was decoded from (UTF-8): the checksum hashes them.
"""
_LARGE: Final = 1 << 20  # larger texts are hashed while they are parsed
NAME_LIMIT: Final = 255
"""The longest mapping name, in UTF-8 bytes: the longest file name common file systems allow."""


def check_mapping_name(name: str) -> str:
    """Return `name`, or raise RuleValidationError if no file system could hold it."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > NAME_LIMIT:
        raise RuleValidationError(
            f"mapping name {name[:40]!r}... is {size} bytes long; a name has at most "
            f"{NAME_LIMIT} (the file-system limit): the rules naming it are corrupt"
        )
    return name


class MappingLoader:
    """Loads mappings by name through a text source, verifying checksums; shared per process."""

    def __init__(self, source: TextSource, exists: Callable[[str], bool],
                 *, ignore_checksum: bool = False, label: str = "") -> None:
        self.source = source
        self._exists = exists
        self.ignore_checksum = ignore_checksum
        self.label = label

    def describe(self) -> str:
        """Where mappings come from, for messages."""
        return self.label

    def exists(self, name: str) -> bool:
        """Return True if mapping `name` is present."""
        check_mapping_name(name)
        try:
            return self._exists(name)
        except OSError as exc:
            if isinstance(exc, CsstCrdsError):
                raise
            raise CacheError(f"cannot look for mapping {name} in {self.label}: "
                             f"{exc.strerror or exc}") from exc

    @staticmethod
    def name_of(path: str) -> str:
        """Return the basename of a mapping path."""
        return path.replace("\\", "/").rsplit("/", 1)[-1]

    def load(self, name: str) -> RuleMapping:
        """Return the mapping `name`, parsed and built once per process."""
        check_mapping_name(name)
        try:
            read = self.source(name)
        except OSError as exc:
            if isinstance(exc, CsstCrdsError):
                raise
            raise CacheError(f"cannot read mapping {name} from {self.label}: "
                             f"{exc.strerror or exc}") from exc
        path, text, (size, mtime) = read[:3]
        key = (path, size, mtime, self.ignore_checksum)
        found = _MAPPINGS.get(key)
        if found is not None:
            return found
        mapping = load_mapping(text, path, self, ignore_checksum=self.ignore_checksum,
                               data=read[3] if len(read) > 3 else None)
        with _LOCK:
            _MAPPINGS[key] = mapping
        return mapping


def load_mapping(text: str, path: str, loader: MappingLoader, *,
                 ignore_checksum: bool = False, data: bytes | None = None) -> RuleMapping:
    """Parse, verify and build one mapping from its text (`data`: its UTF-8 bytes, if at hand)."""
    if ignore_checksum or len(text) < _LARGE:
        ir = parse_mapping(text, path)
        actual = None if ignore_checksum else compute_sha1sum(text, data)
    else:  # hash beside the parse: hashing frees the GIL; no thread outlives the call
        with ThreadPoolExecutor(1, thread_name_prefix="csst-crds-sha1sum") as pool:
            digest = pool.submit(compute_sha1sum, text, data)
            ir = parse_mapping(text, path)
            actual = digest.result()
    header = ir.header_dict()
    if actual is not None:
        _verify_checksum(actual, path, header)
    mapping_kind = str(header.get("mapping", "")).upper()
    extension = path[path.rfind("."):] if "." in path else ""
    kind = MAPPING_KINDS.get(extension.lower(), mapping_kind)
    classes: dict[str, type[RuleMapping]] = {
        "PIPELINE": PipelineMapping, "INSTRUMENT": InstrumentMapping, "REFERENCE": ReferenceMapping,
    }
    if kind not in classes:
        raise RuleValidationError(
            f"{path}: unknown mapping kind {mapping_kind!r}; use PIPELINE, INSTRUMENT or REFERENCE"
        )
    return classes[kind](ir, loader)


def _verify_checksum(actual: str, path: str, header: Mapping[Key, object]) -> None:
    """Raise ChecksumError for a missing or wrong sha1sum (a warning under the D6 waiver)."""
    found = sha1sum_problem(header, actual, path)
    if found is None:
        return
    problem = (f"{path}: {found} (or waive the check with ignore_checksum=True or "
               "CSST_CRDS_IGNORE_CHECKSUM=1).")
    if header.get("ignore_checksum") not in (True, "True", "true"):
        raise ChecksumError(problem)
    warnings.warn(f"{problem} Accepted because the header sets ignore_checksum (departure D6).",
                  CsstCrdsWarning, stacklevel=3)
