"""CSST calibration steps and pipelines on stpipe, with references from csst-crds-plugin.

Run them with ``strun csst_level1 exposure.fits`` (aliases ``csst_dq_init``, ``csst_bias``,
``csst_gain``, ``csst_dark``, ``csst_flat``, ``csst_level1``), or from Python with
``stpipe.Step.from_cmdline([...])`` exactly as strun does, or ``DarkStep.call(model)``.
"""

import logging

from steps._base import CalibrationError, CsstPipeline, CsstStep
from steps.bias import BiasStep
from steps.dark import DarkStep
from steps.dq_init import DqInitStep
from steps.flat import FlatStep
from steps.gain import GainStep
from steps.level1 import Level1Pipeline

__all__ = [
    "BiasStep",
    "CalibrationError",
    "CsstPipeline",
    "CsstStep",
    "DarkStep",
    "DqInitStep",
    "FlatStep",
    "GainStep",
    "Level1Pipeline",
]

# A library adds only a NullHandler: applications (and strun) configure the output.
logging.getLogger(__name__).addHandler(logging.NullHandler())
