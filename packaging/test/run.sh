#!/usr/bin/env bash
# Tests the packages in $DIST on clean systems, as a user would get them:
#
#   deb:     a fresh Debian 12 root (debootstrap --variant=minbase), the .deb
#            installed with apt-get, then --version, classify (the labels a
#            model trained on the host gives on the host), the app under Xvfb
#            (a window that is drawn), purge (no file of the package left);
#            then the portable tarball, extracted, classifies the same.
#   windows: the setup under Wine in a fresh prefix: silent install, Start
#            menu, uninstall entry and file association, classify (the same
#            labels as Linux with its JPEG decoder, Go's: probabilities within 1e-4), the app under Xvfb,
#            silent uninstall (folder, shortcut and entry gone).
#
# Run by `make test-dist` (as root: debootstrap and chroot), which builds the
# packages and sets DIST, DIST_ORT and DIST_PHOTOS (labelled photos in class
# folders). Screenshots and logs go to $DIST/test. Ends with a summary line,
# "dist: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${DIST:?}" "${DIST_ORT:?}" "${DIST_PHOTOS:?}"
BACKBONE=${CLASIFICA_TEST_BACKBONE:-$PWD/.deps/backbones/nsfwjs-inceptionv3}
# The packages must find their runtime by themselves (the Makefile exports
# the development one, and Wine would pass it on to clasifica.exe).
unset ONNXRUNTIME_LIB
ONLY=${ONLY:-deb windows}
out=${DIST_TEST_OUT:-$DIST/test}
rm -rf "$out" && mkdir -p "$out"
T=$(mktemp -d /var/tmp/clasifica-test-dist.XXXXXX)
passed=0 failed=0
t0=$(date +%s)

pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check NAME CMD...: one test, its output in $out/NAME.log.
check() {
  local name=$1
  shift
  if "$@" >"$out/$name.log" 2>&1; then pass "$name"; else fail "$name (see $out/$name.log)"; tail -5 "$out/$name.log" | sed 's/^/    /'; fi
}
elapsed() { echo "$(($(date +%s) - $1)) s"; }

root=$T/root
xpid=""
cleanup() {
  [ -n "$xpid" ] && kill "$xpid" 2>/dev/null
  [ -n "${WINEPREFIX:-}" ] && wineserver -k 2>/dev/null
  for m in tmp/.X11-unix dev/pts dev proc; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
  # Never delete through a mount still in place.
  if findmnt -rn -o TARGET | grep -q "^$root"; then echo "run.sh: $root still has mounts; left in place" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

# one PATTERN: the one package of a kind in $DIST (make dist leaves one).
one() {
  local f=("$DIST"/$1)
  [ ${#f[@]} = 1 ] && [ -f "${f[0]}" ] || { echo "run.sh: want one $1 in $DIST, found: ${f[*]}" >&2; exit 1; }
  echo "${f[0]}"
}
deb=$(one 'clasifica_*_amd64.deb') || exit 1
tarball=$(one 'clasifica-*-linux-x64.tar.xz') || exit 1
setup=$(one 'Clasifica-*-windows-x64-setup.exe') || exit 1
version=$(basename "$tarball" | sed 's/^clasifica-\(.*\)-linux-x64\.tar\.xz$/\1/')
wversion=$(basename "$setup" | sed 's/^Clasifica-\(.*\)-windows-x64-setup\.exe$/\1/')

# ---- a virtual display shared by the Linux root and Wine
for n in $(seq 90 120); do [ -e /tmp/.X$n-lock ] || { disp=:$n; break; }; done
Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
xpid=$!
sleep 2

# killtree PID: the process and its descendants (the app runs under chroot
# or wine, below the shell function that started it).
killtree() {
  local c
  for c in $(pgrep -P "$1"); do killtree "$c"; done
  kill "$1" 2>/dev/null
}

# window_test NAME CMD...: starts the app, waits for its "Clasifica" window,
# lets it draw, takes a screenshot ($out/NAME.png), and checks that the app
# is still running and the picture is not blank (many colours).
window_test() {
  local name=$1
  shift
  "$@" >"$out/$name.app.log" 2>&1 &
  local pid=$! up=""
  for _ in $(seq 90); do
    sleep 1
    xwininfo -display "$disp" -root -tree 2>/dev/null | grep -q '"Clasifica"' && { up=1; break; }
    kill -0 $pid 2>/dev/null || break
  done
  sleep 8
  import -display "$disp" -window root "$out/$name.png" 2>/dev/null
  local colours
  colours=$(identify -format %k "$out/$name.png" 2>/dev/null || echo 0)
  echo "window found: ${up:-no}; colours in the screenshot: $colours"
  kill -0 $pid 2>/dev/null || { echo "the app exited:"; tail -20 "$out/$name.app.log"; return 1; }
  killtree $pid
  [ -n "$up" ] && [ "$colours" -gt 100 ]
}

# ---- on the host: a model and the reference labels
host=$T/host
mkdir -p "$host/photos"
for d in "$DIST_PHOTOS"/*/; do
  c=$(basename "$d")
  mkdir -p "$host/photos/$c"
  find "$d" -type f | sort | head -4 | while read -r f; do cp "$f" "$host/photos/$c/"; done
done
hostbin=$DIST/build/linux-amd64/clasifica
hostrt=$DIST_ORT/bin/napi-v6/linux/x64/libonnxruntime.so.1
hc() { CLASIFICA_HOME=$host/home "$hostbin" "$@" --runtime "$hostrt"; }
check host-train hc train --data "$DIST_PHOTOS" --out "$host/flowers.clasifica" --backbone "$BACKBONE" --epochs 10 --seed 1
host_classify() {
  CLASIFICA_HOME=$host/home "$hostbin" backbone import "$BACKBONE" &&
    (cd "$host/photos" && CLASIFICA_HOME=$host/home "$hostbin" classify --runtime "$hostrt" --model "$host/flowers.clasifica" --format json .) >"$host/labels.json" &&
    # The Windows build decodes JPEGs with Go's decoder (Linux links
    # libjpeg-turbo): its reference is the host's classification with it.
    (cd "$host/photos" && CLASIFICA_HOME=$host/home "$hostbin" classify --runtime "$hostrt" --model "$host/flowers.clasifica" --jpeg-decoder go --format json .) >"$host/labels-go.json"
}
check host-classify host_classify
cp "$host/labels.json" "$out/labels-host.json" 2>/dev/null

# ---- the .deb and the tarball on a clean Debian 12
if [[ " $ONLY " == *" deb "* ]]; then
  # The mirror this host's apt uses: no mirror is written into the project.
  mirror=$(apt-cache policy | awk '$2 ~ /^https?:/ && $3 ~ /^bookworm\/main/ {print $2; exit}')
  start=$(date +%s)
  check deb-debootstrap debootstrap --variant=minbase bookworm "$root" "$mirror"
  echo "   clean root in $(elapsed "$start")"
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
  mkdir -p "$root/tmp/.X11-unix" && mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
  in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DISPLAY="$disp" DEBIAN_FRONTEND=noninteractive "$@"; }
  cp "$deb" "$root/tmp/"
  cp -r "$host/photos" "$BACKBONE" "$host/flowers.clasifica" "$root/tmp/"
  check deb-install in_root sh -c "apt-get update -qq && apt-get install -y -q /tmp/$(basename "$deb")"
  check deb-lintian lintian --fail-on error --display-info "$deb"
  deb_version() { in_root clasifica --version | tee /dev/stderr | grep -qx "clasifica $version"; }
  check deb-version deb_version
  check deb-runtime-found in_root test -f /usr/lib/clasifica/libonnxruntime.so.1
  bb=/tmp/$(basename "$BACKBONE")
  deb_classify() {
    in_root clasifica backbone import "$bb" &&
      in_root sh -c 'cd /tmp/photos && clasifica classify --model /tmp/flowers.clasifica --format json .' >"$T/deb.json" &&
      packaging/test/compare.py "$host/labels.json" "$T/deb.json"
  }
  check deb-classify deb_classify
  echo "   clean root to the first labels: $(elapsed "$start")"
  # The menu entry, the icon, and the MIME type in the database that
  # shared-mime-info (a Recommends, on every desktop) rebuilt.
  check deb-desktop-files in_root sh -c 'test -f /usr/share/applications/io.github.clasifica.desktop && test -f /usr/share/icons/hicolor/256x256/apps/io.github.clasifica.png && grep -q "application/x-clasifica:\*\.clasifica" /usr/share/mime/globs2'
  check deb-window window_test deb-window in_root clasifica
  deb_purge() {
    local files left=""
    files=$(in_root dpkg-query -L clasifica) || return 1
    in_root apt-get purge -y -q clasifica || return 1
    while read -r f; do
      [ -f "$root$f" ] || [ -L "$root$f" ] && left="$left $f"
    done <<<"$files"
    for d in /usr/lib/clasifica /usr/share/doc/clasifica; do [ -e "$root$d" ] && left="$left $d"; done
    [ -z "$left" ] || { echo "left behind:$left"; return 1; }
  }
  check deb-purge deb_purge
  # The portable tarball, once the package is gone, as a user without root.
  tar_classify() {
    local dir=clasifica-$version-linux-x64
    in_root useradd -m user 2>/dev/null
    # The minimal root has no xz; every desktop has.
    in_root apt-get install -y -q xz-utils >/dev/null || return 1
    cp "$tarball" "$root/home/user/" &&
      in_root su user -c "cd && tar -xJf $(basename "$tarball") && $dir/clasifica --version && $dir/clasifica backbone import $bb" &&
      in_root su user -c "cd /tmp/photos && ~/$dir/clasifica classify --model /tmp/flowers.clasifica --format json ." >"$T/tar.json" &&
      packaging/test/compare.py "$host/labels.json" "$T/tar.json"
  }
  check tar-classify tar_classify
  for m in tmp/.X11-unix dev/pts dev proc; do umount -l "$root/$m"; done
fi

# ---- the Windows setup under Wine
if [[ " $ONLY " == *" windows "* ]]; then
  export WINEPREFIX=$T/wine WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d" DISPLAY=$disp
  start=$(date +%s)
  check wine-prefix sh -c 'wineboot --init && wineserver -w'
  # Test fixture: Wine 8.0 lacks bcryptprimitives.dll (see bcryptprimitives.c).
  x86_64-w64-mingw32-gcc -O2 -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" packaging/test/bcryptprimitives.c -ladvapi32
  check wine-install sh -c "wine '$setup' /S && wineserver -w"
  instdir=$(wine reg query 'HKCU\Software\Clasifica' /v InstallDir 2>/dev/null | tr -d '\r' | sed -n 's/.*REG_SZ *//p')
  unixdir=$(winepath -u "$instdir" 2>/dev/null | tr -d '\r')
  echo "   installed into $instdir in $(elapsed "$start")"
  startmenu="$WINEPREFIX/drive_c/users/$(id -un)/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Clasifica.lnk"
  check wine-installed-files sh -c "ls -la '$unixdir' && test -f '$unixdir/clasifica.exe' -a -f '$unixdir/onnxruntime.dll' -a -f '$unixdir/DirectML.dll' -a -f '$unixdir/uninstall.exe' -a -f '$unixdir/THIRD_PARTY_NOTICES.txt' && test -f '$startmenu'"
  check wine-registry sh -c "wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Clasifica' && wine reg query 'HKCU\Software\Classes\.clasifica' | grep -q Clasifica.Model && wine reg query 'HKCU\Software\Classes\Clasifica.Model\shell\open\command' | grep -qi 'clasifica.exe'"
  exe="$unixdir/clasifica.exe"
  # The command line runs without a display, as from a terminal: DirectML
  # then fails to create its DXGI factory and the run falls back to the CPU.
  # (With a display, Wine's D3D12 (vkd3d) aborts the whole process on an
  # assertion, so the window test below chooses the CPU in the settings.)
  wine() { DISPLAY= command wine "$@"; }
  wine_version() { wine "$exe" --version | tr -d '\r' | tee /dev/stderr | grep -qx "clasifica $wversion"; }
  check wine-version wine_version
  wine_classify() {
    wine "$exe" backbone import "$(winepath -w "$BACKBONE")" &&
      (cd "$host/photos" && wine "$exe" classify --model "$(winepath -w "$host/flowers.clasifica")" --format json .) >"$T/wine.json" &&
      packaging/test/compare.py "$host/labels-go.json" "$T/wine.json"
  }
  check wine-classify wine_classify
  cp "$T/wine.json" "$out/labels-wine.json" 2>/dev/null
  grep -h -i "accelerator\|directml\|dxgi\|runs on" "$out/wine-classify.log" | sort -u | head -3 | sed 's/^/   device: /'
  unset -f wine
  # A fresh Wine session, so that its desktop is on the display this time.
  wineserver -k 2>/dev/null
  wineserver -w
  prefs="$WINEPREFIX/drive_c/users/$(id -un)/AppData/Roaming/clasifica"
  mkdir -p "$prefs" && echo '{"version":1,"provider":"cpu"}' >"$prefs/settings.json"
  check wine-window window_test wine-window wine "$exe"
  wineserver -k 2>/dev/null; sleep 1
  wine_uninstall() {
    wine "$unixdir/uninstall.exe" /S /CurrentUser
    wineserver -w
    ls -la "$unixdir" 2>/dev/null && { echo "the program folder is still there"; return 1; }
    [ -e "$startmenu" ] && { echo "the Start-menu entry is still there"; return 1; }
    wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Clasifica' && { echo "the uninstall entry is still there"; return 1; }
    wine reg query 'HKCU\Software\Classes\.clasifica' && { echo "the file association is still there"; return 1; }
    return 0
  }
  check wine-uninstall wine_uninstall
fi

echo "dist: $passed passed, $failed failed ($(elapsed "$t0"))"
[ "$failed" = 0 ]
