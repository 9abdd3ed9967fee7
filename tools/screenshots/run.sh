#!/bin/sh
# Regenerates docs/screenshots: builds Clasifica, prepares an isolated app
# home with the offline backbone (`make deps` first), starts a virtual X
# display, and runs the screenshot tour on the flowers sample.
#
#   tools/screenshots/run.sh [DATA_DIR]
set -eu
cd "$(dirname "$0")/../.."
data=${1:-testdata/photos/flowers}
lib=${ONNXRUNTIME_LIB:-$PWD/.deps/onnxruntime/libonnxruntime.so.1}
backbone=${CLASIFICA_TEST_BACKBONE:-$PWD/.deps/backbones/nsfwjs-inceptionv3}

# SCREENSHOT_HOME keeps the app home (and its feature cache) between runs,
# which makes trying out changes faster; the pictures in the repository
# come from a fresh home, where training shows its first phase.
home=${SCREENSHOT_HOME:-$(mktemp -d)}
mkdir -p "$home"
xvfb=
trap 'if [ -n "$xvfb" ]; then kill "$xvfb"; fi; if [ -z "${SCREENSHOT_HOME:-}" ]; then rm -rf "$home"; fi' EXIT
export CLASIFICA_HOME="$home/clasifica" XDG_CONFIG_HOME="$home/config" LANG=en_US.UTF-8
unset ONNXRUNTIME_LIB

go build -o "$home/clasifica-cli" .
"$home/clasifica-cli" setup --runtime "$lib" --offline-backbone "$backbone" --timeout 3s

display=:${SCREENSHOT_DISPLAY:-97}
Xvfb "$display" -screen 0 1366x768x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
DISPLAY=$display go run -tags screenshots ./tools/screenshots -data "$data" -out docs/screenshots
echo "Pictures written to docs/screenshots/"
