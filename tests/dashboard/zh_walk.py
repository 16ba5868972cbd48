"""Walks a rendered page's visible text and finds the English words a Chinese reader would meet.

Used by ``test_zh_browser.py``. The allow-list is names (what the store calls its businesses,
clusters, instances, product lines, on-call people and promotions: they are not translated) and
product names and units that Chinese operators read as they are.
"""
from __future__ import annotations

import re

#: product and protocol names, units and abbreviations a Chinese DBA reads as they are
PRODUCT_WORDS = frozenset({
    "Peakwatch", "Redis", "Memcached", "Twemproxy", "Zabbix", "QPS", "CSV", "CPU", "GiB", "MiB", "KiB", "TiB",
    "get", "set", "UTC", "maxmemory",
})

#: the visible text of the page: the DOM's rendered text plus every drawn SVG text of the charts
#: (Plotly's ticks, titles, legends and annotations), skipping hidden elements
VISIBLE_TEXT_JS = """() => {
  const out = [document.body.innerText];
  for (const t of document.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect(), cs = getComputedStyle(t);
    if (r.width > 0 && r.height > 0 && cs.display !== 'none' && cs.visibility !== 'hidden' && cs.opacity !== '0')
      out.push(t.textContent);
  }
  return out.join('\\n');
}"""

WORD = re.compile(r"[A-Za-z]+")
#: a URL parameter as the user types it (days=3, level='galaxy'): the fix a message names
URL_PARAMETER = re.compile(r"\b[a-z_]+=('[^']*'|\"[^\"]*\"|[^\s,;、，。）)]*)")
#: bytes as lb.bytes_ writes them: "0 B", "0 B/s", "7.5 MiB/s" (a "B" straight after a number is
#: plotly's billions, and stays a word)
BYTES = re.compile(r"(?<=[KMGT]iB)/s\b|(?<=\d )B(/s)?(?![A-Za-z])")
#: an IANA time zone as the user configured it (Asia/Shanghai): an identifier, like a name
ZONE = re.compile(r"\b[A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?\b")
#: 12.3k, 1.2M, 3.6G, 4T: SI prefixes after a number
SI_SUFFIX = re.compile(r"(?<=\d)[kMGT](?![A-Za-z])")


def store_names(store) -> list[str]:
    """Every name the store holds that a page may show as it is, longest first."""
    names: set[str] = set()
    biz = store.businesses()
    for column in ("name", "product_line"):
        if column in biz:
            for value in biz[column].dropna():
                names.update(str(v).strip() for v in (value if isinstance(value, (list, tuple)) else [value]))
    if {"name", "product_line"} <= set(biz.columns):     # a wall tile shows its name without its line
        from dashboard.tiles import display_name
        names.update(display_name(str(n), str(pl)) for n, pl in zip(biz["name"], biz["product_line"]))
    names.update(store.clusters()["name"])
    inst = store.instances()
    names.update(inst["name"])
    for column in ("host", "zabbix_host"):
        if column in inst:
            names.update(inst[column].dropna().astype(str))
    series = store.series()
    if "key" in series:                     # series keys ("10.0.0.1:6379/mem_util") name what Zabbix holds
        names.update(series["key"].dropna().astype(str))
    from core.settings import SETTINGS      # setting names a message tells the user to set (zabbix_url)
    names.update(s.name for s in SETTINGS)
    cal = store.calendar()
    names.update(cal["name"])
    names.update(cal["kind"])
    # on-call contacts are "Li Wei <+86138...>" one a line: the people's names
    for contacts in list(biz["oncall"].dropna()) if "oncall" in biz else []:
        names.update(re.sub(r"<[^>]*>", "", part).strip() for part in re.split(r"[\n,;，]", str(contacts)))
    return sorted((n for n in names if n and WORD.search(n)), key=len, reverse=True)


def english_words(text: str, names: list[str]) -> list[str]:
    """Words of Latin letters in ``text`` once the names and allowed words are taken out, sorted."""
    for name in names:   # as drawn: CSS may upper-case a product line ("TRADE")
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    text = BYTES.sub(" ", SI_SUFFIX.sub(" ", URL_PARAMETER.sub(" ", ZONE.sub(" ", text))))
    allowed = {w.lower() for w in PRODUCT_WORDS}
    return sorted({w for w in WORD.findall(text) if w.lower() not in allowed})
