"""Run CRDS's top-level calls offline on a cache and print the answers as JSON (for the tests).

Usage: ``python crds_child.py CACHE CALLS.json``; CALLS is a list of
``[function, args, kwargs]``. Each answer is ``{"value": ...}`` or ``{"raises": class name}``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> None:
    cache, calls_path = sys.argv[1:3]
    os.environ.update(CRDS_PATH=cache, CRDS_MODE="local", CRDS_OBSERVATORY="jwst",
                      CRDS_SERVER_URL="https://jwst-serverless-mode.invalid")
    for name in ("CRDS_CONTEXT", "CSST_CRDS_PATH", "CSST_CRDS_CONTEXT"):
        os.environ.pop(name, None)
    import crds
    from crds.core import log

    log.set_verbose(0)
    with Path(calls_path).open(encoding="utf-8") as stream:
        calls = json.load(stream)
    answers = []
    for function, args, kwargs in calls:
        try:
            answers.append({"value": getattr(crds, function)(*args, **kwargs)})
        except Exception as exc:  # the class is what the test compares
            answers.append({"raises": type(exc).__name__})
    sys.stdout.write(json.dumps(answers) + "\n")


if __name__ == "__main__":
    main()
