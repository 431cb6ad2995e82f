"""Outputs never touch inputs: links, hard links, directories, logs; atomic writes; one-line refusals."""

import os
import subprocess
import sys

import pytest

from curvecheck.output import atomic_write, check_target, OutputRefused

from .conftest import SAMPLES

LOG = SAMPLES / "overfitting_mlp.csv"


def cli(*args, cwd=None):
    env = {"PATH": os.environ["PATH"], "NO_COLOR": "1"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(LOG.read_bytes())
    return path


def refused(res, *words):
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr and "internal error" not in res.stderr
    for w in words:
        assert w in res.stderr, res.stderr


def test_force_does_not_write_through_a_hard_link_to_the_log(tmp_path, log):
    fig = tmp_path / "fig.png"
    os.link(log, fig)
    before = log.read_bytes()
    refused(cli("plot", log, "-o", fig, "--force"), "fig.png", "hard link")
    assert log.read_bytes() == before


def test_a_hard_link_to_a_log_that_is_not_an_input_is_refused_too(tmp_path, log):
    other = tmp_path / "other_run.csv"
    other.write_bytes((SAMPLES / "nan_divergence.csv").read_bytes())
    fig = tmp_path / "fig.png"
    os.link(other, fig)
    refused(cli("plot", log, "-o", fig, "--force"), "training log")
    assert other.read_bytes() == (SAMPLES / "nan_divergence.csv").read_bytes()


def test_a_symlink_to_another_log_is_refused(tmp_path, log):
    other = tmp_path / "other_run.csv"
    other.write_bytes((SAMPLES / "nan_divergence.csv").read_bytes())
    fig = tmp_path / "fig.png"
    fig.symlink_to(other)
    refused(cli("plot", log, "-o", fig, "--force"), "symbolic link")
    assert other.read_bytes() == (SAMPLES / "nan_divergence.csv").read_bytes()


def test_a_dangling_symlink_does_not_write_into_the_log_directory(tmp_path, log):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    fig = tmp_path / "fig.png"
    fig.symlink_to(logdir / "planted.png")
    refused(cli("plot", log, "-o", fig, "--force"), "symbolic link")
    assert list(logdir.iterdir()) == []


def test_output_naming_a_directory_is_one_line(tmp_path, log):
    refused(cli("plot", log, "-o", tmp_path), "is a directory")
    refused(cli("analyze", log, "--format", "markdown", "--output", tmp_path), "is a directory")


def test_unwritable_directory_is_one_line(tmp_path, log):
    """An immutable working directory (here a read-only file system) gives one line, exit 2."""
    readonly = "/proc/self"  # exists, and nothing can create a file in it, not even root
    refused(cli("plot", log.resolve(), cwd=readonly), "cannot write")
    refused(cli("analyze", log.resolve(), "--plot", "x.png", cwd=readonly), "cannot write")


def test_force_replaces_a_regular_file_that_is_not_a_log(tmp_path, log):
    fig = tmp_path / "notes.png"
    fig.write_text("an old placeholder")
    refused(cli("plot", log, "-o", fig), "already exists")
    assert cli("plot", log, "-o", fig, "--force").returncode == 0
    assert fig.read_bytes().startswith(b"\x89PNG")


def test_a_report_never_replaces_a_log(tmp_path, log):
    other = tmp_path / "other.csv"
    other.write_bytes((SAMPLES / "nan_divergence.csv").read_bytes())
    refused(cli("analyze", log, "--format", "json", "--output", log), "refusing to overwrite a log")
    refused(cli("analyze", log, "--format", "markdown", "--output", other), "training log")
    assert log.read_bytes() == LOG.read_bytes()


def test_analyze_plot_replaces_its_own_earlier_figure(tmp_path, log):
    fig = tmp_path / "fig.png"
    assert cli("analyze", log, "--plot", fig).returncode == 0
    first = fig.stat().st_ino
    res = cli("analyze", log, "--plot", fig)
    assert res.returncode == 0 and "wrote" in res.stderr
    assert fig.stat().st_ino != first  # a new file renamed into place, not the old one rewritten


def test_analyze_plot_never_replaces_a_log_named_like_an_image(tmp_path, log):
    disguised = tmp_path / "curves.png"
    disguised.write_bytes(LOG.read_bytes())
    refused(cli("analyze", log, "--plot", disguised, "--force"), "training log")
    assert disguised.read_bytes() == LOG.read_bytes()


def test_atomic_write_leaves_no_temporary_file_and_keeps_other_links(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    twin = tmp_path / "twin.md"
    os.link(target, twin)
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new" and twin.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "twin.md"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"\x89PNG\r\n\x1a\nold")

    def broken(tmp):
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputRefused, match="No space left"):
        atomic_write(target, broken)
    assert target.read_bytes().endswith(b"old") and [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_an_input_directorys_files_are_never_targets(tmp_path):
    run_dir = tmp_path / "tb"
    run_dir.mkdir()
    event = run_dir / "events.out.tfevents.1"
    event.write_bytes(b"not really an event file")
    fig = tmp_path / "fig.png"
    os.link(event, fig)
    with pytest.raises(OutputRefused, match="log being read"):
        check_target(fig, [run_dir], force=True)


def test_inputs_are_opened_read_only(tmp_path, log):
    log.chmod(0o444)
    res = cli("analyze", log)
    assert res.returncode == 0 and log.read_bytes() == LOG.read_bytes()
