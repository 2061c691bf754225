#!/usr/bin/env python3
"""Assembles a test disk for the boot loader (testing only; the project's
image builder does this for real).

  mkdisk.py OUT --mbr MBR.bin --stage2 STAGE2.bin --root PART.img
            [--swap-mib N] [--zero-stage2] [--truncate-sectors N]
            [--stage2-sectors N] [--stage2-pad-sectors N]

LBA 0: the MBR code (first 446 bytes), a partition table (1: type 0x83,
active, at LBA 2048 holding PART.img; 2: type 0x82 swap after it) and
0x55AA. LBA 1..: stage 2. LBA 2048: the root partition.
"""
import argparse
import struct
import sys

ROOT_LBA = 2048


def entry(active, kind, lba, sectors):
    # CHS fields set to the "use LBA" values (1023/254/63) as large disks do.
    chs = bytes([0xFE, 0xFF, 0xFF])
    return struct.pack("<B3sB3sII", 0x80 if active else 0, chs, kind, chs, lba, sectors)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--mbr", required=True)
    p.add_argument("--stage2", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--swap-mib", type=int, default=8)
    p.add_argument("--zero-stage2", action="store_true")
    p.add_argument("--truncate-sectors", type=int)
    p.add_argument("--stage2-sectors", type=int, help="overwrite the length in stage 2's header")
    p.add_argument("--stage2-pad-sectors", type=int, default=0,
                   help="grow stage 2 by N zero sectors, moving its end marker (tests chunked loads)")
    a = p.parse_args()

    mbr = open(a.mbr, "rb").read()
    if len(mbr) > 446:
        sys.exit(f"MBR code is {len(mbr)} bytes, more than 446")
    stage2 = open(a.stage2, "rb").read()
    stage2 += bytes(-len(stage2) % 512)
    if 1 + len(stage2) // 512 > ROOT_LBA:
        sys.exit("stage 2 does not fit before LBA 2048")
    if a.stage2_pad_sectors:
        marker = stage2[-8:]
        if marker != b"PCS2END!":
            sys.exit("stage 2 does not end with its end marker")
        stage2 = stage2[:-8] + bytes(a.stage2_pad_sectors * 512) + marker
        stage2 = stage2[:4] + struct.pack("<H", len(stage2) // 512) + stage2[6:]
    if a.stage2_sectors is not None:
        stage2 = stage2[:4] + struct.pack("<H", a.stage2_sectors) + stage2[6:]
    if a.zero_stage2:
        stage2 = bytes(len(stage2))
    root = open(a.root, "rb").read()
    if len(root) % 512:
        sys.exit("root partition image is not a whole number of sectors")
    root_sectors = len(root) // 512
    swap_lba = ROOT_LBA + root_sectors
    swap_sectors = a.swap_mib * 2048

    sector0 = bytearray(512)
    sector0[: len(mbr)] = mbr
    table = entry(True, 0x83, ROOT_LBA, root_sectors) + entry(False, 0x82, swap_lba, swap_sectors)
    sector0[446 : 446 + len(table)] = table
    sector0[510:512] = b"\x55\xaa"

    disk = bytearray((swap_lba + swap_sectors) * 512)
    disk[0:512] = sector0
    disk[512 : 512 + len(stage2)] = stage2
    disk[ROOT_LBA * 512 : ROOT_LBA * 512 + len(root)] = root
    if a.truncate_sectors is not None:
        disk = disk[: a.truncate_sectors * 512]
    open(a.out, "wb").write(disk)


if __name__ == "__main__":
    main()
