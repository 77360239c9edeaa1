"""Record how an output was made (step, input and its sha256, parameters) on ``meta.run``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from csst_crds_plugin.stpipe_integration._checksums import file_checksum

__all__ = ["record_run"]

log = logging.getLogger(__name__)


def record_run(step: Any, result: Any) -> bool:
    """Set ``meta.run`` of `result` when the model has one; False if it has none."""
    run = getattr(getattr(result, "meta", None), "run", None)
    if run is None:
        return False
    name = step.search_attr("_input_filename")
    path = None
    if name:
        path = Path(name) if Path(name).is_absolute() else Path(step.input_dir or ".") / name
    run.step = step.class_alias or f"{type(step).__module__}.{type(step).__qualname__}"
    if path is not None and path.is_file():
        run.input = str(path.resolve())
        run.input_checksum = file_checksum(path)
    else:
        run.input = name or None
        log.debug("%s: the input is not a file; a rerun will need it", run.step)
    run.parameters = json.dumps(step.get_pars(), sort_keys=True, default=str)
    return True
