#!/bin/sh
# Installs the Debian packages named as arguments that are missing: as root
# with apt-get, otherwise by telling the user the command to run.
missing=""
for p in "$@"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
  echo "Clasifica needs these packages; install them with: sudo apt-get install$missing" >&2
  exit 1
fi
