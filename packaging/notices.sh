#!/usr/bin/env bash
# Writes THIRD_PARTY_NOTICES: the hand-written header, then the licence of
# Go and of every Go module compiled into the program on Linux, Windows
# and macOS, taken from the module cache. `make notices` runs it; commit
# the result when go.mod changes.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# --debian: for a .deb's copyright file, which refers to the Apache 2.0
# text Debian ships instead of repeating it.
debian=""
[ "${1:-}" = --debian ] && { debian=1; shift; }
out=${1:-THIRD_PARTY_NOTICES}
{
  cat packaging/notices-header.txt
  printf '\n\n==== The Go programming language %s\n\n' "$($GO env GOVERSION)"
  cat "$($GO env GOROOT)/LICENSE"
  # The JPEG decoder that Linux builds link statically (ml/photo/turbo.go).
  printf '\n\n==== libjpeg-turbo (C library linked into the Linux builds)\n\n'
  cat packaging/libjpeg-turbo-notice.txt
  for target in linux/amd64 windows/amd64 darwin/arm64; do
    CGO_ENABLED=1 GOOS=${target%/*} GOARCH=${target#*/} $GO list -deps \
      -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' .
  done | sort -u | while read -r path ver dir; do
    lic=$(find "$dir" -maxdepth 1 -type f | grep -iE '/(licen[cs]e|copying)(\.[a-z]+)?$' | sort | head -1)
    [ -n "$lic" ] || { echo "notices: no licence file in $path $ver" >&2; exit 1; }
    printf '\n\n==== %s %s\n\n' "$path" "$ver"
    if [ -n "$debian" ] && grep -q 'Version 2.0, January 2004' "$lic"; then
      grep -E '^ *Copyright (\([cC]\) |© )?[0-9]{4}' "$lic" || true
      echo "Licensed under the Apache License, Version 2.0. On Debian systems its"
      echo "full text is in /usr/share/common-licenses/Apache-2.0."
    else
      cat "$lic"
    fi
    # The C library a binding compiles in has its own licence.
    if [ -f "$dir/glfw/LICENSE.md" ]; then
      printf '\n\n==== GLFW (C library compiled in by %s)\n\n' "$path"
      cat "$dir/glfw/LICENSE.md"
    fi
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
