#!/usr/bin/env bash
# Debian's Chromium (driven by Playwright's Python API, no browser download) and a CJK font
# for the Chinese labels. Idempotent.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "wqy" || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
    echo "[browser-up] installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi
chromium --version
