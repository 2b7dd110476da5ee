"""Signed manifests: a clean report verifies; every kind of tampering is caught and listed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline import __version__
from truceline.errors import InputError, IntegrityError
from truceline.publish.manifest import (
    MANIFEST_FILE,
    SIGNATURE_FILE,
    build_manifest,
    canonical_json,
    files_in,
    sha256_file,
    sign_report,
    verify_report,
    write_manifest,
)
from truceline.publish.signing import KeySigner, generate_keypair, public_key_text

CREATED = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
OUTPUTS = {
    "report.html": b"<html><body>Verdict: violated</body></html>\n",
    "assessment.json": b'{"verdict": "violated"}\n',
    "incidents.csv": b"id,lon,lat\n1,37.5,48.1\n",
    "maps/line_of_contact.geojson": b'{"type": "FeatureCollection", "features": []}\n',
}


@pytest.fixture(scope="module")
def signer() -> KeySigner:
    return KeySigner.generate()


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    d = tmp_path / "inputs"
    (d / "firms").mkdir(parents=True)
    (d / "firms" / "a.csv").write_bytes(b"latitude,longitude\n48,37\n")
    (d / "firms" / "b.csv").write_bytes(b"latitude,longitude\n49,38\n")
    (d / "agreement.toml").write_bytes(b'name = "x"\n')
    return [d / "firms", d / "agreement.toml"]


@pytest.fixture
def report(tmp_path: Path, signer: KeySigner, inputs: list[Path]) -> Path:
    d = tmp_path / "report"
    for name, data in OUTPUTS.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(data)
    sign_report(d, inputs=inputs, parameters={"band_km": [0, 30], "sensor": "VIIRS"},
                signer=signer, created=CREATED)
    return d


def test_clean_report_verifies(report: Path, signer: KeySigner) -> None:
    result = verify_report(report, expected_public_key=signer.public_key, check_inputs=True)
    assert result.ok, result.summary()
    assert result.problems == () and result.warnings == ()
    assert "verified" in result.summary()
    result.raise_if_failed()  # no exception


def test_manifest_contents(report: Path, signer: KeySigner, inputs: list[Path]) -> None:
    raw = (report / MANIFEST_FILE).read_bytes()
    m = json.loads(raw)
    assert raw == canonical_json(m)  # canonical bytes: sorted keys, fixed indent
    assert list(m) == sorted(m)
    assert m["created_utc"] == "2026-11-26T07:00:00Z"
    assert m["package"] == {"name": "truceline", "version": __version__}
    assert m["public_key"] == public_key_text(signer.public_key)
    assert [o["path"] for o in m["outputs"]] == sorted(OUTPUTS)  # relative, POSIX
    for o in m["outputs"]:
        assert o["sha256"] == sha256_file(report / o["path"])
        assert o["bytes"] == len(OUTPUTS[o["path"]])
    assert len(m["inputs"]) == 3  # the folder expanded to its two files
    assert all(Path(i["path"]).is_absolute() for i in m["inputs"])
    assert m["parameters"] == {"band_km": [0, 30], "sensor": "VIIRS"}
    sig = base64.b64decode((report / SIGNATURE_FILE).read_bytes().strip(), validate=True)
    assert len(sig) == 64
    assert files_in(m, "outputs") == sorted(OUTPUTS)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_one_changed_byte_in_any_output_is_caught(report: Path, name: str) -> None:
    p = report / name
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    result = verify_report(report)
    assert not result.ok
    assert result.kinds() == ["changed_output"]
    assert result.problems[0].path == name


def test_missing_output_is_named(report: Path) -> None:
    (report / "incidents.csv").unlink()
    result = verify_report(report)
    assert [(p.kind, p.path) for p in result.problems] == [("missing_output", "incidents.csv")]


def test_changed_manifest_is_caught(report: Path) -> None:
    """Someone edits a hash in the manifest to match a doctored output."""
    (report / "report.html").write_bytes(b"<html><body>Verdict: held</body></html>\n")
    m = json.loads((report / MANIFEST_FILE).read_bytes())
    for o in m["outputs"]:
        if o["path"] == "report.html":
            o["sha256"] = sha256_file(report / "report.html")
    (report / MANIFEST_FILE).write_bytes(canonical_json(m))
    result = verify_report(report)
    assert result.kinds() == ["bad_signature"]
    assert "changed after signing" in result.problems[0].detail


def test_one_byte_of_whitespace_in_the_manifest_is_caught(report: Path) -> None:
    p = report / MANIFEST_FILE
    p.write_bytes(p.read_bytes() + b"\n")
    result = verify_report(report)
    assert "bad_signature" in result.kinds()
    assert [w.kind for w in result.warnings] == ["manifest_not_canonical", "no_expected_key"]


def test_wrong_key_is_caught(report: Path) -> None:
    other = KeySigner.generate()
    result = verify_report(report, expected_public_key=public_key_text(other.public_key))
    assert result.kinds() == ["wrong_key"]
    assert "expected key sha256:" in result.problems[0].detail


def test_resigned_by_another_key_is_caught_only_with_an_expected_key(
    report: Path, signer: KeySigner
) -> None:
    """A forger re-signs with their own key: the signature is valid, the key is not ours."""
    forger = KeySigner.generate()
    (report / "assessment.json").write_bytes(b'{"verdict": "held"}\n')
    sign_report(report, inputs=[], parameters={}, signer=forger, created=CREATED)
    assert verify_report(report).ok  # self-consistent...
    assert "no_expected_key" in [w.kind for w in verify_report(report).warnings]
    result = verify_report(report, expected_public_key=signer.public_key)
    assert result.kinds() == ["wrong_key"]  # ...but not signed by the key we trust


def test_expected_key_from_a_pem_file(tmp_path: Path, inputs: list[Path]) -> None:
    kp = generate_keypair(tmp_path / "keys")
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    sign_report(d, inputs=inputs, parameters={}, signer=KeySigner.from_file(
        kp.private_key_path), created=CREATED)
    assert verify_report(d, expected_public_key=kp.public_key_path).ok


def test_every_problem_is_listed_not_just_the_first(report: Path) -> None:
    (report / "incidents.csv").unlink()
    (report / "report.html").write_bytes(b"x")
    (report / "maps" / "line_of_contact.geojson").write_bytes(b"{}")
    (report / "extra.txt").write_text("not signed")
    sig = report / SIGNATURE_FILE
    raw = bytearray(base64.b64decode(sig.read_bytes()))
    raw[0] ^= 0xFF
    sig.write_bytes(base64.b64encode(bytes(raw)))
    other = KeySigner.generate()
    result = verify_report(report, expected_public_key=other.public_key)
    assert sorted(result.kinds()) == sorted(["wrong_key", "bad_signature", "missing_output",
                                             "changed_output", "changed_output",
                                             "unlisted_file"])
    assert {p.path for p in result.problems if p.kind == "changed_output"} == {
        "report.html", "maps/line_of_contact.geojson"}
    assert [p.path for p in result.problems if p.kind == "unlisted_file"] == ["extra.txt"]
    with pytest.raises(IntegrityError, match=r"NOT verified \(6 problem\(s\)\)"):
        result.raise_if_failed()
    d = result.to_dict()
    assert d["ok"] is False and d["authenticated"] is False and len(d["problems"]) == 6
    json.dumps(d)


def test_missing_and_malformed_signature(report: Path) -> None:
    sig = report / SIGNATURE_FILE
    sig.write_text("not a signature")
    assert verify_report(report).kinds() == ["malformed_signature"]
    sig.unlink()
    assert verify_report(report).kinds() == ["missing_signature"]


def test_missing_and_unreadable_manifest(report: Path) -> None:
    m = report / MANIFEST_FILE
    m.write_bytes(b"{not json")
    result = verify_report(report)
    assert "unreadable_manifest" in result.kinds()
    m.unlink()
    assert verify_report(report).kinds() == ["missing_manifest"]


def test_path_escaping_the_folder_is_refused(tmp_path: Path, signer: KeySigner) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    m = build_manifest([], [d / "a.txt"], {}, "0", signer.public_key, out_dir=d,
                       created=CREATED)
    m["outputs"].append({"path": "../../etc/passwd", "sha256": "0" * 64, "bytes": 1})
    write_manifest(d, m, signer)
    result = verify_report(d)
    assert result.kinds() == ["unsafe_path"]


def test_changed_and_missing_inputs(report: Path, inputs: list[Path]) -> None:
    (inputs[0] / "a.csv").write_bytes(b"latitude,longitude\n48,37.1\n")
    (inputs[0] / "b.csv").unlink()
    assert verify_report(report).ok  # inputs only checked on request
    result = verify_report(report, check_inputs=True)
    assert result.kinds() == ["changed_input"]
    assert result.problems[0].path.endswith("firms/a.csv")
    assert "missing_input" in [w.kind for w in result.warnings]


def test_relative_inputs_with_a_root(tmp_path: Path, signer: KeySigner,
                                     inputs: list[Path]) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    root = inputs[1].parent
    m = sign_report(d, inputs=inputs, parameters={}, signer=signer, inputs_root=root,
                    created=CREATED)
    assert [i["path"] for i in m["inputs"]] == ["agreement.toml", "firms/a.csv",
                                               "firms/b.csv"]
    assert verify_report(d, check_inputs=True).ok


def test_build_manifest_is_deterministic(tmp_path: Path, signer: KeySigner,
                                         inputs: list[Path]) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    a = build_manifest(inputs, [d / "a.txt"], {"x": 1}, "0.1", signer.public_key,
                       created=CREATED)
    b = build_manifest(list(reversed(inputs)), [d / "a.txt"], {"x": 1}, "0.1",
                       public_key_text(signer.public_key), created=CREATED)
    assert canonical_json(a) == canonical_json(b)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"parameters": {"x": float("nan")}}, r"parameters\.x = nan: expected a finite"),
        ({"parameters": {"x": {1, 2}}}, r"parameters\.x = .*set is not JSON"),
        ({"parameters": {"t": datetime(2025, 1, 1)}}, r"parameters\.t = .*timezone-aware"),
        ({"outputs": []}, r"outputs: empty"),
        ({"outputs": ["/etc/hostname"]}, r"outputs: /etc/hostname is outside the report"),
        ({"outputs": ["MISSING"]}, r"outputs: .*missing\.html: file not found"),
        ({"inputs": ["/no/such/input.csv"]}, r"inputs: /no/such/input\.csv: file not found"),
        ({"created": datetime(2025, 1, 1)}, r"created = .*expected a timezone-aware"),
    ],
)
def test_build_manifest_refuses_bad_arguments(tmp_path: Path, signer: KeySigner,
                                              kwargs: dict, pattern: str) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    args = {"inputs": [], "outputs": [d / "a.txt"], "parameters": {}, "version": "0",
            "public_key": signer.public_key, "out_dir": d, "created": CREATED}
    args.update(kwargs)
    if args["outputs"] == ["MISSING"]:
        args["outputs"] = [d / "missing.html"]
    with pytest.raises(InputError, match=pattern):
        build_manifest(**args)


def test_write_manifest_refuses_a_signer_other_than_the_named_key(
    tmp_path: Path, signer: KeySigner
) -> None:
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    m = build_manifest([], [d / "a.txt"], {}, "0", signer.public_key, created=CREATED)
    with pytest.raises(InputError, match="expected the signer's key"):
        write_manifest(d, m, KeySigner.generate())


def test_inputs_named_relative_to_a_labelled_root(tmp_path: Path, signer: KeySigner,
                                                  inputs: list[Path]) -> None:
    """What `truceline assess` writes: input paths relative to the lake, the root named
    'lake', never a local absolute path; the verifier names the lake to check them."""
    d = tmp_path / "r"
    d.mkdir()
    (d / "a.txt").write_text("a")
    root = inputs[1].parent
    m = sign_report(d, inputs=inputs, parameters={}, signer=signer, inputs_root=root,
                    inputs_root_label="lake", created=CREATED)
    assert m["inputs_root"] == "lake" and str(tmp_path) not in json.dumps(m)
    assert verify_report(d, check_inputs=True, inputs_root=root).ok
    unchecked = verify_report(d, check_inputs=True)
    assert [w.kind for w in unchecked.warnings] == ["no_expected_key", "inputs_root_unknown"]
    # `truceline verify --check-inputs` against a lake that is not there is refused
    # (exit 2), not a pass with a warning: the check asked for cannot run
    from truceline.reports import verify_folder

    with pytest.raises(InputError, match=r"--check-inputs: no lake at .*nowhere"):
        verify_folder(d, check_inputs=True, lake_dir=tmp_path / "nowhere")
    assert verify_folder(d, check_inputs=True, lake_dir=root)["exit_code"] == 0
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("x")
    with pytest.raises(InputError, match=r"inputs: .*elsewhere.csv is outside lake"):
        sign_report(d, inputs=[outside], parameters={}, signer=signer, inputs_root=root,
                    inputs_root_label="lake")


def test_without_an_expected_key_the_signer_is_unauthenticated(report: Path,
                                                               signer: KeySigner) -> None:
    """Anyone can change a report and re-sign it with a key of their own: without the
    expected key that report is intact, and the summary must not say it is verified."""
    (report / "report.html").write_bytes(b"<html>Verdict: held</html>\n")
    forger = KeySigner.generate()
    sign_report(report, inputs=[], parameters={}, signer=forger, created=CREATED)
    result = verify_report(report)
    assert result.ok and not result.authenticated
    assert "signer is NOT authenticated" in result.summary()
    assert "verified" not in result.summary().split(";")[0]
    assert result.to_dict()["authenticated"] is False
    checked = verify_report(report, expected_public_key=signer.public_key)
    assert checked.kinds() == ["wrong_key"] and not checked.authenticated
    assert verify_report(report, expected_public_key=forger.public_key).authenticated
