"""API fixtures (apikit builds them)."""
from __future__ import annotations

import pytest
from apikit import build


@pytest.fixture
def api(tmp_path):
    built = build(tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def api_factory(tmp_path):
    made = []

    def make(**settings) -> Api:
        built = build(tmp_path / str(len(made)), **settings)
        made.append(built)
        return built
    (tmp_path / "0").mkdir()
    for i in range(1, 4):
        (tmp_path / str(i)).mkdir()
    yield make
    for built in made:
        built.store.close()
