"""``csst-crds certify``: check reference and mapping files before they enter a cache."""

from csst_crds_plugin.tools.certify.api import certify_context, certify_files
from csst_crds_plugin.tools.certify.report import CertifyReport, FileReport

__all__ = ["CertifyReport", "FileReport", "certify_context", "certify_files"]
