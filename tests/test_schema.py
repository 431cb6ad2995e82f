"""The shipped JSON Schema is generated from the code and validates real output of every test log."""

import json

import jsonschema

import curvecheck
from curvecheck.checks import CHECKS
from curvecheck.errors import UsageError
from curvecheck.schema import SCHEMA_FILE, build_schema, evidence_schema, load_schema, schema_text

from .conftest import CORPUS, SAMPLES, WRITTEN

DATA_SWEEP = WRITTEN / "lr_runs" / "keras" / "lr_sweep"

LOGS = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.parent.name not in ("train", "validation")) \
    + [SAMPLES / "tensorboard_keras"] \
    + sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "PROVENANCE.tsv")


def test_committed_schema_is_in_sync_with_the_dataclasses():
    assert SCHEMA_FILE.read_text() == schema_text(), "run: python -m curvecheck.schema"
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_every_sample_and_corpus_log_validates():
    validator = jsonschema.Draft202012Validator(load_schema())
    checked = 0
    for path in LOGS:
        report = curvecheck.analyze(path, on_error="collect")
        doc = json.loads(json.dumps(report.to_dict(), allow_nan=False))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{path}: {errors[0].message} at {list(errors[0].path)}"
        checked += bool(report.runs)
    assert checked >= 50


def test_schema_rejects_what_the_code_never_writes():
    validator = jsonschema.Draft202012Validator(load_schema())
    doc = curvecheck.analyze(SAMPLES / "overfitting_mlp.csv").to_dict()
    assert validator.is_valid(doc)
    finding = doc["runs"][0]["findings"][0]
    for change in ({"severity": "fatal"}, {"code": "CC999"}, {"kind": "overfitting" if finding["kind"] != "overfitting"
                                                                else "plateau"}, {"surprise": 1}):
        bad = json.loads(json.dumps(doc))
        bad["runs"][0]["findings"][0].update(change)
        assert not validator.is_valid(bad), change


def test_each_code_gets_the_shape_of_its_evidence_classes():
    import dataclasses

    from curvecheck.render.docs import check_doc

    schema = build_schema()
    per_code = {rule["if"]["properties"]["code"]["const"]: rule["then"]["properties"]["evidence"]
                for rule in schema["$defs"]["Finding"]["allOf"]}
    for code, check in CHECKS.items():
        classes = [c for c in check.evidence_classes() if dataclasses.fields(c)]
        if not classes:  # not typed yet: any object, and explain says so
            assert per_code[code] == {"type": "object"}
            assert "an object whose keys are not fixed yet" in check_doc(check)
            continue
        names = evidence_schema(check)["names"]
        refs = [r["$ref"].rsplit("/", 1)[-1] for r in per_code[code].get("anyOf", [per_code[code]])]
        assert refs == names and len(names) == len(classes)
        for name, cls in zip(names, classes):
            shape = schema["$defs"][name]
            assert shape["required"] == [f.name for f in dataclasses.fields(cls)]
            assert shape["additionalProperties"] is False
            assert f"Evidence (JSON 'evidence', schema $defs/{name}):" in check_doc(check)
    assert len(evidence_schema(CHECKS["CC301"])["names"]) >= 2  # drops, floor, smooth schedule


# --- recommend-stop --json and compare --json: real output of the commands on real logs ---------

def _cli_json(*args):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}, check=False)
    assert res.returncode in (0, 1), res.stderr
    return json.loads(res.stdout), res.returncode


def _assert_valid(validator, doc, what):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{what}: {errors[0].message} at {list(errors[0].path)}"


def test_the_shipped_schemas_are_in_sync_and_each_pins_schema_version():
    from curvecheck.schema import SCHEMA_FILES

    for command, path in SCHEMA_FILES.items():
        assert path.read_text() == schema_text(command), "run: python -m curvecheck.schema"
        schema = load_schema(command)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["schema_version"] == {"const": 1} and "schema_version" in schema["required"]
        assert schema["title"] == f"curvecheck {command} --json"


def test_recommend_stop_json_of_every_test_log_validates():
    from curvecheck.render.json_out import recommendation_json

    validator = jsonschema.Draft202012Validator(load_schema("recommend-stop"))
    checked = 0
    for path in LOGS:
        try:
            rec = curvecheck.recommend_stop(path)
        except (curvecheck.InputError, UsageError):  # unreadable, or no monitor: no document
            continue
        _assert_valid(validator, json.loads(recommendation_json(rec)), path)
        checked += 1
    assert checked >= 50


def test_recommend_stop_cli_json_validates_with_its_options():
    validator = jsonschema.Draft202012Validator(load_schema("recommend-stop"))
    seg, tb = SAMPLES / "segmentation_unet.csv", SAMPLES / "tensorboard_keras"
    for args in ((seg, "--monitor", "val_loss", "--monitor", "val_dice_coef", "--checkpoint-template",
                  "ckpt/epoch_{epoch:03d}.keras"),
                 (seg, "--strategy", "keras", "--patience", "3", "--live"),
                 (tb,), (SAMPLES / "nan_divergence.csv",)):
        doc, _ = _cli_json("recommend-stop", *args, "--json")
        assert doc["schema_version"] == 1
        _assert_valid(validator, doc, args)
    # the keys analyze writes for the same recommendation are the same (one shape, two places)
    analyzed = curvecheck.analyze(seg).to_dict()["runs"][0]["recommendation"]
    doc, _ = _cli_json("recommend-stop", seg, "--json")
    assert {k: v for k, v in doc.items() if k != "schema_version"} == analyzed


def test_compare_cli_json_validates_for_sweeps_and_gates():
    validator = jsonschema.Draft202012Validator(load_schema("compare"))
    sweep = sorted((DATA_SWEEP).glob("*.csv"))
    doc, _ = _cli_json("compare", *sweep, "--json")
    _assert_valid(validator, doc, "sweep")
    assert doc["schema_version"] == 1 and len(doc["runs"]) == len(sweep)
    good, slow = SAMPLES / "lr_sweep" / "lr_0.05.csv", SAMPLES / "lr_sweep" / "lr_0.0001.csv"
    for candidate, baseline, code in ((slow, good, 1), (good, slow, 0)):
        doc, rc = _cli_json("compare", candidate, "--baseline", baseline, "--fail-if", "val_accuracy < -0.01",
                            "--at", "recommended", "--json")
        _assert_valid(validator, doc, "gate")
        assert rc == code and doc["schema_version"] == 1 and doc["gates"][0]["passed"] is (code == 0)
    # the schema tells a sweep document from a gate document: neither may lose its keys
    bad = dict(doc)
    del bad["gates"]
    assert not validator.is_valid(bad)
    assert not validator.is_valid({**doc, "gates": [{**doc["gates"][0], "verdict": "ok"}]})
