"""The bundle index (ectem_core.deliver.index, `ectem bundle publish|search|pull NAME@VERSION`):
real archives of the shared small bundle (conftest `small_bundle`) packed as two versions,
published into a directory that a real http.server serves from a thread; tampered indexes
and archives, missing versions and malformed indexes. Digests are recomputed with hashlib."""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import _cli_env, ectem_cmd
from test_store import members, run_cli, tree_state, write_tar_gz

from ectem_core.deliver.index import INDEX_FORMAT, load_index, locate, publish, search
from ectem_core.deliver.store import IntegrityError, pack_bundle, pull, resolve
from ectem_core.errors import InputError
from ectem_core.potential.bundle import bundle_parameters_digest, load_bundle

OLD, NEW = "0.1.0", "0.2.0"


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def packed(small_bundle, tmp_path_factory) -> dict[str, Path]:
    """Real archives of the small bundle: versions 0.1.0, 0.2.0 and 0.10.0 (numeric sorting)."""
    out = tmp_path_factory.mktemp("packed")
    return {v: pack_bundle(small_bundle, out, version=v) for v in (OLD, NEW, "0.10.0")}


@pytest.fixture(scope="module")
def forged(small_bundle, tmp_path_factory) -> Path:
    """A self-consistent archive small-0.1.0 with different physics (it passes `verify`)."""
    doc = load_bundle(small_bundle)
    doc["states"][1]["delta_e_hartree"] *= 1.01
    doc["parameters_sha256"] = bundle_parameters_digest(doc)
    work = tmp_path_factory.mktemp("forged")
    (work / "b.json").write_text(json.dumps(doc))
    return pack_bundle(work / "b.json", work / "out", version=OLD)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(root directory, its URL): a real threaded http.server serving the directory."""
    root = tmp_path_factory.mktemp("served")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def site(served, packed, request) -> tuple[Path, str]:
    """A fresh published directory (0.1.0 and 0.2.0) under the server root, and its URL."""
    root, url = served
    name = request.node.name.replace("[", "_").replace("]", "")
    d = root / name
    for v in (OLD, NEW):
        publish(packed[v], d)
    return d, f"{url}/{name}/"


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """An empty store; ECTEM_STORE points at it and ECTEM_INDEX is unset."""
    root = tmp_path / "store"
    monkeypatch.setenv("ECTEM_STORE", str(root))
    monkeypatch.delenv("ECTEM_INDEX", raising=False)
    return root


def rewrite_index(d: Path, change) -> None:
    doc = json.loads((d / "index.json").read_text())
    change(doc)
    (d / "index.json").write_text(json.dumps(doc))


# ------------------------------------------------------------------------------ publish

def test_publish_writes_a_sorted_index_of_independently_checked_entries(small_bundle, packed, tmp_path, capsys):
    d = tmp_path / "dist"
    for v in ("0.10.0", NEW, OLD):                   # out of order on purpose
        res = publish(packed[v], d)
        assert res.changed and res.archive_path == d / f"small-{v}.tar.gz"
    doc = json.loads((d / "index.json").read_text())
    assert doc["format"] == INDEX_FORMAT == "ectem-bundle-index" and doc["index_version"] == 1
    assert [e["version"] for e in doc["bundles"]] == ["0.1.0", "0.2.0", "0.10.0"]    # numeric, not text
    src = load_bundle(small_bundle)
    for e in doc["bundles"]:
        archive = d / f"small-{e['version']}.tar.gz"
        assert archive.read_bytes() == packed[e["version"]].read_bytes()
        assert e["url"] == archive.name
        assert e["archive_sha256"] == sha(packed[e["version"]])
        assert e["bytes"] == len(packed[e["version"]].read_bytes())
        assert e["parameters_sha256"] == src["parameters_sha256"]
        assert e["elements"] == list(src["elements"]) == ["H", "Li", "F"]
        assert e["levels"] == src["levels"] and e["created_utc"] == src["provenance"]["created_utc"]
        assert e["name"] == "small"
    assert sorted(p.name for p in d.iterdir()) == ["index.json", "small-0.1.0.tar.gz", "small-0.10.0.tar.gz",
                                                   "small-0.2.0.tar.gz"]     # no temporary files left
    # --base-url records absolute URLs
    code, out, err = run_cli(["bundle", "publish", packed[OLD], "--index", tmp_path / "abs" / "index.json",
                              "--base-url", "https://example.org/b/"], capsys)
    assert code == 0, err
    entry = json.loads((tmp_path / "abs" / "index.json").read_text())["bundles"][0]
    assert entry["url"] == "https://example.org/b/small-0.1.0.tar.gz"
    assert f"published small@0.1.0 in {tmp_path / 'abs' / 'index.json'}" in out and sha(packed[OLD]) in out
    assert locate(load_index(tmp_path / "abs"), "small").url == "https://example.org/b/small-0.1.0.tar.gz"


def test_republish_is_a_no_op_and_a_different_archive_is_refused(packed, forged, tmp_path, capsys):
    d = tmp_path / "dist"
    publish(packed[OLD], d)
    publish(packed[NEW], d)
    before = tree_state(d)
    index_bytes = (d / "index.json").read_bytes()
    res = publish(packed[OLD], d)
    assert not res.changed and (d / "index.json").read_bytes() == index_bytes and tree_state(d) == before
    res = publish(d / "small-0.2.0.tar.gz", d)              # the published copy itself
    assert not res.changed and tree_state(d) == before
    code, out, err = run_cli(["bundle", "publish", packed[OLD], "--index", d], capsys)
    assert code == 0 and "already published (identical), index unchanged" in out
    assert tree_state(d) == before
    # a different (self-consistent) archive under the published version
    assert forged.name == packed[OLD].name and sha(forged) != sha(packed[OLD])
    with pytest.raises(InputError, match=r"small@0\.1\.0 is already published .* another --version"):
        publish(forged, d)
    code, out, err = run_cli(["bundle", "publish", forged, "--index", d], capsys)
    assert code == 2 and err.count("\n") == 1 and sha(forged) in err and sha(packed[OLD]) in err
    assert tree_state(d) == before


def test_publish_refuses_bad_archives_and_indexes(packed, tmp_path, capsys):
    d = tmp_path / "dist"
    publish(packed[OLD], d)
    before = tree_state(d)
    # an archive whose bundle.json no longer matches its manifest: exit 1
    files = members(packed[NEW])
    key = f"small-{NEW}/bundle.json"
    files[key] = files[key].replace(b'"version": "0.2.0"', b'"version": "0.2.0" ', 1)
    bad = write_tar_gz(tmp_path / f"small-{NEW}.tar.gz", files)
    with pytest.raises(IntegrityError, match="fails verification, not published"):
        publish(bad, d)
    code, out, err = run_cli(["bundle", "publish", bad, "--index", d], capsys)
    assert code == 1 and err.count("\n") == 1 and "bundle.json: sha256" in err
    # unusable inputs: exit 2, one line
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "index.json").write_text('{"format": "ectem-bundle-index", "index_version": 1, "bundles": [')
    broken_before = tree_state(tmp_path / "broken")
    for argv in ([tmp_path / "none.tar.gz", "--index", d], [d, "--index", d],
                 [packed[NEW], "--index", "http://127.0.0.1:9/x/"],
                 [packed[NEW], "--index", d, "--base-url", "ftp://x/"],
                 [packed[NEW], "--index", tmp_path / "broken"]):
        code, out, err = run_cli(["bundle", "publish"] + argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith("ectem: error:"), (argv, err)
    assert "not valid JSON" in err and str(tmp_path / "broken" / "index.json") in err
    assert tree_state(d) == before and tree_state(tmp_path / "broken") == broken_before


# ------------------------------------------------------------------------------ search / pull over HTTP

def test_search_over_http(site, packed, store, capsys):
    d, url = site
    idx = load_index(url)
    assert idx.remote and idx.location == url + "index.json"
    rows = search(idx)
    assert [(r["name"], r["version"]) for r in rows] == [("small", OLD), ("small", NEW)]
    assert [r["archive_url"] for r in rows] == [f"{url}small-{v}.tar.gz" for v in (OLD, NEW)]
    assert [r["archive_sha256"] for r in rows] == [sha(packed[v]) for v in (OLD, NEW)]
    assert len(search(idx, "SMA")) == 2 and len(search(idx, "sm*l")) == 2 and search(idx, "large") == []
    assert len(search(idx, element="li")) == 2 and search(idx, element="Na") == []
    code, out, err = run_cli(["bundle", "search", "--index", url.rstrip("/")], capsys)   # directory URL
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "ELEMENTS", "LEVELS", "DATE", "SHA256"]
    assert [ln.split()[:3] for ln in lines[1:]] == [["small", OLD, "H,Li,F"], ["small", NEW, "H,Li,F"]]
    assert [ln.split()[-1] for ln in lines[1:]] == [sha(packed[v])[:12] for v in (OLD, NEW)]
    assert "energy=ccsd(t)/aug-cc-pvdz" in lines[1]
    code, out, err = run_cli(["bundle", "search", "small", "--element", "F", "--json", "--index", url], capsys)
    assert code == 0 and [r["version"] for r in json.loads(out)] == [OLD, NEW]
    code, out, err = run_cli(["bundle", "search", "--element", "Na", "--index", url], capsys)
    assert code == 0 and "no bundles" in out and "match" in out
    code, out, err = run_cli(["bundle", "search"], capsys)
    assert code == 2 and "ECTEM_INDEX" in err and err.count("\n") == 1


def test_pull_by_name_over_http(site, packed, store, monkeypatch, capsys):
    d, url = site
    res = pull(f"small@{OLD}", index=url)
    assert res.installed and res.version == OLD and res.url == f"{url}small-{OLD}.tar.gz"
    assert res.archive_sha256 == sha(packed[OLD])
    path = resolve(f"small@{OLD}")
    assert path == store / "small" / OLD / "bundle.json"
    assert path.read_bytes() == members(packed[OLD])[f"small-{OLD}/bundle.json"]
    assert json.loads(path.read_text())["version"] == OLD
    # NAME alone: the highest version, here through $ECTEM_INDEX and the command line
    monkeypatch.setenv("ECTEM_INDEX", url)
    code, out, err = run_cli(["bundle", "pull", "small"], capsys)
    assert code == 0, err
    assert f"installed small@{NEW} at {store / 'small' / NEW} (from {url}small-{NEW}.tar.gz)" in out
    assert resolve(f"small@{NEW}").read_bytes() == members(packed[NEW])[f"small-{NEW}/bundle.json"]
    state = tree_state(store)
    code, out, err = run_cli(["bundle", "pull", f"small@{NEW}"], capsys)
    assert code == 0 and "nothing changed" in out and tree_state(store) == state
    # a pin that disagrees with the index
    code, out, err = run_cli(["bundle", "pull", f"small@{OLD}#sha256={sha(packed[NEW])}", "--dest",
                              store.parent / "other"], capsys)
    assert code == 1 and "differs from the archive sha256" in err and err.count("\n") == 1
    assert not (store.parent / "other").exists()
    # existing SOURCE forms are unchanged while an index is set: a path is a path
    res = pull(str(packed["0.10.0"]))
    assert res.installed and res.url is None and res.version == "0.10.0"


def test_tampered_index_is_refused(site, packed, store, capsys):
    d, url = site
    pull(f"small@{NEW}", index=url)
    before = tree_state(store)
    # the entry states another archive's sha256
    rewrite_index(d, lambda doc: doc["bundles"][0].update(archive_sha256=sha(packed[NEW])))
    with pytest.raises(IntegrityError, match=rf"does not match the sha256 {sha(packed[NEW])} that index"):
        pull(f"small@{OLD}", index=url)
    code, out, err = run_cli(["bundle", "pull", f"small@{OLD}", "--index", url], capsys)
    assert code == 1 and err.count("\n") == 1 and sha(packed[OLD]) in err and "not installed" in err
    assert tree_state(store) == before and not (store / "small" / OLD).exists()
    # the entry points at another real archive and states its true sha256: the version check catches it
    rewrite_index(d, lambda doc: doc["bundles"][0].update(url=f"small-{NEW}.tar.gz", archive_sha256=sha(packed[NEW])))
    code, out, err = run_cli(["bundle", "pull", f"small@{OLD}", "--index", url], capsys)
    assert code == 1 and "version '0.2.0' differs from the '0.1.0'" in err and err.count("\n") == 1
    assert tree_state(store) == before


@pytest.mark.parametrize("how", ["forged", "flipped-byte"])
def test_tampered_archive_on_the_server_is_refused(how, site, packed, forged, store, capsys):
    d, url = site
    pull(f"small@{NEW}", index=url)
    before = tree_state(store)
    target = d / f"small-{OLD}.tar.gz"
    if how == "forged":                    # self-consistent, passes verify, but not the published bytes
        shutil.copyfile(forged, target)
    else:
        raw = bytearray(target.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        target.write_bytes(bytes(raw))
    got = sha(target)
    assert got != sha(packed[OLD])
    with pytest.raises(IntegrityError, match=rf"archive sha256 {got} does not match the sha256 {sha(packed[OLD])}"):
        pull(f"small@{OLD}", index=url)
    code, out, err = run_cli(["bundle", "pull", f"small@{OLD}", "--index", url], capsys)
    assert code == 1 and err.count("\n") == 1
    assert tree_state(store) == before and [p.name for p in (store / "small").iterdir()] == [NEW]


def test_missing_version_and_unknown_name(site, store, capsys):
    d, url = site
    with pytest.raises(InputError, match=r"small@9\.9\.9 is not in bundle index .* \(versions of small: 0\.1\.0, 0\.2\.0\)"):
        pull("small@9.9.9", index=url)
    code, out, err = run_cli(["bundle", "pull", "small@9.9.9", "--index", url], capsys)
    assert code == 2 and err.count("\n") == 1 and "versions of small: 0.1.0, 0.2.0" in err
    code, out, err = run_cli(["bundle", "pull", "large", "--index", url], capsys)
    assert code == 2 and "no bundle named 'large' (it lists: small)" in err
    for ref in ("small@1.0", "small@v1.0.0"):
        code, out, err = run_cli(["bundle", "pull", ref, "--index", url], capsys)
        assert code == 2 and "semantic version" in err, ref
    code, out, err = run_cli(["bundle", "pull", "small@0.1.0"], capsys)             # no index anywhere
    assert code == 2 and "--index" in err and "ECTEM_INDEX" in err
    assert tree_state(store) == "absent"


def test_malformed_indexes(site, store, capsys):
    d, url = site
    good = (d / "index.json").read_text()
    cases = {
        "truncated": (good[: len(good) // 2], "is not valid JSON"),
        "not-an-index": (json.dumps({"bundles": []}), "is not an ectem bundle index"),
        "future": (json.dumps({"format": INDEX_FORMAT, "index_version": 2, "bundles": []}), "index_version 2"),
        "bad-sha": (good.replace(json.loads(good)["bundles"][0]["archive_sha256"], "abc"), "archive_sha256"),
        "twice": (json.dumps({**json.loads(good), "bundles": json.loads(good)["bundles"] * 2}), "twice"),
    }
    for case, (text, message) in cases.items():
        (d / "index.json").write_text(text)
        code, out, err = run_cli(["bundle", "pull", "small@0.1.0", "--index", url], capsys)
        assert code == 2 and err.count("\n") == 1 and message in err and f"{url}index.json" in err, (case, err)
        code, out, err = run_cli(["bundle", "search", "--index", d], capsys)
        assert code == 2 and err.count("\n") == 1 and message in err and str(d / "index.json") in err, (case, err)
    (d / "index.json").unlink()
    code, out, err = run_cli(["bundle", "pull", "small@0.1.0", "--index", url], capsys)
    assert code == 2 and "HTTP 404" in err and err.count("\n") == 1
    # a remote index may not point to a file on the puller's machine
    (d / "index.json").write_text(good.replace('"url": "small-0.1.0.tar.gz"',
                                               f'"url": "{(d / "small-0.1.0.tar.gz").as_uri()}"'))
    code, out, err = run_cli(["bundle", "pull", "small@0.1.0", "--index", url], capsys)
    assert code == 2 and "may only point to http(s) archives" in err
    assert tree_state(store) == "absent"


# ------------------------------------------------------------------------------ the real command line

def test_command_line_publish_search_pull(served, packed, tmp_path):
    root, base = served
    d = root / "cli"
    env = {**_cli_env(), "ECTEM_STORE": str(tmp_path / "store"), "ECTEM_INDEX": f"{base}/cli/"}

    def ectem(*argv):
        return subprocess.run(ectem_cmd() + [str(a) for a in argv], capture_output=True, text=True, env=env, timeout=120)

    for v in (OLD, NEW):
        run = ectem("bundle", "publish", packed[v], "--index", d)
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith(f"published small@{v} in {d / 'index.json'}")
    run = ectem("bundle", "search", "--json")
    assert run.returncode == 0, run.stderr
    assert [(r["version"], r["archive_sha256"]) for r in json.loads(run.stdout)] == [(v, sha(packed[v])) for v in (OLD, NEW)]
    run = ectem("bundle", "pull", f"small@{OLD}")
    assert run.returncode == 0, run.stderr
    run = ectem("bundle", "resolve", f"small@{OLD}")
    assert run.returncode == 0 and Path(run.stdout.strip()) == tmp_path / "store" / "small" / OLD / "bundle.json"
    run = ectem("bundle", "pull", "small@0.3.0")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "versions of small: 0.1.0, 0.2.0" in run.stderr
    for cmd in (["publish"], ["search"], ["pull"]):
        run = ectem("bundle", *cmd, "--help")
        assert run.returncode == 0 and "--index" in run.stdout, cmd
