"""Bad and hostile input files.

FITS and ASDF are read with limits, and batch commands (``bestrefs --files``, ``catalog
build``, ``affected``) report each bad input and go on.
"""

from __future__ import annotations

import json
from pathlib import Path

import asdf
import pytest
from astropy.io import fits

from csst_crds_plugin.cli.main import main
from csst_crds_plugin.errors import InputLimitError
from csst_crds_plugin.tools.affected import CatalogError, read_catalog
from csst_crds_plugin.tools.affected.scan import scan_file
from csst_crds_plugin.tools.inputs import MAX_ALIAS_NODES, check_asdf, read_fits_headers

OLD, NEW = "csst_0001.pmap", "csst_0002.pmap"
CARDS = {"INSTRUME": "MSC", "DETECTOR": "06", "READMODE": "FAST", "DATE-OBS": "2027-01-15",
         "TIME-OBS": "10:00:00"}


def _primary(**cards: object) -> fits.Header:
    header = fits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = 8
    header["NAXIS"] = 0
    header.update(cards)
    return header


def model_fits(path: Path) -> Path:
    """Write a file: primary (no data) and a 64x64 float32 SCI image holding the keywords."""
    import numpy as np

    sci = fits.ImageHDU(np.zeros((64, 64), np.float32), name="SCI")
    sci.header.update(CARDS)
    fits.HDUList([fits.PrimaryHDU(), sci]).writeto(path)
    return path


def asdf_file(path: Path, extra_yaml: bytes = b"") -> Path:
    meta = {"instrument": {"name": "MSC", "detector": "06", "readmode": "FAST"},
            "observation": {"date": "2027-01-15", "time": "10:00:00"}}
    asdf.AsdfFile({"meta": meta}).write_to(path)
    if extra_yaml:
        text = path.read_bytes()
        at = text.index(b"meta:")
        path.write_bytes(text[:at] + extra_yaml + text[at:])
    return path


def alias_bomb(levels: int = 9) -> bytes:
    lines = [b"bomb:", b"  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"  a{level}: &a{level} [".encode()
                     + b", ".join([f"*a{level - 1}".encode()] * 10) + b"]")
    return b"\n".join(lines) + b"\n"


# -- FITS ----------------------------------------------------------------------------------------
def test_headers_are_read_without_data_and_agree_with_astropy(tmp_path: Path) -> None:
    path = model_fits(tmp_path / "m.fits")
    hdus = read_fits_headers(path)
    with fits.open(path) as hdul:
        assert [(h.name, dict(h.header)) for h in hdus] == \
            [(hdu.name, dict(hdu.header)) for hdu in hdul]
        assert hdus[1].data_start == hdul[1]._data_offset
    assert scan_file(path)["DETECTOR"] == "06"


def test_a_truncated_fits_file_is_reported_as_truncated_not_missing_instrument(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = model_fits(tmp_path / "whole.fits").read_bytes()
    for cut in (2880 + 1000, 2 * 2880 + 5000):  # inside the SCI header; inside its data
        path = tmp_path / f"cut{cut}.fits"
        path.write_bytes(whole[:cut])
        with pytest.raises(CatalogError, match=rf"^{path}: truncated: HDU 1 "):
            scan_file(path)
        assert main(["bestrefs", "--cache", str(tmp_path), "--context", OLD,
                     "--files", str(path)]) == 1
        line = json.loads(capsys.readouterr().out)
        assert line["id"] == str(path) and "truncated" in line["error"]["message"]
        assert "missing-instrument" not in json.dumps(line)


def test_data_larger_than_the_file_is_refused_and_a_sparse_file_is_not_read(
        tmp_path: Path) -> None:
    header = _primary(**CARDS)
    header["NAXIS"] = 1
    header["NAXIS1"] = 2_000_000_000
    raw = header.tostring().encode()
    short = tmp_path / "short.fits"
    short.write_bytes(raw + b"\0" * 2880)
    with pytest.raises(CatalogError, match="declares data up to byte 2000002880, but the file "
                                           "holds 5760 bytes"):
        scan_file(short)
    sparse = tmp_path / "sparse.fits"  # 2 GB of holes after the header: seeked over, not read
    with sparse.open("wb") as stream:
        stream.write(raw)
        stream.truncate(len(raw) + 2_000_000_000)
    found = scan_file(sparse)
    assert {key: found.get(key) for key in CARDS} == CARDS
    assert read_fits_headers(sparse)[0].data_end == len(raw) + 2_000_000_000
    # A header followed by 2 GB of holes: the zeros are no extension header, so the walk stops
    # at once (astropy's own walk searched them for a header for minutes).
    holes = tmp_path / "holes.fits"
    with holes.open("wb") as stream:
        stream.write(_primary(**CARDS).tostring().encode())
        stream.truncate(stream.tell() + 2_000_000_000)
    found = scan_file(holes)
    assert {key: found.get(key) for key in CARDS} == CARDS
    assert [h.index for h in read_fits_headers(holes)] == [0]


@pytest.mark.parametrize("byte", [0x00, 0x07, 0x1B, 0x7F, 0xE9])
def test_a_card_with_a_control_byte_is_one_error_naming_the_card(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], byte: int) -> None:
    raw = bytearray(_primary(**CARDS).tostring().encode())
    at = raw.index(b"DETECTOR")
    raw[at + 12] = byte
    path = tmp_path / "ctrl.fits"
    path.write_bytes(bytes(raw))
    with pytest.raises(CatalogError, match=rf"ctrl.fits: HDU 0 card 5 holds the control or "
                                           rf"non-ASCII byte 0x{byte:02x}"):
        scan_file(path)
    assert main(["catalog", "build", str(tmp_path), "-o", str(tmp_path / "c.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "card 5 holds the control" in err


def test_malformed_cards_and_headers_are_errors_naming_the_file(tmp_path: Path) -> None:
    cases = {
        "noend.fits": _primary(**CARDS).tostring().encode().replace(b"END" + b" " * 77,
                                                                    b" " * 80),
        "bitpix.fits": _primary(**CARDS).tostring().encode().replace(
            b"BITPIX  =                    8", b"BITPIX  =                   12"),
        "naxis.fits": _primary(**CARDS).tostring().encode().replace(
            b"NAXIS   =                    0", b"NAXIS   =                   -1"),
        "notfits.fits": b"hello world\n",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputLimitError, match=rf"^{tmp_path / name}: "):
            read_fits_headers(tmp_path / name)


def test_gzipped_fits_is_read_and_a_truncated_one_refused(tmp_path: Path) -> None:
    import gzip

    data = model_fits(tmp_path / "m.fits").read_bytes()
    good = tmp_path / "m.fits.gz"
    good.write_bytes(gzip.compress(data))
    assert scan_file(good)["DETECTOR"] == "06"
    cut = tmp_path / "cut.fits.gz"
    cut.write_bytes(gzip.compress(data[:2 * 2880 + 5000]))
    with pytest.raises(CatalogError, match="truncated"):
        scan_file(cut)


# -- ASDF ----------------------------------------------------------------------------------------
def test_an_asdf_alias_bomb_is_refused_before_asdf_walks_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = asdf_file(tmp_path / "bomb.asdf", alias_bomb())
    with pytest.raises(CatalogError, match=r"bomb.asdf: the ASDF tree's aliases expand it from "
                                           r"\d+ to \d{10} nodes"):
        scan_file(path)
    good = asdf_file(tmp_path / "good.asdf")
    assert main(["bestrefs", "--cache", str(tmp_path), "--context", OLD, "--files", str(path),
                 str(good)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == [str(path), str(good)]
    assert "alias" in lines[0]["error"]["message"]


def test_small_aliases_pass_and_the_limit_is_on_expansion(tmp_path: Path) -> None:
    check_asdf(asdf_file(tmp_path / "small.asdf", alias_bomb(levels=3)))  # 1,000 nodes
    assert MAX_ALIAS_NODES < 10 ** 7
    with pytest.raises(InputLimitError, match="aliases expand"):
        check_asdf(asdf_file(tmp_path / "big.asdf", alias_bomb(levels=7)))  # 10^7 nodes


@pytest.mark.parametrize("nested", [b"deep: " + b"[" * 5000 + b"]" * 5000 + b"\n",
                                    b"deep: " + b"- " * 3000 + b"x\n"])
def test_an_over_deep_asdf_tree_is_refused(tmp_path: Path, nested: bytes) -> None:
    path = asdf_file(tmp_path / "deep.asdf", nested)
    with pytest.raises(CatalogError, match=r"deep.asdf: (the ASDF tree is nested deeper|not "
                                           r"readable YAML \(ASDF tree)"):
        scan_file(path)


# -- batch commands keep going -------------------------------------------------------------------
def test_bestrefs_files_reports_each_bad_file_and_exits_1(
        contexts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = model_fits(tmp_path / "good.fits")
    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"junk")
    missing = tmp_path / "missing.fits"
    code = main(["bestrefs", "--cache", str(contexts), "--context", NEW, "--types", "bias",
                 "--files", str(junk), str(good), str(missing)])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1
    assert [line["id"] for line in lines] == [str(junk), str(good), str(missing)]
    assert lines[1] == {"id": str(good), "results": {"bias": "csst_msc_bias_06_014_redo.fits"}}
    assert "not a FITS file" in lines[0]["error"]["message"]
    assert "No such file" in lines[2]["error"]["message"]
    err = captured.err.strip().splitlines()
    assert len(err) == 2 and str(junk) in err[0] and str(missing) in err[1]


def test_bestrefs_exits_1_when_a_lookup_fails_and_0_when_none_does(
        contexts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(CARDS) + "\n", encoding="utf-8")
    args = ["bestrefs", "--cache", str(contexts), "--context", NEW, "--types", "bias",
            "--headers", str(cases)]
    assert main(args) == 0
    capsys.readouterr()
    cases.write_text(json.dumps({**CARDS, "DETECTOR": "99"}) + "\n" + json.dumps(CARDS) + "\n",
                     encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert main([*args, "-o", str(output)]) == 1
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert lines[0]["results"]["bias"]["error"] == "invalid-value"  # the failure is written too
    assert lines[1]["results"]["bias"] == "csst_msc_bias_06_014_redo.fits"
    assert "1 case(s) with a failed lookup" in capsys.readouterr().err
    # every lookup failing is a failure, not success
    cases.write_text(json.dumps({"DETECTOR": "06"}) + "\n", encoding="utf-8")
    assert main(args) == 1


def test_catalog_build_reports_each_unreadable_file_and_writes_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    model_fits(data / "a.fits")
    model_fits(data / "c.fits")
    (data / "b.fits").write_bytes(model_fits(tmp_path / "x.fits").read_bytes()[:7000])
    asdf_file(data / "d.asdf", alias_bomb())
    out = tmp_path / "catalog.jsonl"
    assert main(["catalog", "build", str(data), "-o", str(out), "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == \
        ["a.fits", "c.fits"]
    err = captured.err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"csst-crds catalog: skipped {data / 'b.fits'}: truncated")
    assert err[1].startswith(f"csst-crds catalog: skipped {data / 'd.asdf'}: the ASDF tree's")
    assert "2 unreadable files skipped" in captured.out
    assert main(["catalog", "build", str(data), "-o", str(out), "--skip-unreadable"]) == 0


def test_affected_reports_bad_rows_goes_on_and_exits_1(
        contexts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"id": "nested", **CARDS, "DETECTOR": ["06"]},
        {"id": "redo", **CARDS},
        {"id": "typed", **CARDS, "INSTRUME": 5},
        {"id": "none", "DETECTOR": "06"},
    ]
    catalog = tmp_path / "rows.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = tmp_path / "report.json"
    assert main(["affected", OLD, NEW, "--cache", str(contexts), "--catalog", str(catalog),
                 "--jobs", "1", "-o", str(report)]) == 1
    found = json.loads(report.read_text())
    assert [d["id"] for d in found["datasets"]] == ["redo"]
    assert found["unreadable_lines"] == [
        f"{catalog}:1: the value of 'DETECTOR' is a list; catalogue values must be strings, "
        "numbers, booleans or null"]
    assert found["unusable_datasets"] == [
        {"id": "typed", "reason": "INSTRUME='5' is an instrument of neither context"},
        {"id": "none", "reason": "no INSTRUME value"}]
    err = capsys.readouterr().err
    assert "rows.jsonl:1: the value of 'DETECTOR'" in err and "dataset 'typed'" in err
    assert "3 input(s) could not be compared" in err


@pytest.mark.parametrize(("text", "message"), [
    ('{"id": "a", "A": 1}\n{"id": "a", "A": 2}\n',
     "the id 'a' is given to rows 1 and 2"),
    ('{"id": 7, "A": 1}\n{"id": 8, "A": 1}\n{"id": 7, "A": 2}\n',
     "the id 7 is given to rows 1 and 3"),
    ('{"id": "a", "A": 1}\n{"id": null, "A": 2}\n', "rows.jsonl:2: the id None is missing"),
    ('{"id": "a", "A": 1}\n{"id": "", "A": 2}\n', "rows.jsonl:2: the id '' is missing"),
])
def test_duplicate_or_missing_ids_are_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        read_catalog(path)


def test_duplicate_or_empty_ids_in_csv_and_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("id,A\nx,1\ny,2\nx,3\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="the id 'x' is given to rows 1 and 3"):
        read_catalog(csv_path)
    csv_path.write_text("id,A\nx,1\n,2\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"rows.csv:3: the 'id' cell is empty"):
        read_catalog(csv_path)
    parquet = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"id": [1, 2, 1], "A": ["a", "b", "c"]}), parquet)
    with pytest.raises(CatalogError, match="the id 1 is given to rows 1 and 3"):
        read_catalog(parquet)


def test_a_truncated_asdf_file_is_reported_as_truncated(tmp_path: Path) -> None:
    import numpy as np

    path = tmp_path / "whole.asdf"
    asdf.AsdfFile({"meta": {"instrument": {"name": "MSC"}},
                   "data": np.zeros((64, 64))}).write_to(path)
    data = path.read_bytes()
    blocks = data.index(b"\xd3BLK")
    for cut in (blocks + 4, blocks + 10, len(data) - 100):  # in a block header; in the data
        path.write_bytes(data[:cut])
        with pytest.raises(CatalogError, match=rf"^{path}: truncated: a binary block"):
            scan_file(path)
    path.write_bytes(data[:200])  # inside the YAML tree
    with pytest.raises(CatalogError, match=rf"^{path}: "):
        scan_file(path)


def test_certify_refuses_a_yaml_reference_with_an_alias_bomb_or_deep_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from csst_crds_plugin.tools.certify.readers import read_reference

    bomb = tmp_path / "csst_ifs_arc_0001.yaml"
    bomb.write_bytes(b"meta:\n  INSTRUME: IFS\n" + alias_bomb())
    with pytest.raises(InputLimitError, match="YAML document's aliases expand it"):
        read_reference(bomb)
    deep = tmp_path / "csst_ifs_arc_0002.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputLimitError, match="JSON nested deeper than 100 levels"):
        read_reference(deep)
    assert main(["certify", str(bomb), str(deep)]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text and "RecursionError" not in text
    assert "YAML document's aliases expand it" in text and "JSON nested deeper" in text
