"""Conditioning only the keys a lookup reads equals conditioning the whole header first."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.context import condition_parameters

KEYS = ["INSTRUME", "instrume", "Instrume", "DETECTOR", "detector", "READMODE", "readMode",
        "DATE-OBS", "date-obs", "TIME-OBS", "EXPTIME", "exptime", "OTHER", "META.X"]
VALUES = st.one_of(
    st.sampled_from(["MSC", "msc", " msc ", "06", "6", "08", "FAST", "fast", "N/A", "ANY",
                     "UNDEFINED", "2027-01-01", "2027-01-02", "00:00:00", "12:30:00.5", "nonsense",
                     ""]),
    st.integers(-5, 40), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.none(), st.lists(st.integers(), max_size=2),
)
HEADERS = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.integers(0, 3)), VALUES, max_size=10)


def _outcome(call):  # noqa: ANN001, ANN202 - a result, or the error's type and text
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the comparison is the point
        return type(exc).__name__, str(exc)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=HEADERS)
def test_prepared_header_equals_fully_conditioned(tiny_cache: Path, header: dict) -> None:
    pmap = ReferenceProvider(cache=tiny_cache, context="csst_0001.pmap").pmap

    def full():  # noqa: ANN202
        conditioned = condition_parameters(header, pmap.observatory)
        imap = pmap.imap(pmap.find_instrument(conditioned))
        return imap.name, pmap.minimise(conditioned, imap)

    def prepared():  # noqa: ANN202
        imap, minimal = pmap._prepare(header)
        return imap.name, minimal

    assert _outcome(prepared) == _outcome(full)

    def results(conditioned: bool):  # noqa: ANN202
        given_header = condition_parameters(header, pmap.observatory) if conditioned else header
        imap, found = pmap.best_references(given_header, conditioned=conditioned)
        return imap.name, {k: str(v) if isinstance(v, Exception) else v for k, v in found.items()}

    assert _outcome(lambda: results(False)) == _outcome(lambda: results(True))
