// Clientside callbacks of the Peakwatch pages (wall refresh in place, data age, sound, rotation).
// The sparkline SVG around the points a refresh sends: the same strings as dashboard/tiles.py.
const SVG_HEAD = "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='100' height='22' " +
  "viewBox='0 0 100 22'><polyline fill='none' stroke='%23cfd8e3' stroke-width='1.5' points='";
const SVG_TAIL = "'/></svg>";
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  peakwatch: {
    // Apply the server's diff to the tiles in place: only changed props, no re-render.
    applyWallDiff: function (diff, state) {
      if (!diff) { return window.dash_clientside.no_update; }
      const set = window.dash_clientside.set_props;
      const t = diff.t || {};
      for (const i in t) {
        const c = t[i];
        if (c.cls !== undefined) { set("t" + i, {className: c.cls}); }
        if (c.tip !== undefined) { set("t" + i, {title: c.tip}); }
        if (c.qps !== undefined) { set("q" + i, {children: c.qps}); }
        if (c.chg !== undefined) { set("c" + i, {children: c.chg}); }
        if (c.chg_cls !== undefined) { set("c" + i, {className: c.chg_cls}); }
        if (c.spark !== undefined) { set("s" + i, {src: SVG_HEAD + c.spark + SVG_TAIL}); }
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
      const text = age < 90 ? Math.round(age) + "s" : age < 5400 ? Math.round(age / 60) + "m"
        : Math.floor(age / 3600) + "h" + String(Math.round(age % 3600 / 60)).padStart(2, "0") + "m";
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
