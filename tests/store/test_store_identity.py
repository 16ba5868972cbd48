"""The store says which database it is and whether data arrived since a mark, so readers (the
dashboard's shared cache and its warmer) never parse the URL or stat files themselves."""
from __future__ import annotations

import os

import numpy as np
from storekit import T0, make_inventory, minutes

from store import Store


def test_one_sqlite_file_has_one_identity_however_the_url_names_it(tmp_path):
    absolute = f"sqlite:///{tmp_path / 'pw.sqlite'}"
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        with Store.open("sqlite:///pw.sqlite") as relative, Store.open(absolute) as full:
            assert relative.identity == full.identity == f"sqlite:///{(tmp_path / 'pw.sqlite').resolve()}"
    finally:
        os.chdir(here)
    other = tmp_path / "other"
    other.mkdir()
    with Store.open(f"sqlite:///{other / 'pw.sqlite'}") as elsewhere:
        assert elsewhere.identity != f"sqlite:///{(tmp_path / 'pw.sqlite').resolve()}"


def test_a_postgresql_identity_never_holds_the_password(pg_url):
    with Store.open(pg_url) as store:
        assert "@" in store.identity and store.identity.split("://")[0] == "postgresql+psycopg"
    from sqlalchemy.engine import make_url
    u = make_url(pg_url).set(password="s3cr3t-pw")
    assert "s3cr3t-pw" not in Store(None, u.render_as_string(hide_password=False)).identity


def test_the_data_mark_moves_when_samples_arrive_and_only_then(db_url):
    with Store.open(db_url) as store:
        ids = store.upsert_inventory(make_inventory())
        sid = ids["pay-cache-0:6379/qps"]
        first = store.data_mark()
        assert store.data_mark() == first
        store.write_samples(np.full(5, sid), minutes(T0, 5), np.arange(5.0))
        second = store.data_mark()
        assert second != first
        store.latest()
        store.read_range([sid], T0, T0 + 3600)
        assert store.data_mark() == second
        with Store.open(db_url) as other:     # another process's writer
            other.write_samples(np.array([sid]), np.array([T0 + 600]), np.array([1.0]))
        assert store.data_mark() != second
