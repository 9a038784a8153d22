#!/usr/bin/env bash
# Re-fetch the web map's third-party files from the npm registry, at pinned versions, into
# src/skywarden/web/vendor/ (minified dist files and their licences; nothing else).
# The map ships these files: no CDN, no tile server. Needs npm and tar.
#   scripts/vendor-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MAPLIBRE_VERSION=5.24.1   # MapLibre GL JS 5.x renders in headless chromium without a GPU
MILSYMBOL_VERSION=3.0.4   # APP-6 / MIL-STD-2525 symbols

command -v npm >/dev/null || { echo "vendor-web.sh: npm is needed" >&2; exit 1; }
DEST=src/skywarden/web/vendor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fetch() {  # fetch NAME VERSION -> unpacked into $WORK/NAME
  local name=$1 version=$2
  (cd "$WORK" && npm pack --silent "$name@$version" >/dev/null)
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$name-$version.tgz" -C "$WORK/$name" --strip-components=1
}

fetch maplibre-gl "$MAPLIBRE_VERSION"
fetch milsymbol "$MILSYMBOL_VERSION"

rm -rf "$DEST"
mkdir -p "$DEST/maplibre-gl" "$DEST/milsymbol"
cp "$WORK/maplibre-gl/dist/maplibre-gl.js" "$WORK/maplibre-gl/dist/maplibre-gl.css" \
   "$WORK/maplibre-gl/LICENSE.txt" "$DEST/maplibre-gl/"
cp "$WORK/milsymbol/dist/milsymbol.js" "$WORK/milsymbol/LICENSE" "$DEST/milsymbol/"
cat > "$DEST/VERSIONS" <<VERSIONS
maplibre-gl $MAPLIBRE_VERSION (BSD-3-Clause) from the npm registry
milsymbol $MILSYMBOL_VERSION (MIT) from the npm registry
VERSIONS
echo "vendored into $DEST:"
(cd "$DEST" && find . -type f | sort | xargs ls -l | awk '{print "  " $5 "\t" $9}')
