#!/bin/sh
# Prints the version in the form a package format needs.
#   version.sh deb VERSION    Debian: starts with a digit, no hyphen (a native package)
#   version.sh quad VERSION   Windows resources and NSIS: four numbers, a.b.c.d
# VERSION is `git describe` output ("v0.2.0", "v0.2.0-3-gabc1234-dirty", or
# a bare commit "abc1234" before the first tag) or a VERSION file's content.
set -eu
form=$1
v=${2#v}
case $form in
deb)
  # A bare commit (it may start with a digit too) sorts before any release.
  echo "$v" | grep -Eq '^[0-9]+\.[0-9]+' || v="0~git$v"
  echo "$v" | sed 's/-/+/g; s/[^A-Za-z0-9.+~]/./g'
  ;;
quad)
  # Leading "a.b.c", then the commit count since the tag as the fourth number.
  nums=$(echo "$v" | grep -Eo '^[0-9]+\.[0-9]+(\.[0-9]+)?' || true)
  case $nums in *.*.*) ;; ?*) nums="$nums.0" ;; esac
  count=$(echo "$v" | sed -n 's/^[0-9.]*-\([0-9][0-9]*\)-g.*/\1/p')
  echo "${nums:-0.0.0}.${count:-0}"
  ;;
*)
  echo "version.sh: unknown form $form" >&2
  exit 2
  ;;
esac
