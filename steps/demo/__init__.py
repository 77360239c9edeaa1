"""``csst-crds demo``: a cache built by deliveries, a simulated exposure, ``csst_level1`` on it.

Found by the engine's ``csst-crds demo`` through the ``csst_crds_plugin.demo`` entry point (the
engine never imports the steps or data models itself).
"""

from __future__ import annotations

from steps.demo.run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
