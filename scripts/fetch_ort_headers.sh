#!/usr/bin/env bash
# Put the ONNX Runtime C/C++ API headers into .deps/onnxruntime (headers only, git-ignored).
# Debian 13: taken from the installed libonnxruntime-dev. Debian 12: the trixie package is
# downloaded with a private apt configuration (the system's apt state is not touched) and only
# its headers are unpacked; trixie's runtime library is never installed on Debian 12.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps/onnxruntime"
if [[ -f "$dest/include/onnxruntime/onnxruntime_cxx_api.h" && -f "$dest/VERSION" ]]; then
  echo "ONNX Runtime headers: $dest ($(cat "$dest/VERSION"), already present)"
  exit 0
fi
mkdir -p "$dest"
if [[ -f /usr/include/onnxruntime/onnxruntime_cxx_api.h ]]; then
  mkdir -p "$dest/include"
  cp -r /usr/include/onnxruntime "$dest/include/"
  dpkg-query -W -f='${Version}\n' libonnxruntime-dev 2>/dev/null | sed 's/+.*//' > "$dest/VERSION" \
    || echo unknown > "$dest/VERSION"
  echo "ONNX Runtime headers: copied from /usr/include/onnxruntime ($(cat "$dest/VERSION"))"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d}
touch "$work/status"
echo "deb http://deb.debian.org/debian trixie main" > "$work/etc/sources.list"
cat > "$work/apt.conf" <<CONF
Dir::Etc::SourceList "$work/etc/sources.list";
Dir::Etc::SourceParts "$work/etc/sources.list.d";
Dir::Etc::PreferencesParts "$work/etc/preferences.d";
Dir::State::Lists "$work/lists";
Dir::State::status "$work/status";
Dir::Cache "$work/cache";
APT::Sandbox::User "root";
CONF
echo "ONNX Runtime headers: downloading libonnxruntime-dev from Debian trixie (headers only)..."
APT_CONFIG="$work/apt.conf" apt-get update -qq
(cd "$work" && APT_CONFIG="$work/apt.conf" apt-get download -qq libonnxruntime-dev)
deb="$(ls "$work"/libonnxruntime-dev_*.deb)"
dpkg-deb -x "$deb" "$work/x"
mkdir -p "$dest/include"
rm -rf "$dest/include/onnxruntime"
cp -r "$work/x/usr/include/onnxruntime" "$dest/include/"
basename "$deb" | sed -E 's/^libonnxruntime-dev_([0-9.]+).*/\1/' > "$dest/VERSION"
echo "ONNX Runtime headers: $dest ($(cat "$dest/VERSION"))"
