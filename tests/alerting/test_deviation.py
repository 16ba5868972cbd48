"""Deviation from the same hour of past weeks: on the labelled real series in tests/data/nab and on
a store's hourly rollups through the engine."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from alertkit import Fleet, engine

from alerting import config as acfg
from alerting import deviation as dv
from store import Store

NAB = Path(__file__).resolve().parents[1] / "data" / "nab"


def nab_report(name: str, key: str, cfg: dict) -> dict:
    """Labelled windows caught (a flagged hour inside), false alarms (runs of flagged hours outside
    every window) and the weeks that could be judged (the same hour of >= 2 past weeks exists)."""
    df = pd.read_csv(NAB / name, parse_dates=["timestamp"])
    ts = ((df["timestamp"] - pd.Timestamp(0)) // pd.Timedelta(seconds=1)).to_numpy()
    hourly = pd.Series(df["value"].to_numpy(float), index=ts - ts % 3600).groupby(level=0).mean()
    sc = dv.hourly_scores(hourly, cfg["weeks"])
    sev = dv.judge(sc["z"].to_numpy(), sc["value"].to_numpy(), sc["median"].to_numpy(), cfg)
    flagged = sc["ts"].to_numpy()[sev != ""]
    windows = json.loads((NAB / "labels.json").read_text())[key]["windows"]
    inside = np.zeros(len(flagged), bool)
    caught = []
    for a, b in windows:
        m = (flagged >= pd.Timestamp(a).timestamp()) & (flagged <= pd.Timestamp(b).timestamp())
        inside |= m
        caught.append(bool(m.any()))
    outside = np.sort(flagged[~inside])
    false_alarms = int((np.diff(outside) > 3600).sum() + 1) if len(outside) else 0
    return {"caught": caught, "false_alarms": false_alarms, "weeks": float(sc["z"].notna().sum() / 168)}


def test_nyc_taxi_every_labelled_window_caught_with_few_false_alarms():
    rep = nab_report("nyc_taxi.csv", "realKnownCause/nyc_taxi.csv", acfg.Config().deviation)
    assert rep["caught"] == [True] * 5                     # marathon, Thanksgiving, Christmas, New Year, blizzard
    assert rep["weeks"] > 25 and rep["false_alarms"] / rep["weeks"] <= 0.2


def test_elb_series_is_too_short_to_judge_and_raises_nothing():
    rep = nab_report("elb_request_count_8c0756.csv", "realAWSCloudwatch/elb_request_count_8c0756.csv",
                     acfg.Config().deviation)
    assert rep["weeks"] < 0.1 and rep["false_alarms"] == 0 and not any(rep["caught"])


def test_a_business_whose_traffic_collapses_against_past_weeks_is_flagged(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'd.sqlite'}")
    fleet = Fleet(store, n=5)
    hour = 1_764_000_000 - 1_764_000_000 % 3600
    qps = [s for s in fleet.inv.series if s.metric == "qps"]
    hours = hour - 3600 * np.arange(0, 5 * 168)
    rng = np.random.default_rng(1)
    for s in qps:
        v = 1000.0 * (1 + 0.02 * rng.standard_normal(len(hours)))
        if s.instance.startswith("biz4-"):
            v[0] = 100.0                                    # the judged hour: a 90% drop
        sid = np.full(len(hours), fleet.ids[s.key])
        store.write_rollups(sid, hours, v, v, v, np.full(len(hours), 60))
    fleet.write(hour + 3600 + 30)
    eng = engine(store)
    assert eng.run_once(hour + 3600 + 60) is not None
    dev = store.open_alerts()
    dev = dev[dev["rule"] == "deviation"]
    assert list(dev["business"]) == ["biz4"] and dev.iloc[0]["severity"] == "crit"
    assert dev.iloc[0]["reason"].startswith("qps 200 vs usual 19")     # two instances: 2 x 100 against ~2 x 1000
    store.close()
