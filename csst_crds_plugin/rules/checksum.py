"""The mapping ``sha1sum`` exactly as CRDS computes it (RULES.md §1.4)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any  # a header's keys: any rule key

__all__ = ["compute_sha1sum", "normalise_newlines", "set_sha1sum", "sha1sum_problem"]

# Line boundaries of str.splitlines() other than '\n' (and '\r', gone after normalising).
_OTHER_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Leading blanks stop at the end of the line: each line start is scanned once (linear time).
_SHA1_LINE_RE = re.compile(r"^([^\S\n]*['\"]sha1sum['\"]\s*:\s*)['\"][^'\"]*['\"]", re.MULTILINE)


def normalise_newlines(text: str) -> str:
    """Return `text` as Python's text mode reads it (CRLF and lone CR become LF)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def compute_sha1sum(text: str, data: bytes | None = None) -> str:
    r"""Return the SHA-1 hex digest of `text` without every line that contains ``sha1sum``.

    `data`, if given, must be the UTF-8 bytes `text` was decoded from: they are hashed as they
    are, without encoding the text again (the digest is the same).

    >>> with_line = "header = {\n    'sha1sum' : 'x',\n}\n"
    >>> compute_sha1sum(with_line) == compute_sha1sum("header = {\n}\n")
    True
    """
    normal = normalise_newlines(text)
    if normal is not text:
        text, data = normal, None  # the bytes no longer match the text
    if (
        not any(ch in text for ch in "\x0b\x0c\x1c\x1d\x1e") if text.isascii()
        else _OTHER_LINE_BREAKS.search(text) is None
    ):
        # Lines end only at '\n' here: cut out the few lines naming sha1sum without splitting
        # the whole text into lines (large rmaps have a million of them).
        if data is not None:
            return _digest_without(data, b"sha1sum", b"\n")
        return _digest_without(text.encode("utf-8"), b"sha1sum", b"\n")
    kept = [line for line in text.splitlines(keepends=True) if "sha1sum" not in line]
    return hashlib.sha1("".join(kept).encode("utf-8")).hexdigest()  # noqa: S324 (CRDS's format)


def _digest_without(data: bytes, needle: bytes, newline: bytes) -> str:
    """SHA-1 of `data` without the lines (ending at `newline`) that contain `needle`."""
    digest = hashlib.sha1()  # noqa: S324 (CRDS's format)
    view = memoryview(data)
    start = 0
    found = data.find(needle)
    while found >= 0:
        line_start = data.rfind(newline, 0, found) + 1
        line_end = data.find(newline, found)
        line_end = len(data) if line_end < 0 else line_end + 1
        digest.update(view[start:line_start])
        start = line_end
        found = data.find(needle, line_end)
    digest.update(view[start:])
    return digest.hexdigest()


def set_sha1sum(text: str) -> str:
    """Return `text` with its header ``sha1sum`` value replaced by the correct digest."""
    digest = compute_sha1sum(text)
    new_text, count = _SHA1_LINE_RE.subn(lambda m: f"{m.group(1)}'{digest}'", text, count=1)
    if count == 0:
        raise ValueError("the mapping text has no 'sha1sum' header line to update")
    return new_text


def sha1sum_problem(header: Mapping[Any, object], actual: str, name: str) -> str | None:
    """Say what is wrong with a mapping's recorded ``sha1sum``; None when it equals `actual`.

    The one wording of a missing or wrong checksum, for loading, ``verify`` and ``checksum
    --verify`` alike. `actual` is `compute_sha1sum` of the text; `name` is what the fix
    command is told to rewrite (the file's path or cache name).
    """
    recorded = header.get("sha1sum")
    if recorded is None:
        return f"no sha1sum in the header; add one with `csst-crds checksum {name}`"
    if str(recorded).lower() == actual:
        return None
    return (f"sha1sum mismatch: the header says {recorded}, the text gives {actual}; the file "
            f"was edited or corrupted: restore it, or if the edit is intended run "
            f"`csst-crds checksum {name}`")
