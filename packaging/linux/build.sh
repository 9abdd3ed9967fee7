#!/usr/bin/env bash
# Builds the Linux packages into $DIST: clasifica_<version>_<arch>.deb laid
# out by the Debian policy, and clasifica-<version>-linux-<arch>.tar.xz, a
# folder that runs from wherever it is extracted. Run by `make dist`, which
# sets VERSION, DIST, DIST_ORT (the extracted onnxruntime-node package) and
# DIST_LDFLAGS.
#
#   ARCH=amd64 (default) or arm64 (needs the aarch64 cross compiler and the
#   arm64 GL/X11 and libturbojpeg0-dev development packages).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VERSION:?}" "${DIST:?}" "${DIST_ORT:?}" "${DIST_LDFLAGS:?}"
GO=${GO:-go}
ARCH=${ARCH:-amd64}
case $ARCH in
amd64) goarch=amd64 ortdir=x64 cc=${CC:-gcc} ;;
arm64) goarch=arm64 ortdir=arm64 cc=${CC:-aarch64-linux-gnu-gcc} ;;
*) echo "build.sh: unknown ARCH $ARCH" >&2; exit 2 ;;
esac
tarch=$ortdir
debver=$(packaging/version.sh deb "$VERSION")
work=$DIST/build/linux-$ARCH
rm -rf "$work" "$DIST"/clasifica_*_$ARCH.deb "$DIST"/clasifica-*-linux-$tarch.tar.xz
mkdir -p "$work" "$DIST"

echo "== linux/$ARCH: building clasifica $VERSION"
CGO_ENABLED=1 GOOS=linux GOARCH=$goarch CC=$cc $GO build -ldflags "$DIST_LDFLAGS" -o "$work/clasifica" .
ort="$DIST_ORT/bin/napi-v6/linux/$ortdir/libonnxruntime.so.1"

# ---- .deb
root=$work/deb
install -D -m 0755 "$work/clasifica" "$root/usr/bin/clasifica"
install -D -m 0644 "$ort" "$root/usr/lib/clasifica/libonnxruntime.so.1"
install -D -m 0644 packaging/linux/io.github.clasifica.desktop "$root/usr/share/applications/io.github.clasifica.desktop"
install -D -m 0644 packaging/linux/io.github.clasifica.xml "$root/usr/share/mime/packages/io.github.clasifica.xml"
mkdir -p "$root/usr/share/metainfo"
sed -e "s/@VERSION@/$debver/" -e "s/@DATE@/$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}" +%F)/" \
  packaging/linux/io.github.clasifica.metainfo.xml.in > "$root/usr/share/metainfo/io.github.clasifica.metainfo.xml"
$GO run ./packaging/icons -src resources/icon.png -hicolor "$root/usr/share/icons/hicolor" -name io.github.clasifica
install -D -m 0644 resources/icon.svg "$root/usr/share/icons/hicolor/scalable/apps/io.github.clasifica.svg"
mkdir -p "$root/usr/share/man/man1" "$root/usr/share/doc/clasifica"
sed "s/@VERSION@/$VERSION/" packaging/linux/clasifica.1.in | gzip -9n > "$root/usr/share/man/man1/clasifica.1.gz"
{
  echo "Clasifica $VERSION — https://github.com/clasifica/clasifica"
  echo
  echo "Copyright: the Clasifica authors."
  echo
  packaging/notices.sh --debian "$work/notices" && cat "$work/notices"
} > "$root/usr/share/doc/clasifica/copyright"
# ONNX Runtime's release build links curl and mbedtls statically; the
# library is upstream's, unmodified, so it keeps them.
install -D -m 0644 packaging/linux/lintian-overrides "$root/usr/share/lintian/overrides/clasifica"
{
  echo "clasifica ($debver) unstable; urgency=medium"
  echo
  echo "  * Release $VERSION, built from $(git rev-parse --short HEAD)."
  echo
  echo " -- Clasifica developers <clasifica@users.noreply.github.com>  $(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}")"
} | gzip -9n > "$root/usr/share/doc/clasifica/changelog.gz"
find "$root" -type d -exec chmod 0755 {} +

# Depends: from the shared libraries the program and the runtime link.
shl=$work/shlibs
mkdir -p "$shl/debian" "$root/DEBIAN"
printf 'Source: clasifica\n\nPackage: clasifica\nArchitecture: any\n' > "$shl/debian/control"
absroot=$(realpath "$root")
depends=$(cd "$shl" && DEB_HOST_ARCH=$ARCH dpkg-shlibdeps -O "$absroot/usr/bin/clasifica" "$absroot/usr/lib/clasifica/libonnxruntime.so.1" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# GLFW loads these X11 libraries with dlopen, where dpkg-shlibdeps cannot
# see them.
depends="$depends, libx11-xcb1, libxcursor1, libxi6, libxinerama1, libxrandr2, libxrender1, libxxf86vm1"
(cd "$root" && find usr -type f -exec md5sum {} + | sort -k2) > "$root/DEBIAN/md5sums"
cat > "$root/DEBIAN/control" <<CONTROL
Package: clasifica
Version: $debver
Architecture: $ARCH
Maintainer: Clasifica developers <clasifica@users.noreply.github.com>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: shared-mime-info
Section: graphics
Priority: optional
Homepage: https://github.com/clasifica/clasifica
Description: teach your computer to sort photos
 Clasifica trains a photo classifier on a folder whose subfolders are the
 kinds of photo to tell apart (transfer learning on a pretrained
 InceptionV3, run by ONNX Runtime on the CPU), shows how well it learned,
 then labels new photos dropped on its window or sorts whole folders.
 .
 The clasifica command is also its command line: train, classify, eval,
 export.
CONTROL
deb=$DIST/clasifica_${debver}_$ARCH.deb
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >/dev/null
echo "== $deb ($(du -h "$deb" | cut -f1))"

# ---- portable tarball
name=clasifica-$VERSION-linux-$tarch
tdir=$work/tar/$name
mkdir -p "$tdir"
cp "$work/clasifica" "$ort" "$tdir/"
cp THIRD_PARTY_NOTICES "$tdir/"
install -m 0644 packaging/linux/io.github.clasifica.desktop resources/icon.png "$tdir/"
cat > "$tdir/README.txt" <<README
Clasifica $VERSION for Linux ($tarch), portable

Run ./clasifica to open the app, or ./clasifica help for its command line.
The ONNX Runtime library beside it is found without any setting. It needs
the system's OpenGL and X11 libraries (on Debian and Ubuntu: libgl1
libx11-6 libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1), which
desktops have. For a menu entry and the .clasifica file type, install the
.deb instead.
README
tar -C "$work/tar" --owner=0 --group=0 --numeric-owner --sort=name \
  ${SOURCE_DATE_EPOCH:+--mtime=@$SOURCE_DATE_EPOCH} -cJf "$DIST/$name.tar.xz" "$name"
echo "== $DIST/$name.tar.xz ($(du -h "$DIST/$name.tar.xz" | cut -f1))"
