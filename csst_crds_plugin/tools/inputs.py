"""Reading FITS headers and ASDF trees with limits, before any library walks them.

* **FITS**: :func:`read_fits_headers` walks the 2880-byte blocks itself: it reads header blocks
  only (never data), computes each data section's size from ``BITPIX``, ``NAXISn``, ``PCOUNT``
  and ``GCOUNT`` and seeks past it, and refuses a data section that does not fit in the file
  (a truncated file, or a header declaring gigabytes the file does not hold), a header without
  ``END`` within :data:`MAX_HEADER_BLOCKS` blocks, and cards holding bytes outside printable
  ASCII (the FITS standard allows no others). Each header is then parsed by astropy.
* **ASDF**: :func:`check_asdf` reads the YAML tree (up to :data:`MAX_YAML_BYTES`) and composes
  it with the pure-Python safe composer, where an alias is one shared node; it then counts the
  tree as a reader walking it would see it (every alias expanded) and refuses a tree deeper than
  :data:`MAX_YAML_DEPTH` or whose aliases add more than :data:`MAX_ALIAS_NODES` nodes (a "billion
  laughs" bomb), before ``asdf.open`` walks it.

Every refusal is an :class:`~csst_crds_plugin.errors.InputLimitError` naming the file and why.
"""

from __future__ import annotations

import gzip
import math
import os
import warnings
from pathlib import Path
from typing import Any, BinaryIO

from csst_crds_plugin.errors import InputLimitError

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_HEADER_BLOCKS",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "FitsHdu",
    "check_asdf",
    "check_fits",
    "check_yaml",
    "read_fits_headers",
]

BLOCK = 2880
CARD = 80
MAX_HEADER_BLOCKS = 2000
"""Blocks one FITS header may span (72,000 cards)."""
MAX_YAML_BYTES = 64 << 20
"""The largest ASDF YAML tree read."""
MAX_YAML_DEPTH = 100
"""The deepest nesting of an ASDF tree."""
MAX_ALIAS_NODES = 1_000_000
"""How many nodes aliases may add to an ASDF tree when expanded."""

_END = b"END" + b" " * (CARD - 3)


class FitsHdu:
    """One HDU: its index, parsed astropy header, and where its data starts and ends."""

    __slots__ = ("data_end", "data_start", "header", "index")

    def __init__(self, index: int, header: Any, data_start: int, data_end: int) -> None:
        self.index = index
        self.header = header
        self.data_start = data_start
        self.data_end = data_end

    @property
    def name(self) -> str:
        """``EXTNAME`` upper-cased (``PRIMARY`` for the first HDU without one)."""
        value = self.header.get("EXTNAME", "PRIMARY" if self.index == 0 else "")
        return str(value).strip().upper()

    @property
    def is_image(self) -> bool:
        """The primary HDU, an IMAGE extension or a tile-compressed image."""
        kind = str(self.header.get("XTENSION", "")).strip().upper()
        return self.index == 0 or kind == "IMAGE" or \
            (kind == "BINTABLE" and self.header.get("ZIMAGE") is True)


def _open(path: Path) -> tuple[BinaryIO, int | None]:
    """Open the stream and return its size (None for gzip, whose size is only known at its end)."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb"), None  # type: ignore[return-value]  # a binary file object
    stream = path.open("rb")
    return stream, os.fstat(stream.fileno()).st_size


def _header_bytes(stream: BinaryIO, path: Path, index: int) -> bytes | None:
    """Return the header blocks of the HDU starting here; None at a clean end of file."""
    blocks = []
    for count in range(MAX_HEADER_BLOCKS):
        block = stream.read(BLOCK)
        if not block and count == 0:
            return None
        if count == 0 and not block.startswith(b"XTENSION=" if index else b"SIMPLE  ="):
            if index == 0:
                raise InputLimitError(f"{path}: not a FITS file (it does not start with SIMPLE)")
            return None  # bytes after the last HDU that are no HDU: ignored, as astropy does
        if len(block) < BLOCK:
            raise InputLimitError(f"{path}: truncated: HDU {index} ends inside its header "
                                  "(no END card before the end of the file)")
        blocks.append(block)
        for start in range(0, BLOCK, CARD):
            if block[start:start + CARD] == _END:
                return b"".join(blocks)
    raise InputLimitError(f"{path}: HDU {index} has no END card within {MAX_HEADER_BLOCKS} "
                          "header blocks; not a FITS file, or a corrupt one")


def _check_cards(raw: bytes, path: Path, index: int) -> None:
    bad = raw.translate(None, bytes(range(0x20, 0x7F)))
    if bad:
        position = next(i for i, byte in enumerate(raw) if not 0x20 <= byte <= 0x7E)
        card = position // CARD + 1
        raise InputLimitError(
            f"{path}: HDU {index} card {card} holds the control or non-ASCII byte "
            f"0x{raw[position]:02x}; FITS headers are printable ASCII only (a corrupt file)")


def _integer(header: Any, key: str, default: int, path: Path, index: int) -> int:
    value = header.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputLimitError(f"{path}: HDU {index}: {key} = {value!r} is not a count")
    return value


def _data_size(header: Any, path: Path, index: int) -> int:
    """Bytes of the data section, without padding (FITS 4.0 §4.4.1.1, §7.1.2)."""
    bitpix = header.get("BITPIX")
    if bitpix not in (8, 16, 32, 64, -32, -64):
        raise InputLimitError(f"{path}: HDU {index}: BITPIX = {bitpix!r} is not a FITS BITPIX")
    naxis = _integer(header, "NAXIS", 0, path, index)
    if naxis == 0:
        return 0
    if naxis > 999:
        raise InputLimitError(f"{path}: HDU {index}: NAXIS = {naxis} is over 999")
    axes = [_integer(header, f"NAXIS{i}", 0, path, index) for i in range(1, naxis + 1)]
    if index == 0 and axes[0] == 0 and header.get("GROUPS") is True:
        axes = axes[1:]  # random groups
    elif index == 0 and axes[0] == 0:
        return 0
    count = _integer(header, "GCOUNT", 1, path, index) * (
        _integer(header, "PCOUNT", 0, path, index) + math.prod(axes))
    return abs(int(bitpix)) // 8 * count  # bitpix is one of the six ints checked above


def _parse(raw: bytes, path: Path, index: int) -> Any:
    from astropy.io import fits

    _check_cards(raw, path, index)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = fits.Header.fromstring(raw.decode("ascii"))
            for card in header.cards:  # parse every card now, so a bad one is found here
                card.value  # noqa: B018
    except Exception as exc:  # astropy raises several kinds for malformed cards
        raise InputLimitError(f"{path}: HDU {index}: unreadable header: {exc}") from exc
    return header


def read_fits_headers(path: str | Path, stop: Any = None) -> list[FitsHdu]:
    """Return the HDUs of a FITS file (headers only), checked as the module docstring says.

    Parameters
    ----------
    path : path
        A FITS file (``.gz`` is read through gzip).
    stop : callable, optional
        ``stop(hdu) -> bool``: stop walking after the first HDU for which it is true.
    """
    path = Path(path)
    found: list[FitsHdu] = []
    stream, size = _open(path)
    with stream:
        while True:
            index = len(found)
            start = stream.tell()
            raw = _header_bytes(stream, path, index)
            if raw is None:
                break
            header = _parse(raw, path, index)
            data_start = start + len(raw)
            data_end = data_start + _data_size(header, path, index)
            _skip(stream, size, data_end, path, index)
            hdu = FitsHdu(index, header, data_start, data_end)
            found.append(hdu)
            if stop is not None and stop(hdu):
                break
    return found


def _skip(stream: BinaryIO, size: int | None, end: int, path: Path, index: int) -> None:
    """Seek past the data ending at `end` and its padding; refuse data the file does not hold.

    The padding of the last data section may be missing (some writers omit it).
    """
    if size is None:  # gzip: seeking forward decompresses; a short stream stops at its end
        stream.seek(max(end - 1, 0))
        size = stream.tell() + len(stream.read(1))
    if size < end:
        raise InputLimitError(
            f"{path}: truncated: HDU {index} declares data up to byte {end}, but the file "
            f"holds {size} bytes (cut short, or a header that does not match the file)")
    stream.seek(min(-(-end // BLOCK) * BLOCK, size))


def check_fits(path: str | Path) -> None:
    """Walk every HDU of a FITS file (see :func:`read_fits_headers`); raise if one fails."""
    read_fits_headers(path)


_BLOCK_MAGIC = b"\xd3BLK"
_BLOCK_HEADER = 48  # flags, compression, allocated, used and data sizes, checksum


def _yaml_text(path: Path) -> tuple[bytes, int]:
    """Return the YAML tree of an ASDF file (up to its end marker) and where its blocks start."""
    with path.open("rb") as stream:
        data = stream.read(MAX_YAML_BYTES + 1)
    end = data.find(b"\n...\n")
    first = data.find(_BLOCK_MAGIC, end if end >= 0 else 0)
    if end >= 0:
        return data[:end + 1], (first if first >= 0 else -1)
    if first >= 0:
        return data[:first], first
    if len(data) > MAX_YAML_BYTES:
        raise InputLimitError(f"{path}: the ASDF tree is larger than {MAX_YAML_BYTES >> 20} MB")
    return data, -1


def _check_blocks(path: Path, start: int) -> None:
    """Walk the binary block headers; a block the file does not hold means it is truncated."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        position = start
        while position < size:
            stream.seek(position)
            head = stream.read(6)
            if head[:4] != _BLOCK_MAGIC:
                return  # the optional block index (or other trailing text) follows the blocks
            if len(head) < 6:
                break
            header_size = int.from_bytes(head[4:6], "big")
            fields = stream.read(header_size)
            if header_size < _BLOCK_HEADER or len(fields) < _BLOCK_HEADER:
                break
            allocated = int.from_bytes(fields[8:16], "big")
            position += 6 + header_size + allocated
            if position > size:
                break
        else:
            return
    raise InputLimitError(f"{path}: truncated: a binary block at byte {start} or later ends "
                          f"past the end of the file ({size} bytes)")


def _expanded(root: Any, path: Path, what: str) -> tuple[int, int, int]:
    """(distinct nodes, nodes with every alias expanded, depth), without recursion."""
    import yaml

    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            sizes[key], depths[key] = 1, 1
            continue
        children = [n for pair in node.value for n in pair] \
            if isinstance(node, yaml.MappingNode) else list(node.value)
        if done:
            active.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if depths[key] > MAX_YAML_DEPTH:
                raise InputLimitError(f"{path}: the {what} is nested deeper than "
                                      f"{MAX_YAML_DEPTH} levels (a corrupt or hostile file)")
            continue
        if key in sizes:
            continue
        if key in active:
            raise InputLimitError(f"{path}: the {what} contains itself (a recursive alias)")
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return len(sizes), sizes[id(root)], depths[id(root)]


def check_yaml(text: bytes | str, path: str | Path, what: str = "YAML document") -> None:
    """Refuse YAML nested deeper than :data:`MAX_YAML_DEPTH` or whose aliases expand too far.

    The text is composed (aliases stay shared nodes) and measured before anything walks it.
    """
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise InputLimitError(f"{path}: the {what} is nested deeper than {MAX_YAML_DEPTH} "
                              "levels (a corrupt or hostile file)") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputLimitError(f"{path}: not readable YAML ({what}: {first})") from exc
    if root is None:
        return
    distinct, expanded, _ = _expanded(root, Path(path), what)
    if expanded - distinct > MAX_ALIAS_NODES:
        raise InputLimitError(
            f"{path}: the {what}'s aliases expand it from {distinct} to {expanded} nodes "
            f"(over {MAX_ALIAS_NODES} more; a YAML alias bomb, or a corrupt file)")


def check_asdf(path: str | Path) -> None:
    """Refuse an ASDF file whose blocks, YAML depth or alias expansion exceed the limits.

    The blocks must fit the file; the tree's depth and aliases are checked by
    :func:`check_yaml`.
    """
    path = Path(path)
    text, blocks = _yaml_text(path)
    if blocks >= 0:
        _check_blocks(path, blocks)
    if not text.strip():
        raise InputLimitError(f"{path}: not a readable ASDF file (no YAML tree)")
    check_yaml(text, path, "ASDF tree")
