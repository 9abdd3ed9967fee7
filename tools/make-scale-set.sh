#!/bin/sh
# Makes a folder of N distinct photos for scale measurements: the shared
# sample photos in testdata/photos, copied round-robin into their class folders, each copy
# made unique by bytes appended after the image data (decoders ignore
# them; content hashes differ, so no copy is a duplicate or a cache hit).
#
#   sh tools/make-scale-set.sh OUT N [SAMPLES_DIR]
set -eu
out=$1 n=$2 src=${3:-testdata/photos}
mkdir -p "$out"
list=$(mktemp)
find "$src/pets" "$src/flowers" -type f -name '*.jpg' | sort > "$list"
total=$(wc -l < "$list")
i=0
while [ "$i" -lt "$n" ]; do
  f=$(sed -n "$((i % total + 1))p" "$list")
  class=$(basename "$(dirname "$f")")
  mkdir -p "$out/$class"
  dst="$out/$class/$i-$(basename "$f")"
  cp "$f" "$dst"
  printf 'clasifica-scale-%08d' "$i" >> "$dst"
  i=$((i + 1))
done
rm -f "$list"
echo "$n photos in $(ls "$out" | wc -l) classes under $out"
