"""Versioned bundles (ectem_core.deliver.store, `ectem bundle`): deterministic packing, verification,
pull from a real local HTTP server, unsafe archives, the store, and the rounded parameter
digest. Everything runs on the shared real small bundle (conftest `small_bundle`)."""
from __future__ import annotations

import copy
import decimal
import hashlib
import http.server
import io
import json
import math
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest
from conftest import REPO, _cli_env, ectem_cmd

from ectem_core import cli
from ectem_core.deliver.store import IntegrityError, list_bundles, pack_bundle, pull, resolve, store_root, verify
from ectem_core.errors import InputError
from ectem_core.potential.bundle import (
    BODY_KEYS,
    DIGEST_EXCLUDED_KEYS,
    bundle_from_results,
    bundle_parameters_digest,
    load_bundle,
    parameters_digest,
)

SPEC_VERSION = "0.1.0"   # tests/data/small.yaml has no bundle section: the schema default applies


# ------------------------------------------------------------------------------ helpers

def tree_state(root: Path) -> str:
    """sha256 over the sorted listing and contents of a directory ('absent' if missing)."""
    if not root.exists():
        return "absent"
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        if p.is_symlink():
            h.update(b"L" + str(p.readlink()).encode())
        elif p.is_file():
            h.update(b"F" + p.read_bytes())
        else:
            h.update(b"D")
    return h.hexdigest()


def run_cli(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def write_tar_gz(path: Path, files: dict[str, bytes], extra=()) -> Path:
    """A .tar.gz with the given regular files plus extra (TarInfo, bytes|None) members."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


@pytest.fixture(scope="module")
def genuine(small_bundle, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packed")
    return pack_bundle(small_bundle, out)


@pytest.fixture(scope="module")
def genuine_sha(genuine) -> str:
    return hashlib.sha256(genuine.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """An empty store; ECTEM_STORE points at it so nothing touches the user's real store."""
    root = tmp_path / "store"
    monkeypatch.setenv("ECTEM_STORE", str(root))
    return root


# ------------------------------------------------------------------------------ pack / verify

def test_pack_is_deterministic_and_verifies(small_bundle, genuine, tmp_path, capsys):
    again = pack_bundle(small_bundle, tmp_path / "again")
    assert again.name == f"small-{SPEC_VERSION}.tar.gz"
    assert again.read_bytes() == genuine.read_bytes()
    raw = genuine.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0"      # gzip header mtime 0
    with tarfile.open(genuine, "r:gz") as tf:
        infos = tf.getmembers()
    names = [m.name for m in infos]
    assert names == sorted(names)
    assert {m.name for m in infos} >= {f"small-{SPEC_VERSION}/{n}" for n in ("bundle.json", "manifest.json", "README.md")}
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.mode == 0o644 and m.isfile() for m in infos)
    files = members(genuine)
    man = json.loads(files[f"small-{SPEC_VERSION}/manifest.json"])
    # the manifest's digests are the sha256 of the members, recomputed here with hashlib
    for rel, entry in man["files"].items():
        assert entry["sha256"] == hashlib.sha256(files[f"small-{SPEC_VERSION}/{rel}"]).hexdigest()
    assert set(man["files"]) == {"bundle.json", "README.md"}
    src = load_bundle(small_bundle)
    assert man["name"] == "small" and man["version"] == SPEC_VERSION and man["schema_version"] == 1
    assert man["parameters_sha256"] == src["parameters_sha256"] and man["significant_digits"] == 10
    readme = files[f"small-{SPEC_VERSION}/README.md"].decode()
    for sid in [s["state_id"] for s in src["states"]] + [e["state_id"] for e in src["excluded"]]:
        assert sid in readme
    assert src["provenance"]["config_hash"] in readme and src["levels"]["energy"]["basis"] in readme
    rep = verify(genuine)
    assert rep.ok, rep.problems
    # the real command line, as a user runs it
    run = subprocess.run(ectem_cmd() + ["bundle", "verify", str(genuine)], capture_output=True, text=True,
                         env=_cli_env())
    assert run.returncode == 0, run.stderr
    assert "OK small@" in run.stdout


def test_pack_extra_files_and_version_override(small_bundle, tmp_path, capsys):
    html = tmp_path / "r.html"
    html.write_text("<html>report</html>\n")
    code, out, err = run_cli(["bundle", "pack", small_bundle, "--out", tmp_path / "o", "--version", "1.2.3",
                              "--add", f"report/small.html={html}"], capsys)
    assert code == 0, err
    archive = tmp_path / "o" / "small-1.2.3.tar.gz"
    assert out.split()[0] == str(archive)
    assert out.split()[1] == "sha256=" + hashlib.sha256(archive.read_bytes()).hexdigest()
    files = members(archive)
    assert files["small-1.2.3/report/small.html"] == html.read_bytes()
    assert json.loads(files["small-1.2.3/bundle.json"])["version"] == "1.2.3"
    assert verify(archive).ok
    # bad inputs: one line, exit 2, no archive written
    for argv in (["--version", "1.2"], ["--version", "01.2.3"], ["--add", "noequals"],
                 ["--add", f"../evil={html}"], ["--add", f"bundle.json={html}"], ["--add", "x.pdf=/no/such/file"]):
        code, out, err = run_cli(["bundle", "pack", small_bundle, "--out", tmp_path / "bad"] + argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith("ectem: error:"), (argv, err)
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def _flip_digit(text: bytes) -> bytes:
    """Change the second significant digit of Li's ground-state energy (a real parameter)."""
    key = b'"energy_ground_hartree": -7.4'
    i = text.index(key) + len(key) - 1
    return text[:i] + (b"5" if text[i:i + 1] != b"5" else b"6") + text[i + 1:]


def test_flipped_byte_fails_verify_and_pull(genuine, tmp_path, store, capsys):
    pull(str(genuine))                      # the genuine bundle is installed
    before = tree_state(store)
    unpacked = tmp_path / "unpacked"
    with tarfile.open(genuine, "r:gz") as tf:
        tf.extractall(unpacked, filter="data")
    top = unpacked / f"small-{SPEC_VERSION}"
    bj = top / "bundle.json"
    bj.write_bytes(_flip_digit(bj.read_bytes()))
    rep = verify(unpacked)
    assert not rep.ok
    assert any(p.startswith("bundle.json: sha256") for p in rep.problems)
    assert any(p.startswith("parameter digest recomputed") for p in rep.problems)
    code, out, err = run_cli(["bundle", "verify", unpacked], capsys)
    assert code == 1 and len(err.strip().splitlines()) == len(rep.problems)
    # the same tampered tree re-packed (manifest untouched)
    files = {f"small-{SPEC_VERSION}/{p.relative_to(top).as_posix()}": p.read_bytes()
             for p in sorted(top.rglob("*")) if p.is_file()}
    bad = write_tar_gz(tmp_path / f"small-{SPEC_VERSION}.tar.gz", files)
    code, out, err = run_cli(["bundle", "verify", bad], capsys)
    assert code == 1 and "bundle.json: sha256" in err
    code, out, err = run_cli(["bundle", "pull", bad], capsys)
    assert code == 1 and "fails verification" in err and err.count("\n") == 1
    assert tree_state(store) == before
    # a flipped byte anywhere in the compressed archive: gzip CRC or tar structure fails -> exit 2,
    # or the member digests fail -> exit 1; never installed
    raw = bytearray(genuine.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(bytes(raw))
    code, out, err = run_cli(["bundle", "pull", corrupt, "--dest", tmp_path / "other"], capsys)
    assert code in (1, 2) and err.count("\n") == 1
    assert not (tmp_path / "other").exists()


def test_self_consistent_tamper_passes_verify_but_not_the_pin(small_bundle, genuine, genuine_sha, tmp_path, store,
                                                             capsys):
    doc = load_bundle(small_bundle)
    doc["states"][1]["delta_e_hartree"] *= 1.01            # a different physics, manifest regenerated
    doc["parameters_sha256"] = bundle_parameters_digest(doc)
    (tmp_path / "b.json").write_text(json.dumps(doc))
    forged = pack_bundle(tmp_path / "b.json", tmp_path / "forged")
    assert forged.name == genuine.name and forged.read_bytes() != genuine.read_bytes()
    assert verify(forged).ok                                # self-consistent
    code, out, err = run_cli(["bundle", "pull", f"{forged}#sha256={genuine_sha}"], capsys)
    assert code == 1 and "does not match the pin" in err
    with pytest.raises(IntegrityError, match="does not match the pin"):
        pull(f"{forged}#sha256={genuine_sha}")
    assert tree_state(store) == "absent"
    code, out, err = run_cli(["bundle", "pull", f"file://{genuine}#sha256={genuine_sha.upper()}"], capsys)
    assert code == 0, err
    assert (store / "small" / SPEC_VERSION / "bundle.json").read_bytes() == members(genuine)[
        f"small-{SPEC_VERSION}/bundle.json"]
    # the forged bundle may not replace the installed genuine one
    state = tree_state(store)
    code, out, err = run_cli(["bundle", "pull", forged], capsys)
    assert code == 2 and "already installed" in err and "different content" in err
    assert tree_state(store) == state
    # pulling the identical bundle again is a no-op
    code, out, err = run_cli(["bundle", "pull", genuine], capsys)
    assert code == 0 and "nothing changed" in out
    assert tree_state(store) == state


# ------------------------------------------------------------------------------ HTTP

class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        data = type(self).payload
        if self.path.startswith("/error"):
            self.send_error(500, "boom")
            return
        if self.path.startswith("/missing"):
            self.send_error(404, "not here")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        if self.path.startswith("/truncated-nolength"):
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
        elif self.path.startswith("/truncated"):
            self.send_header("Content-Length", str(len(data)))      # promises more than it sends
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture(scope="module")
def server(genuine):
    handler = type("H", (_Handler,), {"payload": genuine.read_bytes()})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_pull_over_http(server, genuine, genuine_sha, store, capsys):
    name = genuine.name
    for path, message in (("error", "HTTP 500"), ("missing", "HTTP 404"),
                          ("truncated", "truncated download"), ("truncated-nolength", "truncated or corrupt")):
        code, out, err = run_cli(["bundle", "pull", f"{server}/{path}/{name}"], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, (path, err)
        assert tree_state(store) == "absent", path
    code, out, err = run_cli(["bundle", "pull", f"{server}/{name}#sha256={genuine_sha}"], capsys)
    assert code == 0, err
    installed = store / "small" / SPEC_VERSION
    assert f"installed small@{SPEC_VERSION} at {installed}" in out
    for rel, data in members(genuine).items():
        assert (installed / rel.split("/", 1)[1]).read_bytes() == data
    assert verify(installed).ok
    assert [p.name for p in (store / "small").iterdir()] == [SPEC_VERSION]   # no staging leftovers
    other = store.parent / "other"
    res = pull(f"{server}/{name}", dest=other)              # unpinned, explicit --dest
    assert res.installed and res.path == other / "small" / SPEC_VERSION and res.archive_sha256 == genuine_sha


# ------------------------------------------------------------------------------ unsafe archives

def _unsafe_cases():
    sym = tarfile.TarInfo(f"small-{SPEC_VERSION}/link")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo(f"small-{SPEC_VERSION}/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, f"small-{SPEC_VERSION}/bundle.json"
    dev = tarfile.TarInfo(f"small-{SPEC_VERSION}/dev")
    dev.type = tarfile.CHRTYPE
    return {"absolute": (tarfile.TarInfo("/tmp/ectem-evil"), b"x", "absolute path"),
            "dotdot": (tarfile.TarInfo("../evil"), b"x", "'..'"),
            "nested-dotdot": (tarfile.TarInfo(f"small-{SPEC_VERSION}/../../evil"), b"x", "'..'"),
            "outside-top": (tarfile.TarInfo("other/evil"), b"x", "outside the single top directory"),
            "symlink": (sym, None, "link"), "hardlink": (hard, None, "link"), "device": (dev, None, "device")}


@pytest.mark.parametrize("case", list(_unsafe_cases()))
def test_unsafe_archives_are_rejected(case, genuine, tmp_path, store, capsys):
    info, data, message = _unsafe_cases()[case]
    if data is not None:
        info.size = len(data)
    work = tmp_path / "work"
    work.mkdir()
    evil = write_tar_gz(work / f"small-{SPEC_VERSION}.tar.gz", members(genuine), extra=[(info, data)])
    code, out, err = run_cli(["bundle", "pull", evil], capsys)
    assert code == 2 and "archive rejected" in err and message in err, err
    assert tree_state(store) == "absent"
    assert not (tmp_path / "evil").exists() and not (work.parent.parent / "evil").exists()
    with pytest.raises(InputError, match="archive rejected"):
        verify(evil)


# ------------------------------------------------------------------------------ list / resolve / ASE

def test_list_resolve_and_ase_calculator(small_bundle, genuine, store, capsys):
    from ase import Atoms

    from ectem_core.ase import ECTEAM

    code, out, err = run_cli(["bundle", "list"], capsys)
    assert code == 0 and "no bundles installed" in out
    pull(str(genuine))
    digest = load_bundle(small_bundle)["parameters_sha256"]
    code, out, err = run_cli(["bundle", "list", "--json"], capsys)
    rows = json.loads(out)
    assert rows == [{"name": "small", "version": SPEC_VERSION, "parameters_sha256": digest,
                     "path": str(store / "small" / SPEC_VERSION)}]
    assert list_bundles() == rows
    code, out, err = run_cli(["bundle", "list", "--store", store], capsys)
    assert out.split()[:2] == [f"small@{SPEC_VERSION}", digest]
    assert resolve(f"small@{SPEC_VERSION}") == store / "small" / SPEC_VERSION / "bundle.json"
    with pytest.raises(InputError, match=rf"installed: small@{SPEC_VERSION}"):
        resolve("small@9.9.9")
    with pytest.raises(InputError, match="not 'name@version'"):
        resolve("small")
    # the calculator through the store gives the energies of the file it came from, and the
    # separated-atom limit: zero relative to the neutral ground-state atoms
    energies = {}
    for ref in (f"small@{SPEC_VERSION}", str(small_bundle)):
        for r in (1.6, 12.0):
            atoms = Atoms("LiF", positions=[(0, 0, 0), (0, 0, r)])
            atoms.calc = ECTEAM(ref)
            energies[ref, r] = atoms.get_potential_energy()
    assert energies[f"small@{SPEC_VERSION}", 1.6] == energies[str(small_bundle), 1.6]
    assert energies[f"small@{SPEC_VERSION}", 1.6] < -1.0            # LiF is bound by several eV
    assert abs(energies[f"small@{SPEC_VERSION}", 12.0]) < 1e-3
    with pytest.raises(InputError, match="not installed"):
        ECTEAM("small@9.9.9")


def test_store_location_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("ECTEM_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store_root() == tmp_path / "xdg" / "ectem" / "bundles"
    monkeypatch.setenv("ECTEM_STORE", str(tmp_path / "env"))
    assert store_root() == tmp_path / "env"
    assert store_root(tmp_path / "dest") == tmp_path / "dest"
    monkeypatch.delenv("ECTEM_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store_root() == tmp_path / "home" / ".local" / "share" / "ectem" / "bundles"


def test_unusable_inputs_exit_2(small_bundle, tmp_path, store, capsys):
    for argv in (["verify", tmp_path / "nothing.tar.gz"], ["verify", small_bundle], ["verify", tmp_path],
                 ["pull", tmp_path / "nothing.tar.gz"], ["pull", f"{small_bundle}#sha256=abc"],
                 ["pull", "ftp://example.org/x.tar.gz"]):
        code, out, err = run_cli(["bundle"] + argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith("ectem: error:"), (argv, err)
    assert tree_state(store) == "absent"


# ------------------------------------------------------------------------------ parameter digest

def _floats(obj, path=""):
    """(container, key, value) of every float outside the digest-excluded keys."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in DIGEST_EXCLUDED_KEYS:
                continue
            if isinstance(v, float):
                yield obj, k, v
            else:
                yield from _floats(v)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, float):
                yield obj, i, v
            else:
                yield from _floats(v)


def _rounded(x: float, n: int) -> decimal.Decimal:
    """Independent reference: the exact binary value rounded half-even to n significant digits."""
    return decimal.Context(prec=n, rounding=decimal.ROUND_HALF_EVEN).plus(decimal.Decimal(x))


def _perturbed(body, rel, n, stay_in_cell):
    body = copy.deepcopy(body)
    crossed = 0
    for box, key, x in list(_floats(body)):
        if x == 0.0:
            continue
        y = x * (1 + rel)
        if _rounded(y, n) != _rounded(x, n):
            if stay_in_cell:
                y = x * (1 - rel)
                assert _rounded(y, n) == _rounded(x, n)
            else:
                crossed += 1
        box[key] = y
    return body, crossed


def test_parameter_digest_absorbs_noise_below_the_rounding(small_bundle):
    doc = load_bundle(small_bundle)
    n = doc["significant_digits"]
    body = {k: doc[k] for k in BODY_KEYS}
    ref = parameters_digest(body, n)
    assert ref == doc["parameters_sha256"] == bundle_parameters_digest(doc)
    n_floats = sum(1 for _ in _floats(body) if _[2] != 0.0)
    assert n_floats > 500
    # every nonzero float moved by exactly 1e-13 relative, the sign chosen to stay inside its
    # 10-digit rounding cell (the cells are >= 1e-10 wide, so one sign always does)
    same, _ = _perturbed(body, 1e-13, n, stay_in_cell=True)
    assert parameters_digest(same, n) == ref
    # one sign for all: the digest changes exactly when some value crosses a rounding boundary
    # (expected count ~ n_floats * 1e-13 / 1e-10 ... 1e-9 ~ 0.2 ... 2 for this bundle)
    for rel in (1e-13, -1e-13):
        pert, crossed = _perturbed(body, rel, n, stay_in_cell=False)
        assert (parameters_digest(pert, n) == ref) == (crossed == 0)
        assert crossed <= 0.01 * n_floats
    # 1e-6 is far above the rounding: every value changes, so does the digest
    pert, crossed = _perturbed(body, 1e-6, n, stay_in_cell=False)
    assert crossed == n_floats and parameters_digest(pert, n) != ref
    # and at 4 significant digits the same 1e-6 is absorbed (in-cell sign)
    same4, _ = _perturbed(body, 1e-6, 4, stay_in_cell=True)
    assert parameters_digest(same4, 4) == parameters_digest(body, 4)


def test_parameter_digest_definition():
    assert parameters_digest({"a": -0.0}) == parameters_digest({"a": 0.0})
    assert parameters_digest({"a": 1.0, "b": 2}) == parameters_digest({"b": 2, "a": 1.0 + 1e-14})
    assert parameters_digest({"a": 1}) != parameters_digest({"a": 1.0})     # int and float differ
    # documented canonical text: floats as %.{N-1}e, sorted keys, no whitespace
    text = '{"a":[1.234567890e-01,0.000000000e+00,null,true],"b":"x"}'
    assert parameters_digest({"b": "x", "a": [0.123456789012, -0.0, None, True]}) == \
        hashlib.sha256(text.encode()).hexdigest()
    assert parameters_digest({"a": 1.0, "wall_s": 3.0, "host": "x"}) == parameters_digest({"a": 1.0})
    for bad in (math.nan, math.inf):
        with pytest.raises(InputError, match="not finite"):
            parameters_digest({"s": [{"x": bad}]})
    with pytest.raises(InputError, match="significant_digits"):
        parameters_digest({}, 3)


def test_digest_is_blind_to_a_rerun_of_the_embedding_stage(small_workdir, small_bundle):
    """A real second run of stage 3 for one state (new wall time and timestamps) gives the
    same parameter digest."""
    import yaml

    from ectem_core.embedding.records import default_partner_paths, embed_from_files
    from ectem_core.embedding.settings import settings_from_config

    doc = load_bundle(small_bundle)
    config = yaml.safe_load((REPO / "tests" / "data" / "small.yaml").read_text())
    idx = next(i for i, s in enumerate(doc["states"]) if s["state_id"] == "Li+1")
    fit = small_workdir / "results" / "fits" / "Li" / "Li+1.json"
    rec = embed_from_files(fit, default_partner_paths(fit), settings_from_config(config))
    assert rec["settings_hash"] == doc["states"][idx]["embedding"]["settings_hash"]
    redone = copy.deepcopy(doc)
    redone["states"][idx]["embedding"] = json.loads(json.dumps(rec))
    assert bundle_parameters_digest(redone) == doc["parameters_sha256"]


def test_bundle_version_and_digits_come_from_config(small_workdir, small_bundle):
    cfg = {"bundle": {"version": "2.0.1", "significant_digits": 6}}
    doc = bundle_from_results("small", small_workdir, ["H", "Li", "F"], cfg)
    assert doc["version"] == "2.0.1" and doc["significant_digits"] == 6
    assert doc["parameters_sha256"] == parameters_digest({k: doc[k] for k in BODY_KEYS}, 6)
    assert doc["parameters_sha256"] != load_bundle(small_bundle)["parameters_sha256"]
    with pytest.raises(InputError, match="semantic version"):
        bundle_from_results("small", small_workdir, ["H", "Li", "F"], {"bundle": {"version": "v2"}})
