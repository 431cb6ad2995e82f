"""Whatever the bytes, load() returns a Run or raises InputError with a one-line message; never anything else."""

import json
import struct

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import curvecheck
from curvecheck.errors import InputError

from .conftest import WRITTEN

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
REAL_EVENTS = next((WRITTEN / "torch_simple").iterdir()).read_bytes()


def load_or_input_error(path):
    try:
        run = curvecheck.load(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return None
    curvecheck.analyze(run)  # the checks must cope with whatever was read
    return run


@FUZZ
@given(data=st.binary(max_size=600))
@example(data=b"\r\x01\t")  # a lone CR once made the csv module raise
def test_random_bytes(tmp_path, data):
    path = tmp_path / "log.bin"
    path.write_bytes(data)
    load_or_input_error(path)


cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(["", "NA", "nan", "x", "1e309"]))


@FUZZ
@given(header=st.lists(st.sampled_from(["epoch", "loss", "val_loss", "acc", "val_iou", "lr", "step", ""]), min_size=1,
                       max_size=6),
       rows=st.lists(st.lists(cell, min_size=0, max_size=7), max_size=12), sep=st.sampled_from([",", ";", "\t"]))
def test_csv_like_text(tmp_path, header, rows, sep):
    path = tmp_path / "log.csv"
    path.write_text("\n".join([sep.join(header)] + [sep.join(r) for r in rows]) + "\n")
    load_or_input_error(path)


json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=5)),
                          lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                  st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                          max_leaves=30)


@FUZZ
@given(doc=json_value)
def test_json_documents(tmp_path, doc):
    path = tmp_path / "history.json"
    path.write_text(json.dumps(doc))
    load_or_input_error(path)


@FUZZ
@given(cut=st.integers(min_value=1, max_value=len(REAL_EVENTS) - 1), flip=st.integers(min_value=0, max_value=255),
       at=st.integers(min_value=12, max_value=len(REAL_EVENTS) - 1))
def test_damaged_event_files(tmp_path, cut, flip, at):
    """A real torch event file, truncated anywhere and with one byte changed anywhere after the header."""
    data = bytearray(REAL_EVENTS[:cut])
    if at < len(data):
        data[at] ^= flip
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(bytes(data))
    load_or_input_error(path)


def test_a_record_claiming_a_huge_length(tmp_path):
    path = tmp_path / "events.out.tfevents.2.host"
    path.write_bytes(REAL_EVENTS[:64] + struct.pack("<Q", 2**40) + b"\x00" * 20)
    run = load_or_input_error(path)
    assert run is None or any(n.kind == "truncated" for n in run.notes)
