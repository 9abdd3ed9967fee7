#!/usr/bin/env bash
# Builds Clasifica-<version>-macos-arm64.dmg into $DIST, on a Mac with Apple
# silicon, macOS 14 or later (ONNX Runtime 1.30 has no Intel-Mac build and
# needs macOS 14), Xcode's command-line tools and Go. Run by `make dist` on
# macOS, which sets VERSION, DIST, DIST_ORT and DIST_LDFLAGS.
#
# UNTESTED: this project's build machines have no macOS SDK; it is written
# from Apple's documentation and meant for the release workflow
# (.github/workflows/release.yml) on a macOS runner. Known gap: Finder opens
# a double-clicked .clasifica file with an Apple Event, not a command-line
# argument, so the app starts without opening it.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VERSION:?}" "${DIST:?}" "${DIST_ORT:?}" "${DIST_LDFLAGS:?}"
GO=${GO:-go}
[ "$(uname -m)" = arm64 ] || { echo "build.sh: needs a Mac with Apple silicon (ONNX Runtime 1.30 has no Intel-Mac build)" >&2; exit 1; }
work=$DIST/build/macos-arm64
rm -rf "$work" "$DIST"/Clasifica-*-macos-arm64.dmg && mkdir -p "$work" "$DIST"

app=Clasifica.app
contents=$work/$app/Contents
mkdir -p "$contents/MacOS" "$contents/Resources" "$contents/Frameworks"
CGO_ENABLED=1 MACOSX_DEPLOYMENT_TARGET=14.0 $GO build -ldflags "$DIST_LDFLAGS" -o "$contents/MacOS/clasifica" .
# FindRuntime looks in ../Frameworks beside the executable.
cp "$DIST_ORT/bin/napi-v6/darwin/arm64/libonnxruntime.1.30.0.dylib" "$contents/Frameworks/"
cp THIRD_PARTY_NOTICES "$contents/Resources/"
iconset=$work/icon.iconset
mkdir -p "$iconset"
for s in 16 32 128 256 512; do
  sips -z $s $s resources/icon.png --out "$iconset/icon_${s}x${s}.png" >/dev/null
  sips -z $((2 * s)) $((2 * s)) resources/icon.png --out "$iconset/icon_${s}x${s}@2x.png" >/dev/null
done
iconutil -c icns "$iconset" -o "$contents/Resources/icon.icns"
short=$(packaging/version.sh quad "$VERSION" | cut -d. -f1-3)
sed -e "s/@VERSION@/$VERSION/g" -e "s/@SHORT@/$short/g" packaging/macos/Info.plist.in > "$contents/Info.plist"
plutil -lint "$contents/Info.plist"

# Ad-hoc signature: Apple silicon runs only signed code. Not notarised, so
# the first start needs right-click → Open (README).
codesign --force --sign - "$contents/Frameworks/libonnxruntime.1.30.0.dylib"
codesign --force --sign - "$work/$app"
codesign --verify --deep --strict "$work/$app"

dmg=$DIST/Clasifica-$VERSION-macos-arm64.dmg
rm -f "$dmg"
ln -s /Applications "$work/Applications"
hdiutil create -volname Clasifica -srcfolder "$work/$app" -srcfolder "$work/Applications" -fs HFS+ -format UDZO -ov "$dmg"
echo "== $dmg ($(du -h "$dmg" | cut -f1))"
