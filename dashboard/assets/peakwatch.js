// Clientside callbacks of the Peakwatch pages (wall refresh in place, data age, sound, rotation).
// Sparklines are inline SVG polylines (points from dashboard/tiles.py, 100x22 box): hundreds of
// <img> data URIs would each be parsed as an SVG document and slow the first paint many times.
const SVG_NS = "http://www.w3.org/2000/svg";
function sparkline(points) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 100 22");
  svg.setAttribute("class", "spark");
  svg.setAttribute("preserveAspectRatio", "none");
  const line = document.createElementNS(SVG_NS, "polyline");
  line.setAttribute("points", points);
  svg.appendChild(line);
  return svg;
}
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  peakwatch: {
    // Apply the server's diff to the tiles in place: only changed props, no re-render.
    // Draw every tile from the grid document (DOM API: names are text, never HTML).
    renderWall: function (grid) {
      if (!grid) { return window.dash_clientside.no_update; }
      const root = document.getElementById("wall-groups");
      if (!root) {   // React has not committed the page yet: draw on the next frame
        requestAnimationFrame(function () { window.dash_clientside.peakwatch.renderWall(grid); });
        return window.dash_clientside.no_update;
      }
      const el = function (tag, cls, text) {
        const e = document.createElement(tag);
        if (cls) { e.className = cls; }
        if (text !== undefined) { e.textContent = text; }
        return e;
      };
      const frag = document.createDocumentFragment();
      grid.lines.forEach(function (entry) {
        const line = entry[0], idx = entry[1];
        const section = el("section", "group");
        section.dataset.line = line;
        section.appendChild(el("h3", "group-title", line + " \u00b7 " + idx.length));
        const box = el("div", "tiles");
        idx.forEach(function (i) {
          const v = grid.views[i], name = grid.names[i], star = grid.stars[i];
          const a = el("a", v.cls);
          a.id = "t" + i; a.href = "/business/" + encodeURIComponent(name); a.title = v.tip;
          a.dataset.business = name;         // the full name (the tile may show it shorter)
          const head = el("div", "tile-head");
          const g = el("span", "glyph", v.glyph); g.id = "g" + i;
          head.appendChild(g);
          head.appendChild(el("span", "name", grid.short ? grid.short[i] : name));
          head.appendChild(el("span", "star star-" + star, "\u2605" + star));
          const body = el("div", "tile-body");
          const q = el("span", "qps", v.qps); q.id = "q" + i;
          const c = el("span", v.chg_cls, v.chg); c.id = "c" + i; c.title = grid.chg_title;
          body.appendChild(q); body.appendChild(c);
          const img = sparkline(v.spark); img.id = "s" + i;
          a.appendChild(head); a.appendChild(body); a.appendChild(img);
          box.appendChild(a);
        });
        section.appendChild(box);
        frag.appendChild(section);
      });
      // sized before the tiles go in: the page lays out once, at the final size
      window.dash_clientside.peakwatch.fitWall(grid.names.length + grid.lines.length);
      root.replaceChildren(frag);
      window.peakwatchDrawnAt = performance.now();
      return String(grid.names.length);
    },
    // Size the tiles to fill the screen below the flag strip: the number of columns that gives the
    // largest tiles (base 112x40 px at --u 1: a 14 px name and a 16 px QPS inside a 2 px pattern border), every cell one size,
    // nothing below the fold. Runs after drawing, on resize and when the flag strip changes height.
    fitWall: function (count) {
      const root = document.getElementById("wall-groups");
      if (!root) { return; }
      const n = typeof count === "number" ? count : root.querySelectorAll(".tile, .group-title").length;
      if (!n) { return; }
      const BW = 112, BH = 40, SPARK = 15, UMAX = 3;
      const pad = parseFloat(getComputedStyle(document.getElementById("wall")).paddingBottom) || 0;
      const W = root.clientWidth;
      const H = window.innerHeight - (root.getBoundingClientRect().top + window.scrollY) - pad - 2;
      const gap = Math.max(2, Math.round(Math.min(window.innerWidth / 640, window.innerHeight / 360)));
      let best = {u: 0, c: 1, rows: n};
      for (let c = 1; c <= n; c++) {
        const rows = Math.ceil(n / c);
        const u = Math.min((W - (c - 1) * gap) / c / BW, (H - (rows - 1) * gap) / rows / BH);
        if (u > best.u) { best = {u: u, c: c, rows: rows}; }
      }
      const u = Math.max(0.5, Math.min(best.u, UMAX));
      const w = Math.min(Math.floor((W - (best.c - 1) * gap) / best.c), Math.floor(BW * u * 1.6));
      const h = Math.min(Math.floor((H - (best.rows - 1) * gap) / best.rows), Math.floor((BH + SPARK + 4) * u));
      root.style.setProperty("--u", u.toFixed(3));
      root.style.setProperty("--tw", w + "px");
      root.style.setProperty("--th", h + "px");
      root.style.setProperty("--gap", gap + "px");
      root.classList.toggle("with-spark", h >= (BH + SPARK) * u);
      if (!window.peakwatchFitting) {        // once per page: refit on resize and when the strip changes
        window.peakwatchFitting = true;
        const again = function () { requestAnimationFrame(function () { window.dash_clientside.peakwatch.fitWall(); }); };
        window.addEventListener("resize", again);
        const strip = document.getElementById("wall-flags");
        if (strip && window.ResizeObserver) { new ResizeObserver(again).observe(strip); }
      }
      window.peakwatchFit = {u: u, columns: best.c, rows: best.rows, w: w, h: h};
    },
    // Apply the server's diff to the tiles in place: only changed fields, nothing re-drawn.
    applyWallDiff: function (diff, state) {
      if (!diff) { return window.dash_clientside.no_update; }
      const t = diff.t || {};
      const byId = function (id) { return document.getElementById(id); };
      for (const i in t) {
        const c = t[i], tile = byId("t" + i);
        if (!tile) { continue; }
        if (c.cls !== undefined) { tile.className = c.cls; }
        if (c.glyph !== undefined) { byId("g" + i).textContent = c.glyph; }
        if (c.tip !== undefined) { tile.title = c.tip; }
        if (c.qps !== undefined) { byId("q" + i).textContent = c.qps; }
        if (c.chg !== undefined) { byId("c" + i).textContent = c.chg; }
        if (c.chg_cls !== undefined) { byId("c" + i).className = c.chg_cls; }
        if (c.spark !== undefined) { byId("s" + i).firstChild.setAttribute("points", c.spark); }
      }
      const before = new Set((state && state.crit) || []);
      const fresh = (diff.crit || []).filter(function (b) { return !before.has(b); });
      if (fresh.length && state && state.sound && localStorage.getItem("peakwatch-muted") !== "1") {
        window.dash_clientside.peakwatch.beep();
      }
      window.peakwatchUpdates = (window.peakwatchUpdates || 0) + 1;
      return {v: diff.v, inv: diff.inv, crit: diff.crit || [], sound: state ? state.sound : false};
    },
    beep: function () {
      try {
        const ctx = new (window.AudioContext || window.webkitAudioContext)();
        const osc = ctx.createOscillator();
        osc.frequency.value = 880;
        osc.connect(ctx.destination);
        osc.start();
        osc.stop(ctx.currentTime + 0.4);
        window.peakwatchBeeps = (window.peakwatchBeeps || 0) + 1;
      } catch (e) { /* no audio device: the red tile is the alarm */ }
    },
    // "data age 42s", red once it exceeds the staleness limit (the store stopped receiving data).
    dataAge: function (data) {
      if (!data) { return ["", "age"]; }
      if (data.latest === null || data.latest === undefined) { return [data.none, "age old"]; }
      if (data.received === undefined || data.received_now !== data.now) {
        data.received = Date.now() / 1000; data.received_now = data.now;
      }
      const age = Math.max(0, data.now - data.latest + (Date.now() / 1000 - data.received));
      const u = data.units || ["s", "m", "h", "d"];      // labels.DURATION_UNITS, as labels.duration
      const text = age < 90 ? Math.round(age) + u[0] : age < 5400 ? Math.floor(age / 60) + u[1]
        : age < 172800 ? Math.floor(age / 3600) + u[2] + String(Math.floor(age % 3600 / 60)).padStart(2, "0") + u[1]
        : Math.floor(age / 86400) + u[3];
      return [data.label + " " + text, age > data.stale_after ? "age old" : "age"];
    },
    toggleMute: function (n, labels) {
      let muted = localStorage.getItem("peakwatch-muted") === "1";
      if (n) { muted = !muted; localStorage.setItem("peakwatch-muted", muted ? "1" : "0"); }
      const on = labels ? labels.on : "Sound on", off = labels ? labels.off : "Muted";
      return [muted ? "\uD83D\uDD07 " + off : "\uD83D\uDD14 " + on, muted ? "mute muted" : "mute"];
    },
    // Kiosk page rotation: after `seconds`, go to the playlist entry after the current page.
    rotate: function (data) {
      if (!data || !data.playlist || data.playlist.length < 2) { return ""; }
      const here = window.location.pathname + window.location.search;
      let i = data.playlist.indexOf(here);
      const next = data.playlist[(i + 1) % data.playlist.length];
      clearTimeout(window.peakwatchRotation);
      window.peakwatchRotation = setTimeout(function () { window.location.assign(next); }, data.seconds * 1000);
      return next;
    }
  }
});
