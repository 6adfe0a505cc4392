#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Adds an 'irot' (rotation) property to the primary image of a HEIF file,
# the way iPhones store photos taken with the phone turned: the pixels stay
# as the sensor saw them and the container says how to turn them.
#
#   add-heif-rotation.py IN.heic OUT.heic ANGLE
#
# ANGLE is in quarter turns anticlockwise (0-3), as the HEIF standard
# counts them; 3 is a quarter turn clockwise, like EXIF orientation 6.

import struct
import sys


def boxes(data, start, end):
    offset = start
    while offset < end:
        size, kind = struct.unpack_from('>I4s', data, offset)
        header = 8
        if size == 1:
            size = struct.unpack_from('>Q', data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        yield kind.decode('latin-1'), offset, header, size
        offset += size


def find(data, start, end, kind):
    for k, offset, header, size in boxes(data, start, end):
        if k == kind:
            return offset, header, size
    raise SystemExit('no %s box' % kind)


def grow(data, offset, delta):
    size = struct.unpack_from('>I', data, offset)[0]
    if size == 1:
        raise SystemExit('64-bit box sizes are not handled')
    struct.pack_into('>I', data, offset, size + delta)


def read_uint(data, offset, n):
    return int.from_bytes(data[offset:offset + n], 'big') if n else 0


def shift_iloc(data, iloc, header, delta):
    pos = iloc + header
    version = data[pos]
    pos += 4
    offset_size, length_size = data[pos] >> 4, data[pos] & 15
    base_offset_size = data[pos + 1] >> 4
    index_size = data[pos + 1] & 15 if version in (1, 2) else 0
    pos += 2
    if version < 2:
        count = read_uint(data, pos, 2)
        pos += 2
    else:
        count = read_uint(data, pos, 4)
        pos += 4
    for _ in range(count):
        pos += 2 if version < 2 else 4
        method = 0
        if version in (1, 2):
            method = read_uint(data, pos, 2) & 15
            pos += 2
        pos += 2
        base = read_uint(data, pos, base_offset_size)
        base_pos = pos
        pos += base_offset_size
        extents = read_uint(data, pos, 2)
        pos += 2
        for _ in range(extents):
            pos += index_size
            if method == 0 and base == 0 and offset_size:
                value = read_uint(data, pos, offset_size) + delta
                data[pos:pos + offset_size] = value.to_bytes(offset_size, 'big')
            pos += offset_size + length_size
        if method == 0 and base != 0:
            data[base_pos:base_pos + base_offset_size] = (base + delta).to_bytes(base_offset_size, 'big')


def main():
    source, target, angle = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = bytearray(open(source, 'rb').read())

    meta, meta_header, meta_size = find(data, 0, len(data), 'meta')
    children = meta + meta_header + 4
    pitm, pitm_header, _ = find(data, children, meta + meta_size, 'pitm')
    primary = read_uint(data, pitm + pitm_header + 4, 2)
    iprp, iprp_header, iprp_size = find(data, children, meta + meta_size, 'iprp')
    ipco, ipco_header, ipco_size = find(data, iprp + iprp_header, iprp + iprp_size, 'ipco')
    ipma, ipma_header, ipma_size = find(data, iprp + iprp_header, iprp + iprp_size, 'ipma')
    n_properties = sum(1 for _ in boxes(data, ipco + ipco_header, ipco + ipco_size))

    # The association: essential, pointing at the new last property.
    version = data[ipma + ipma_header]
    flags = read_uint(data, ipma + ipma_header + 1, 3)
    index = n_properties + 1
    association = struct.pack('>H', 0x8000 | index) if flags & 1 else bytes([0x80 | index])

    pos = ipma + ipma_header + 4
    entries = read_uint(data, pos, 4)
    pos += 4
    insert_at = None
    for _ in range(entries):
        id_size = 2 if version < 1 else 4
        item = read_uint(data, pos, id_size)
        pos += id_size
        count = data[pos]
        if item == primary:
            data[pos] = count + 1
            insert_at = pos + 1 + count * (2 if flags & 1 else 1)
        pos += 1 + count * (2 if flags & 1 else 1)
    if insert_at is None:
        raise SystemExit('the primary item has no properties')

    irot = struct.pack('>I4sB', 9, b'irot', angle & 3)
    delta = len(irot) + len(association)

    # Sizes first, while the offsets still hold, then the insertions from
    # the back so that earlier offsets stay valid.
    iloc, iloc_header, _ = find(data, children, meta + meta_size, 'iloc')
    mdat, _, _ = find(data, 0, len(data), 'mdat')
    if mdat < meta:
        raise SystemExit('files with the image data before the metadata are not handled')
    shift_iloc(data, iloc, iloc_header, delta)
    grow(data, meta, delta)
    grow(data, iprp, delta)
    grow(data, ipco, len(irot))
    grow(data, ipma, len(association))
    data[insert_at:insert_at] = association
    end_of_ipco = ipco + ipco_size
    data[end_of_ipco:end_of_ipco] = irot

    open(target, 'wb').write(data)


if __name__ == '__main__':
    main()
