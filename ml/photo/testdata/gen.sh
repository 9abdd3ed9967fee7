#!/bin/sh
# Regenerates the fixtures in this directory: the files that Go cannot
# write at test time (CMYK JPEGs, WebP) and Pillow's output for the resize
# comparison. Everything else the tests need is generated in Go at test time.
#
# Needs ImageMagick 6 (convert) with WebP support and Python 3 with Pillow
# (Debian: apt-get install imagemagick python3-pil; set PYTHON=/usr/bin/python3
# if another python3 comes first in PATH). Run from this directory.
set -eu
python=${PYTHON:-python3}
src=../../../testdata/photos/pets/Abyssinian/Abyssinian_128.jpg

# A 64x48 photo to derive the others from.
convert "$src" -resize '64x48!' -strip -quality 85 base.jpg

# A progressive JPEG, which Go decodes through a different path.
convert base.jpg -interlace JPEG -quality 85 progressive.jpg

# ImageMagick writes CMYK JPEGs as YCCK (Adobe APP14 transform 2); Pillow
# writes plain inverted CMYK (Adobe transform 0). Go's decoder returns
# *image.CMYK for both.
convert base.jpg -colorspace CMYK -quality 85 ycck.jpg
"$python" -c '
from PIL import Image
Image.open("base.jpg").convert("CMYK").save("cmyk.jpg", quality=85)
'

# WebP: lossy (VP8), lossless with alpha (VP8L), lossy with alpha
# (VP8X + ALPH + VP8). The top-left 16x16 square is transparent.
convert base.jpg -quality 80 lossy.webp
convert base.jpg \( +clone -alpha extract -fill black -draw 'rectangle 0,0 15,15' \) \
	-alpha off -compose CopyOpacity -composite -define webp:lossless=true lossless-alpha.webp
convert base.jpg \( +clone -alpha extract -fill black -draw 'rectangle 0,0 15,15' \) \
	-alpha off -compose CopyOpacity -composite -quality 80 -define webp:alpha-quality=100 lossy-alpha.webp

# Pillow's BILINEAR resize (antialiased when shrinking) of a lossless
# source, to compare the resizer against.
convert base.jpg -crop 60x45+0+0 +repage -strip pil-src.png
"$python" -c '
from PIL import Image
im = Image.open("pil-src.png").convert("RGB")
im.resize((23, 17), Image.BILINEAR).save("pil-down.png")
im.resize((97, 71), Image.BILINEAR).save("pil-up.png")
im.resize((7, 40), Image.BILINEAR).save("pil-mixed.png")
'

# JPEGs for the eighth-scale decoder (eighth_test.go), from a 450x313
# sample photo, with libjpeg-turbo's tools (Debian: libjpeg-turbo-progs):
# restart markers after every MCU, 4:4:4 with restart markers every two
# MCU rows, optimised Huffman tables at quality 97 with restart markers
# every three MCUs, and 4:2:2 (which the decoder leaves to libjpeg-turbo).
src8=../../../testdata/photos/pets/Abyssinian/Abyssinian_101.jpg
mkdir -p eighth
jpegtran -restart 1 "$src8" >eighth/restart1.jpg
djpeg "$src8" | cjpeg -sample 1x1 -quality 90 -restart 2 >eighth/s444-restart.jpg
djpeg "$src8" | cjpeg -optimize -quality 97 -restart 3B >eighth/optimized.jpg
djpeg "$src8" | cjpeg -sample 2x1 >eighth/s422.jpg
# An RGB JPEG (Adobe transform 0), which the decoder leaves to libjpeg-turbo.
djpeg "$src8" | cjpeg -rgb >eighth/rgb.jpg
