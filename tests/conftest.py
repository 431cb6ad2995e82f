from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
WRITTEN = DATA / "written"
SAMPLES = Path(__file__).parent.parent / "sample_logs"


@pytest.fixture
def corpus():
    return CORPUS


@pytest.fixture
def written():
    return WRITTEN
