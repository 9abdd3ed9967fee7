#!/usr/bin/env bash
# Builds the Windows x64 installer, Clasifica-<version>-windows-x64-setup.exe,
# into $DIST: clasifica.exe cross-built with mingw-w64 (a GUI-subsystem
# program with its icon, manifest and version resource), the ONNX Runtime
# and DirectML DLLs beside it, packed by NSIS. Run by `make dist`, which
# sets VERSION, DIST, DIST_ORT and DIST_LDFLAGS.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VERSION:?}" "${DIST:?}" "${DIST_ORT:?}" "${DIST_LDFLAGS:?}"
GO=${GO:-go}
CC=${WINDOWS_CC:-x86_64-w64-mingw32-gcc}
WINDRES=${WINDRES:-x86_64-w64-mingw32-windres}
quad=$(packaging/version.sh quad "$VERSION")
work=$DIST/build/windows-amd64
stage=$work/stage
rm -rf "$work" "$DIST"/Clasifica-*-windows-x64-setup.exe
mkdir -p "$stage" "$DIST"

# Resources: Go links a .syso file found in the main package's folder.
$GO run ./packaging/icons -src resources/icon.png -ico "$work/clasifica.ico" -wizard "$work/wizard.bmp"
sed "s/@QUAD@/$quad/" packaging/windows/clasifica.exe.manifest > "$work/clasifica.exe.manifest"
sed -e "s/@QUAD_COMMAS@/${quad//./,}/" -e "s/@VERSION@/$VERSION/" packaging/windows/clasifica.rc.in > "$work/clasifica.rc"
syso=$PWD/rsrc_windows_amd64.syso
trap 'rm -f "$syso"' EXIT
(cd "$work" && $WINDRES -O coff -i clasifica.rc -o "$syso")

echo "== windows/amd64: building clasifica.exe $VERSION"
CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$CC $GO build -ldflags "$DIST_LDFLAGS -H=windowsgui" -o "$stage/clasifica.exe" .
rm -f "$syso"
ort=$DIST_ORT/bin/napi-v6/win32/x64
cp "$ort/onnxruntime.dll" "$ort/DirectML.dll" "$ort/dxcompiler.dll" "$ort/dxil.dll" "$stage/"
sed 's/$/\r/' THIRD_PARTY_NOTICES > "$stage/THIRD_PARTY_NOTICES.txt"

# The uninstaller deletes exactly what was installed.
(cd "$stage" && find . -type f | sed 's|^\./||; s|/|\\|g' | sort | sed 's|.*|  Delete "$INSTDIR\\&"|') > "$work/files.nsh"
(cd "$stage" && find . -mindepth 1 -type d | sort -r | sed 's|^\./||; s|/|\\|g; s|.*|  RMDir "$INSTDIR\\&"|') >> "$work/files.nsh"

out=$DIST/Clasifica-$VERSION-windows-x64-setup.exe
makensis -V2 -INPUTCHARSET UTF8 -DVERSION="$VERSION" -DQUAD="$quad" -DSTAGE="$stage" -DFILES="$work/files.nsh" \
  -DICON="$work/clasifica.ico" -DWIZARD="$work/wizard.bmp" -DOUTFILE="$out" packaging/windows/clasifica.nsi
echo "== $out ($(du -h "$out" | cut -f1))"
