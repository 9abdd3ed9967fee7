#!/bin/sh
# Regenerates docs/screenshots: builds Clasifica, prepares an isolated app
# home with the offline backbone (`make deps` first), starts a virtual X
# display, and runs the screenshot tour on the flowers sample (and the
# label check on a folder of planted problems it makes from the samples).
#
#   tools/screenshots/run.sh [DATA_DIR]
#
# SCREENSHOT_DISPLAY picks the X display number, SCREENSHOT_HOME keeps the
# app home between runs, SCREENSHOT_SKIP_CHECK=1 leaves the label check out.
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

# A folder with labelling problems for the label check's picture, built
# from the sample photos: cats, dogs and flowers, with every tenth photo
# put in another of the three folders, and two near-copies made with
# ImageMagick (70%, JPEG quality 60; a 5% crop) where it is installed.
check="$home/messy"
rm -rf "$check"
mkdir -p "$check/cats" "$check/dogs" "$check/flowers"
for breed in testdata/photos/pets/*/; do
	case $(basename "$breed") in
	[A-Z]*) cp "$breed"* "$check/cats/" ;;
	*) cp "$breed"* "$check/dogs/" ;;
	esac
done
cp testdata/photos/flowers/*/* "$check/flowers/"
i=0
for kind in cats dogs flowers; do
	for f in $(ls "$check/$kind" | sort); do
		i=$((i + 1))
		if [ $((i % 10)) -eq 0 ]; then
			case $kind$((i / 10 % 2)) in
			cats0 | dogs1) to=flowers ;;
			cats1 | flowers0) to=dogs ;;
			*) to=cats ;;
			esac
			mv "$check/$kind/$f" "$check/$to/$f"
		fi
	done
done
if command -v convert >/dev/null; then
	f=$(ls "$check/dogs" | sort | sed -n 5p)
	convert "$check/dogs/$f" -resize 70% -quality 60 "$check/dogs/copy-of-$f"
	f=$(ls "$check/flowers" | sort | sed -n 3p)
	convert "$check/flowers/$f" -gravity center -crop 95%x95%+0+0 +repage "$check/flowers/IMG_$f"
fi

# The training folder is a copy (the correction loop copies photos into
# it), less three photos of each kind, which the tour sorts on Classify,
# teaches the model and retrains with.
train="$home/photos"
new="$home/new-photos"
rm -rf "$train" "$new"
for kind in "$data"/*/; do
	k=$(basename "$kind")
	mkdir -p "$train/$k" "$new/$k"
	cp "$kind"* "$train/$k/"
	for f in $(ls "$train/$k" | sort | tail -n 3); do
		mv "$train/$k/$f" "$new/$k/$f"
	done
done
checkflag=$check
if [ -n "${SCREENSHOT_SKIP_CHECK:-}" ]; then
	checkflag=
fi

display=:${SCREENSHOT_DISPLAY:-97}
Xvfb "$display" -screen 0 1366x768x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
DISPLAY=$display go run -tags screenshots ./tools/screenshots -data "$train" -classify "$new" -check "$checkflag" -out docs/screenshots

# Screenshots stay small in the repository: a picture over 150 kB is
# quantised, to fewer colours until it fits (the photos in it lose some).
for f in docs/screenshots/*.png; do
	for colours in "FloydSteinberg 256" "None 128" "None 96" "None 64"; do
		[ "$(wc -c <"$f")" -gt 150000 ] || break
		set -- $colours
		convert "$f" -strip -dither "$1" -colors "$2" "PNG8:$f.tmp" && mv "$f.tmp" "$f"
	done
done
echo "Pictures written to docs/screenshots/"
