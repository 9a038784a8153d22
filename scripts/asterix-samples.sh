#!/usr/bin/env bash
# Real ASTERIX recordings for the decoder tests: the Croatia Control samples that ship in
# the asterix-decoder source package. That package is GPL-3.0, so its files are fetched
# from PyPI at test time and never committed here. Idempotent: does nothing when the
# samples are already there.
#   scripts/asterix-samples.sh        -> .cache/asterix-samples/*.raw, *.pcap
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.7.11
DEST=.cache/asterix-samples
PY=${PYTHON:-.venv/bin/python}

if [ -f "$DEST/.version" ] && [ "$(cat "$DEST/.version")" = "$VERSION" ]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$PY" -m pip download --quiet --no-deps --no-binary :all: --dest "$tmp" \
     "asterix-decoder==$VERSION"; then
  echo "asterix-samples.sh: could not download asterix-decoder $VERSION from PyPI" >&2
  exit 1
fi
tar -xzf "$tmp/asterix_decoder-$VERSION.tar.gz" -C "$tmp"
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$tmp/asterix_decoder-$VERSION/install/sample_data/"* "$DEST/"
cp "$tmp/asterix_decoder-$VERSION/asterix/sample_data/cat034.raw" "$DEST/" 2>/dev/null || true
echo "$VERSION" > "$DEST/.version"
echo "asterix-samples.sh: $(ls "$DEST" | wc -l) recordings in $DEST" >&2
