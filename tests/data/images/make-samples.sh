#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Makes the sample images that test-image reads. They are committed, so the
# tests need none of these tools; run this only to change a sample.
# Needs ImageMagick 6 built with HEIC and WebP, exiftool and python3.
#
# "quarter" samples are 800 × 600 (48 × 32 for BMP), blue #2060a0 with the
# top-left quarter red #e02020, so a test can tell which way up they are.

set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

blue='#2060a0'
red='#e02020'

convert -size 800x600 "xc:$blue" -fill "$red" -draw 'rectangle 0,0 399,299' "$tmp/quarter.png"
convert -size 48x32 "xc:$blue" -fill "$red" -draw 'rectangle 0,0 23,15' -type TrueColor "BMP3:quarter-small.bmp"

convert "$tmp/quarter.png" quarter.gif
convert "$tmp/quarter.png" -quality 85 quarter.webp
convert "$tmp/quarter.png" -quality 60 quarter.heic
convert "$tmp/quarter.png" -compress zip quarter.tiff
convert "$tmp/quarter.png" -compress RLE "BMP3:quarter-rle.bmp"

# A PNG that claims to be a JPEG.
cp "$tmp/quarter.png" png-named.jpg

# TIFF's own orientation tag: turn a quarter clockwise.
convert "$tmp/quarter.png" -orient RightTop orientation-6.tiff

# HEIF: EXIF orientation alone does not turn a HEIF picture; the 'irot'
# property does. iPhones write both, so a reader that honours both turns
# the photo twice.
exiftool -q -o exif-orientation-6.heic -Orientation=6 -n quarter.heic
python3 add-heif-rotation.py quarter.heic "$tmp/rotated.heic" 3
exiftool -q -o rotated-exif-orientation-6.heic -Orientation=6 -n "$tmp/rotated.heic"

# Animations: the first frame is red, the second green.
convert -size 80x60 "xc:$red" "$tmp/red.png"
convert -size 80x60 'xc:#20c020' "$tmp/green.png"
convert -delay 20 -loop 0 "$tmp/red.png" "$tmp/green.png" animated.gif
convert -delay 20 -loop 0 "$tmp/red.png" "$tmp/green.png" animated.webp

# Transparency: the left half clear, the top right green, the bottom
# right half-transparent red (GIF has no half transparency: opaque there).
convert -size 64x64 xc:none -fill '#00c000' -draw 'rectangle 32,0 63,31' \
        -fill '#ff000080' -draw 'rectangle 32,32 63,63' -define webp:lossless=true transparent.webp
convert -size 64x64 xc:none -fill '#00c000' -draw 'rectangle 32,0 63,63' transparent.gif

# A photo with a location in EXIF GPS, XMP and IPTC, and a comment.
convert -size 320x240 'gradient:#e0a060-#2060a0' -quality 90 "$tmp/gps.jpg"
exiftool -q -o gps.jpg -Make=Gaze -Model='Test Camera' -DateTimeOriginal='2024:06:01 12:00:00' \
         -GPSLatitude=51.500729 -GPSLatitudeRef=N -GPSLongitude=0.124625 -GPSLongitudeRef=W \
         -GPSAltitude=21 -GPSAltitudeRef=0 -GPSAreaInformation='GAZE-GPS-AREA Westminster' \
         -XMP:GPSLatitude='51.500729 N' -XMP:GPSLongitude='0.124625 W' \
         -IPTC:City='GAZE-IPTC-CITY London' -Comment='GAZE-COMMENT taken at home' "$tmp/gps.jpg"
