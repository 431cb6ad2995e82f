"""The shipped JSON Schema is generated from the code and validates real output of every test log."""

import json

import jsonschema

import curvecheck
from curvecheck.checks import CHECKS
from curvecheck.schema import SCHEMA_FILE, build_schema, evidence_schema, load_schema, schema_text

from .conftest import CORPUS, SAMPLES

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
