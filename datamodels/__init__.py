"""CSST data models: pydantic metadata, FITS/ASDF (and TOML/YAML) I/O, selection parameters.

Models follow stpipe's data-model protocol by duck typing: ``crds_observatory = "csst"``,
``get_crds_parameters()``, ``save()``, ``meta`` (with ``meta.filename``), ``copy()``,
``close()`` and use as a context manager.  ``datamodels.open(path | HDUList | model)``
picks the class from ``DATAMODL`` / ``meta.model_type``, else ``REFTYPE``, else the
extension names.

Header cards beyond the metadata (WCS, ``GAIN1``, ``EXPSTART``, ...) are kept in
``model.extra_fits`` (primary and SCI headers) and written back, so level-0 → level-1 keeps them.
FITS data are memory-mapped where astropy can (not uint16 stored with ``BZERO``); ASDF arrays
are read on first use.  Closing a model makes arrays not yet read unavailable.
`iter_row_blocks` and `read_rows` give a 2-D array by blocks of rows in native byte order,
straight from a FITS file (one read per block) when it is still there, so a full-size
detector array is never read whole; `array_shape` gives its shape without reading it.

Errors and warnings
-------------------
Every error is a `datamodels.errors.DataModelError` (a `ValueError`); metadata problems raise
`MetadataError`, whose message names the keyword, the value, where it came from and what is
allowed, e.g. ``DETECTOR='CCD99' (primary header of a.fits) is not a CSST MSC detector;
allowed: 01..30``.  Warnings are `MetadataWarning` (a `DataModelWarning`, a `UserWarning`).

**Errors** (the value contradicts a confirmed fact or a fixed format):

* OBSID that is not 11 digits with a non-zero module digit;
* INSTRUME not one of MSC, MCI, IFS, CPIC, HSTDM;
* DETECTOR not on the instrument's confirmed list (MSC ``01..30``, MCI ``C1..C3``,
  CPIC ``EMCCD``/``NIR``);
* MSC FILTER not a CSST band, or not the band of that chip (CSST.md §1.1);
* DATE-OBS not ``YYYY-MM-DD`` (a real date), TIME-OBS not ``HH:MM:SS[.ffffff]``, or a
  TIME-OBS that contradicts an ISO DATE-OBS; USEAFTER/OBSSTART/OBSEND not date-times;
* PEDIGREE not SIMULATION, GROUND, DUMMY, MODEL or ``INFLIGHT <date> <date>``;
* EXPTIME negative or not finite, RA/Dec out of range, a required keyword missing;
* a REFTYPE that does not fit the model class; a ``STA_*`` code other than 0 or 1;
* arrays of the wrong kind of dtype or shape (`ArrayError`); unknown ``DATAMODL``/``REFTYPE``
  when opening (`UnknownModelError`).

**Warnings** (the table behind the check is unconfirmed or invented, or the file is usable):

* an IFS detector other than ``IFS``, ``B``, ``R`` (unconfirmed layout);
* an MCI filter not in the invented channel table (CSST.md §5.1);
* a READMODE other than ``NORMAL``/``FAST`` (an invented placeholder);
* an OBSID module digit naming another instrument than INSTRUME;
* TELESCOP other than ``CSST``;
* a dark or flat reference saved without the provenance of its bias (and dark).

**Silent normalisation** (CSST.md §5.3): DETECTOR ``CCD06``/``6`` → ``06``, ``c1`` → ``C1``;
FILTER ``nuv``/``N`` → ``NUV``, ``Y`` → ``y``, ``gu`` → ``GU``; a missing MSC FILTER of an
exposure is taken from the chip; ``FILETYPE`` is read as ``OBSTYPE``, ``DETNAM``/``CHIPLAB`` as
``DETECTOR``, ``OBJ_RA``/``OBJ_DEC`` as ``RA_OBJ``/``DEC_OBJ``; an ISO ``DATE-OBS`` with a time
is split into DATE-OBS and TIME-OBS; float keywords are rounded to what a FITS card holds.

Provenance encoding: see `datamodels.provenance` (``R_<TYPE>``, ``S_<TYPE>``, ``H_<TYPE>``,
``CRDS_CTX``, ``CRDS_VER``; ``STA_<STEP>`` with 0 = COMPLETE, 1 = SKIPPED).
"""

from __future__ import annotations

import logging

from csst_crds_plugin.results import NA, RefSource
from datamodels._base import DataModel, model_classes
from datamodels._blocks import block_rows
from datamodels._io import open
from datamodels._rows import array_shape, iter_row_blocks, read_rows
from datamodels._spec import ArraySpec
from datamodels.errors import (
    ArrayError,
    DataModelError,
    DataModelWarning,
    MetadataError,
    MetadataWarning,
    UnknownModelError,
)
from datamodels.instruments import ObsId, parse_obsid
from datamodels.meta import ExposureMeta, ReferenceMeta
from datamodels.models import (
    ArcRefModel,
    BiasRefModel,
    CrosstalkRefModel,
    DarkRefModel,
    FlatRefModel,
    GainRefModel,
    ImageModel,
    MaskRefModel,
    RawModel,
    ReadnoiseRefModel,
    ReferenceModel,
    SaturationRefModel,
)
from datamodels.provenance import StepStatus

__all__ = [
    "NA",
    "ArcRefModel",
    "ArrayError",
    "ArraySpec",
    "BiasRefModel",
    "CrosstalkRefModel",
    "DarkRefModel",
    "DataModel",
    "DataModelError",
    "DataModelWarning",
    "ExposureMeta",
    "FlatRefModel",
    "GainRefModel",
    "ImageModel",
    "MaskRefModel",
    "MetadataError",
    "MetadataWarning",
    "ObsId",
    "RawModel",
    "ReadnoiseRefModel",
    "RefSource",
    "ReferenceMeta",
    "ReferenceModel",
    "SaturationRefModel",
    "StepStatus",
    "UnknownModelError",
    "array_shape",
    "block_rows",
    "iter_row_blocks",
    "model_classes",
    "open",
    "parse_obsid",
    "read_rows",
]

# A library adds only a NullHandler: applications (and strun) configure the output.
logging.getLogger(__name__).addHandler(logging.NullHandler())
