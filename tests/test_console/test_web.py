"""The console over HTTP: a real uvicorn server on 127.0.0.1 and every route."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from astropy.io import fits

from csst_crds_plugin import ReferenceProvider
from csst_crds_plugin.cache import CacheLayout, load_config
from csst_crds_plugin.tools.audit import read_audit


def _client(console) -> httpx.Client:
    return httpx.Client(base_url=console.url, timeout=120)


def _operational(cache: Path) -> str:
    return str(load_config(CacheLayout(cache, "csst")).operational)


def test_browse_pages(demo_cache: Path, console_server) -> None:
    console = console_server(demo_cache)
    operational = _operational(demo_cache)
    with _client(console) as client:
        home = client.get("/")
        assert home.status_code == 200
        found = re.search(r'id="operational">Operational context:\s*<a href="([^"]+)">([^<]+)<',
                          home.text)
        assert found and found.group(2) == operational
        context = client.get(found.group(1))
        assert context.status_code == 200 and "csst_msc_flat_" in context.text
        rmap = re.search(r'href="\.\./rmap/(csst_msc_flat_\d+\.rmap)"', context.text).group(1)
        rules = client.get(f"/rmap/{rmap}").text
        flat = ReferenceProvider(cache=demo_cache).best_references(
            {"INSTRUME": "MSC", "DETECTOR": "06", "FILTER": "y", "DATE-OBS": "2027-01-02",
             "TIME-OBS": "10:00:00"}, ["flat"])["flat"].value
        assert re.search(rf"<td>06</td><td>y</td><td>2027-01-02</td><td>00:00:00</td>\s*"
                         rf'<td><a href="\.\./reference/{flat}">', rules)
        page = client.get(f"/reference/{flat}").text
        layout = CacheLayout(demo_cache, "csst")
        import hashlib
        path = layout.find_reference(flat, "msc")
        assert hashlib.sha256(path.read_bytes()).hexdigest() in page
        header = fits.getheader(path, 0)
        for keyword in ("R_BIAS", "R_DARK"):  # its dependencies, linked
            assert f'href="../reference/{header[keyword]}"' in page
        assert "passes" in page and operational in page
        bias_page = client.get(f"/reference/{header['R_BIAS']}").text
        assert f'href="../reference/{flat}"' in bias_page  # built from it
        assert client.get("/references").text.count('href="reference/') >= 70
        assert "no changes recorded" in client.get("/audit").text


def test_diff_coverage_explain_search(demo_cache: Path, console_server) -> None:
    console = console_server(demo_cache)
    with _client(console) as client:
        diff = client.get("/diff", params={"a": "csst_0009.pmap", "b": "csst_0011.pmap"}).text
        assert diff.count("<td>added</td>") == 12  # the day-3 darks and flats of six chips
        assert "csst_msc_dark_0004.rmap" in diff
        assert "<select" in client.get("/diff").text
        coverage = client.get("/coverage", params={"date": "2027-01-05",
                                                   "max_age": "bias=1"}).text
        assert re.search(r'<tr class="stale"><td>MSC</td><td>06</td><td>bias</td>', coverage)
        assert re.search(r'<tr class="problem"><td>MSC</td><td>02</td><td>flat</td>', coverage)
        explain = client.get("/explain", params={
            "type": "flat", "params": "INSTRUME=MSC DETECTOR=06 FILTER=y DATE-OBS=2027-01-02 "
                                      "TIME-OBS=10:00:00"}).text
        assert "chosen &#39;2027-01-02 00:00:00&#39;" in explain
        hits = client.get("/search", params={"q": "flat_0004"}).text
        assert 'href="reference/csst_msc_flat_0004.fits"' in hits
        assert 'href="rmap/csst_msc_flat_0004.rmap"' in hits
        assert 'type="file"' in client.get("/submit").text


@pytest.mark.parametrize("path", ["/reference/nothing.fits", "/context/csst_9999.pmap",
                                  "/rmap/csst_0011.pmap", "/reference/csst_0011.pmap",
                                  "/diff?a=csst_0001.pmap&b=nothing.pmap"])
def test_unknown_files_get_a_clear_page(demo_cache: Path, console_server, path: str) -> None:
    console = console_server(demo_cache)
    with _client(console) as client:
        answer = client.get(path)
    assert answer.status_code == 404
    assert 'id="error"' in answer.text and "Nothing was changed" in answer.text


def _submit(client: httpx.Client, files: list[Path], token: str | None,
            **fields: str) -> httpx.Response:
    data = dict(fields)
    if token is not None:
        data["token"] = token
    return client.post("/submit", data=data,
                       files=[("files", (p.name, p.read_bytes())) for p in files])


def test_submit_a_chain_then_confirm(demo_copy: Path, console_server, users, chain_files) -> None:
    console = console_server(demo_copy)
    before = _operational(demo_copy)
    with _client(console) as client:
        preview = _submit(client, chain_files("02"), users["pipeline"], description="chip 02")
        assert preview.status_code == 200 and "Certify passes" in preview.text
        upload = re.search(r'name="upload" value="([^"]+)"', preview.text).group(1)
        done = client.post("/confirm", data={"upload": upload, "token": users["pipeline"]})
        assert done.status_code == 200
        context = re.search(r'id="new-context">New context: <a[^>]*>([^<]+)<', done.text)[1]
        again = client.post("/confirm", data={"upload": upload, "token": users["pipeline"]})
        assert again.status_code == 409 and "stale" in again.text
        audit = client.get("/audit").text
    config = load_config(CacheLayout(demo_copy, "csst"))
    assert config.latest_context == context and config.operational == before
    names = dict(re.findall(r"<td>(\w+\.fits)</td><td><a[^>]*>([^<]+)</a>", done.text))
    dark = CacheLayout(demo_copy, "csst").find_reference(names["dark_02.fits"], "msc")
    assert fits.getheader(dark, 0)["R_BIAS"] == names["bias_02.fits"]
    (entry,) = read_audit(CacheLayout(demo_copy, "csst"))
    assert (entry.user, entry.action, entry.source, entry.context) == (
        "pipeline", "deliver", "web", context)
    assert f"bias_02.fits -&gt; {names['bias_02.fits']}" in audit


def test_activate_and_mark_bad(demo_copy: Path, console_server, users) -> None:
    console = console_server(demo_copy)
    operational = _operational(demo_copy)
    with _client(console) as client:
        form = client.get("/context/csst_0010.pmap").text
        expected = re.search(r'name="expected" value="([^"]*)"', form).group(1)
        assert expected == operational
        done = client.post("/activate", data={"context": "csst_0010.pmap", "token":
                                              users["admin"], "expected": expected})
        assert done.status_code == 200
        assert _operational(demo_copy) == "csst_0010.pmap"
        stale = client.post("/activate", data={"context": "csst_0009.pmap", "token":
                                               users["admin"], "expected": expected})
        assert stale.status_code == 409 and _operational(demo_copy) == "csst_0010.pmap"
        marked = client.post("/bad", data={"name": "csst_msc_bias_0001.fits", "action": "mark",
                                           "token": users["admin"], "reason": "striped"})
        assert marked.status_code == 200
        assert "csst_msc_bias_0001.fits" in load_config(CacheLayout(demo_copy, "csst")).bad_files
        page = client.get("/reference/csst_msc_bias_0001.fits").text
        assert "Marked bad" in page and 'value="unmark"' in page
        client.post("/bad", data={"name": "csst_msc_bias_0001.fits", "action": "unmark",
                                  "token": users["admin"]})
        assert not load_config(CacheLayout(demo_copy, "csst")).bad_files
    actions = [(e.action, e.user, e.source) for e in read_audit(CacheLayout(demo_copy, "csst"))]
    assert actions == [("activate", "admin", "web"), ("mark bad", "admin", "web"),
                       ("unmark bad", "admin", "web")]


def test_refused_requests_change_nothing(demo_copy: Path, console_server, users,
                                         chain_files, snapshot) -> None:
    console = console_server(demo_copy, max_upload_mb=0.05)
    files = chain_files("02")
    before = snapshot(demo_copy)
    with _client(console) as client:
        cases = {
            "no token": _submit(client, files, None),
            "wrong token": _submit(client, files, "not-a-token"),
            "no role": _submit(client, files, users["reader"]),
            "activate without role": client.post("/activate", data={
                "context": "csst_0010.pmap", "token": users["pipeline"],
                "expected": _operational(demo_copy)}),
            "bad without token": client.post("/bad", data={"name": "csst_msc_bias_0001.fits",
                                                           "action": "mark"}),
            "confirm without token": client.post("/confirm", data={"upload": "x"}),
            "unknown upload": client.post("/confirm", data={"upload": "x",
                                                            "token": users["pipeline"]}),
            "path in name": client.post("/submit", data={"token": users["pipeline"]},
                                        files=[("files", ("../evil.fits", b"x"))]),
            "oversize": client.post("/submit", data={"token": users["pipeline"]},
                                    files=[("files", ("big.fits", b"0" * 80_000))]),
        }
    statuses = {name: answer.status_code for name, answer in cases.items()}
    assert statuses == {"no token": 401, "wrong token": 401, "no role": 403,
                        "activate without role": 403, "bad without token": 401,
                        "confirm without token": 401, "unknown upload": 409,
                        "path in name": 400, "oversize": 413}
    for answer in cases.values():
        assert 'id="error"' in answer.text and "Nothing was changed" in answer.text
    assert "not a plain file name" in cases["path in name"].text
    assert snapshot(demo_copy) == before


def test_refused_delivery_shows_certify_and_lands_nothing(demo_copy: Path, console_server,
                                                          users, chain_files,
                                                          snapshot) -> None:
    console = console_server(demo_copy)
    bias, dark = chain_files("02")
    before = snapshot(demo_copy)
    with _client(console) as client:
        preview = _submit(client, [dark], users["pipeline"])  # its bias is not submitted
    assert preview.status_code == 422
    assert "R_BIAS=&#39;bias_02.fits&#39;" in preview.text and 'name="upload"' not in preview.text
    assert snapshot(demo_copy) == before


def test_users_cli_keeps_only_hashes(demo_copy: Path, capsys) -> None:
    from csst_crds_plugin.cli.main import main
    from csst_crds_plugin.tools.users import authenticate

    assert main(["users", "add", "carol", "--role", "submit", "--cache", str(demo_copy),
                 "--format", "json"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    stored = (demo_copy / "config" / "csst" / "users.json").read_text()
    assert token not in stored and "carol" in stored
    layout = CacheLayout(demo_copy, "csst")
    assert authenticate(layout, token).roles == ("submit",)
    assert main(["users", "token", "carol", "--cache", str(demo_copy)]) == 0
    assert authenticate(layout, token) is None  # the old token stopped working
    assert main(["users", "add", "dave", "--role", "admin", "--cache", str(demo_copy)]) == 1
    assert "unknown role(s) admin" in capsys.readouterr().err
    assert main(["users", "remove", "carol", "--cache", str(demo_copy)]) == 0
    assert capsys.readouterr().out == "removed carol\n"
    assert main(["users", "list", "--cache", str(demo_copy)]) == 0
    assert "carol" not in capsys.readouterr().out


def test_a_bearer_token_works_and_a_body_without_length_is_refused(
        demo_copy: Path, console_server, users, chain_files, snapshot) -> None:
    import http.client
    from urllib.parse import urlsplit

    console = console_server(demo_copy)
    files = chain_files("02")
    with _client(console) as client:
        preview = client.post("/submit", headers={"Authorization": f"Bearer {users['pipeline']}"},
                              files=[("files", (p.name, p.read_bytes())) for p in files])
    assert preview.status_code == 200 and "Certify passes" in preview.text
    (waiting,) = console.app.state.console.uploads.values()
    assert sorted(p.name for p in waiting.folder.iterdir()) == ["bias_02.fits", "dark_02.fits"]
    before = snapshot(demo_copy)
    address = urlsplit(console.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    connection.putrequest("POST", "/submit")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    connection.send(b"5\r\n--x--\r\n0\r\n\r\n")
    answer = connection.getresponse()
    assert answer.status == 411 and b"Content-Length" in answer.read()
    connection.close()
    assert snapshot(demo_copy) == before
    console.stop()  # an upload never confirmed is removed when the server stops
    assert not waiting.folder.exists()


def test_bad_file_operations_refuse_unknown_names(demo_copy: Path) -> None:
    from csst_crds_plugin.errors import CacheError
    from csst_crds_plugin.tools.badfiles import bad_files, mark_bad

    layout = CacheLayout(demo_copy, "csst")
    with pytest.raises(CacheError, match="not in the cache .*: nothing.fits"):
        mark_bad(layout, ["nothing.fits"], user="ops")
    assert mark_bad(layout, ["csst_msc_bias_0001.fits"], bad=False, user="ops") == []
    assert mark_bad(layout, ["csst_msc_bias_0001.fits", "csst_msc_bias_0004.rmap"],
                    user="ops", reason="test") == ["csst_msc_bias_0001.fits",
                                                   "csst_msc_bias_0004.rmap"]
    assert bad_files(layout) == ["csst_msc_bias_0001.fits", "csst_msc_bias_0004.rmap"]
    entries = read_audit(layout)  # only the change is audited
    assert [(e.user, e.action, e.files, e.detail) for e in entries] == [
        ("ops", "mark bad", ["csst_msc_bias_0001.fits", "csst_msc_bias_0004.rmap"], "test")]
