"""Affected-dataset analysis: which catalogued datasets select other references under a new context.

A catalogue (catalog.py, catalog_io.py; built from FITS/ASDF files by scan.py) is split into
parts; each part is compared under the two contexts with bulk lookups, for the instruments and
reference types whose rules changed (plan.py, analysis.py), in this process, on all cores or on
Dask (runners.py); find.py drives it and report.py writes the result. outcomes.py defines what
counts as a changed selection; change_reasons.py tells which rule change moved one dataset.
"""

from csst_crds_plugin.tools.affected.catalog import Catalog, CatalogColumn, CatalogError
from csst_crds_plugin.tools.affected.catalog_io import read_catalog, write_catalog
from csst_crds_plugin.tools.affected.find import find_affected, prepare_job
from csst_crds_plugin.tools.affected.outcomes import compare_rows
from csst_crds_plugin.tools.affected.plan import ChangePlan, plan_changes
from csst_crds_plugin.tools.affected.report import AffectedReport, write_report

__all__ = [
    "AffectedReport",
    "Catalog",
    "CatalogColumn",
    "CatalogError",
    "ChangePlan",
    "compare_rows",
    "find_affected",
    "plan_changes",
    "prepare_job",
    "read_catalog",
    "write_catalog",
    "write_report",
]
