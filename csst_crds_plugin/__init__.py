"""csst-crds-plugin: CRDS-syntax reference selection for the CSST pipelines.

The public API is :class:`ReferenceProvider`; errors derive from :class:`CsstCrdsError`.
"""

import logging

from csst_crds_plugin.errors import (
    AmbiguousMatchError,
    CacheError,
    ChecksumError,
    ConfigurationError,
    CsstCrdsError,
    CsstCrdsWarning,
    FileNotCachedError,
    InvalidDateError,
    InvalidNumberError,
    InvalidValueError,
    InvalidVersionError,
    MissingInstrumentError,
    MissingParameterError,
    NoMatchError,
    ReferenceLookupError,
    RuleSyntaxError,
    RuleValidationError,
    UnknownInstrumentError,
    UnknownReftypeError,
)
from csst_crds_plugin.provider import ReferenceProvider
from csst_crds_plugin.results import NA, NOT_APPLICABLE, Selection

__version__ = "0.1.0"

__all__ = [
    "NA",
    "NOT_APPLICABLE",
    "AmbiguousMatchError",
    "CacheError",
    "ChecksumError",
    "ConfigurationError",
    "CsstCrdsError",
    "CsstCrdsWarning",
    "FileNotCachedError",
    "InvalidDateError",
    "InvalidNumberError",
    "InvalidValueError",
    "InvalidVersionError",
    "MissingInstrumentError",
    "MissingParameterError",
    "NoMatchError",
    "ReferenceLookupError",
    "ReferenceProvider",
    "RuleSyntaxError",
    "RuleValidationError",
    "Selection",
    "UnknownInstrumentError",
    "UnknownReftypeError",
    "__version__",
]

# A library adds only a NullHandler: applications (and strun) configure the output.
logging.getLogger(__name__).addHandler(logging.NullHandler())
