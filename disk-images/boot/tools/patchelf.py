#!/usr/bin/env python3
"""Rewrites one field of an ELF64 program header (testing stage 2's checks).

  patchelf.py IN OUT INDEX FIELD VALUE     FIELD: vaddr, paddr, filesz, memsz, offset
"""
import struct
import sys

FIELDS = {"offset": 8, "vaddr": 16, "paddr": 24, "filesz": 32, "memsz": 40}

src, dst, index, field, value = sys.argv[1:6]
elf = bytearray(open(src, "rb").read())
phoff = struct.unpack_from("<Q", elf, 32)[0]
at = phoff + int(index) * 56 + FIELDS[field]
struct.pack_into("<Q", elf, at, int(value, 0))
open(dst, "wb").write(elf)
