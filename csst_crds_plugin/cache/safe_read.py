"""JSON read with limits: an over-deep document is one clear error naming the file.

Python's JSON decoder recurses once per nested array or object, so a file of 100,000 ``[``
raises ``RecursionError`` from deep inside the decoder. :func:`loads_json` counts the nesting
first, with one linear regular-expression pass that skips string contents, and only when the
text holds more brackets than the limit (so a typical manifest or configuration file costs one
``bytes.count`` more than ``json.loads``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from csst_crds_plugin.errors import InputLimitError

__all__ = ["MAX_JSON_DEPTH", "json_depth", "loads_json"]

MAX_JSON_DEPTH = 100
"""The deepest nesting of arrays and objects accepted in a JSON input."""

# A string (escapes included) or one bracket; the string branch has no nested repetition, so
# the scan is linear in the text.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth(data: bytes, limit: int | None = None) -> int:
    """Return the deepest nesting of `data` (stops early, returning ``limit + 1``, past `limit`)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return deepest
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def loads_json(data: bytes | str, origin: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` refusing nesting deeper than `max_depth`.

    Parameters
    ----------
    data : bytes or str
        The JSON text.
    origin : str
        What to name in messages: a path, or ``path:line``.
    max_depth : int
        The deepest nesting of arrays and objects accepted.

    Raises
    ------
    InputLimitError
        Nested deeper than `max_depth`.
    json.JSONDecodeError
        Not JSON (callers turn it into their own message).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") > max_depth and \
            json_depth(raw, max_depth) > max_depth:
        raise InputLimitError(
            f"{origin}: JSON nested deeper than {max_depth} levels (a corrupt or hostile file)"
        )
    return json.loads(data)
