"""Errors of insert, newcontext and deliver; each names the file and what to do."""

from __future__ import annotations

from csst_crds_plugin.errors import CacheError, CsstCrdsError, RuleValidationError

__all__ = ["DeliveryError", "DependencyError", "InsertionError", "LockTimeoutError",
           "StaleContextError"]


class DeliveryError(CsstCrdsError):
    """A delivery was refused; nothing of it was published."""


class DependencyError(DeliveryError):
    """A reference names a reference it was built from (``R_BIAS``, ``R_DARK``) not in the cache."""


class InsertionError(RuleValidationError):
    """A reference cannot be inserted into an rmap (missing keyword, ambiguity, bad value)."""


class StaleContextError(DeliveryError):
    """The latest context moved on since the new context was derived; derive it again."""


class LockTimeoutError(CacheError):
    """The rules lock of a cache could not be taken in time."""
