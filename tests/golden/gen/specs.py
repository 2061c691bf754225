# Builds generator input lines: mode | bytes | inputs | extra
import itertools
MODES = ["real", "prot32", "long64"]
def sizes(mode):
    return {"real": [1, 2, 4], "prot32": [1, 2, 4], "long64": [1, 2, 4, 8]}[mode]
def prefix(mode, n, opc8, opc):
    """Bytes for an instruction of size n: opc8 for bytes, opc otherwise."""
    if n == 1: return opc8
    p = []
    if mode == "real": p = [] if n == 2 else [0x66]
    else: p = [0x66] if n == 2 else []
    if n == 8: p = [0x48]
    return p + opc
def hx(b): return " ".join("%02x" % x for x in b)
def vals(n):
    m = (1 << 8*n) - 1; s = 1 << (8*n - 1)
    return [0, 1, s, m, s - 1, 0x5a5a5a5a5a5a5a5a & m, 0x8000000000000001 & m | 1, 0x3c & m]
def regval(mode, n, v, fill):
    # upper junk in the register to show which bits are kept (not for 32/64 in non-long)
    if mode == "long64": return (fill & ~((1 << 8*n) - 1)) | v
    if n <= 2: return (fill & 0xffff0000 & ~((1 << 8*n) - 1)) | v | (fill & 0xffff0000)
    return v
FILL = 0x1122334455667788

def shift_lines():
    ops = [("rol", 0), ("ror", 1), ("rcl", 2), ("rcr", 3), ("shl", 4), ("shr", 5), ("sar", 7)]
    for mode in MODES:
        for name, r in ops:
            for n in sizes(mode):
                counts = [0, 1, 3, n*8 - 1, n*8, n*8 + 1, 63 if n == 8 else 17] + ([] if n > 2 else [9, 31])
                for v in [vals(n)[1], vals(n)[2], vals(n)[5]]:
                    for c in counts:
                        for cf in ["", "C"]:
                            if cf == "C" and r not in (2, 3) and c % 2: continue
                            b = prefix(mode, n, [0xd2, 0xc0 | r << 3], [0xd3, 0xc0 | r << 3])
                            masked = c & (0x3f if n == 8 else 0x1f)
                            undef = ""
                            if masked and r >= 4: undef += "A"
                            if masked > 1 or (r in (2, 3) and masked and (masked % (n*8+1) == 0 if n < 4 else False)): undef += "O"
                            if r in (4, 5) and masked > n * 8: undef += "C"  # SDM: CF undefined beyond width
                            # flags input: make a few nonzero so count 0 keeps them
                            fl = "f=" + cf + ("ZP" if c == 0 else "")
                            yield mode, hx(b), "rax=%#x rcx=%#x %s" % (regval(mode, n, v, FILL), c, fl), "undef=" + undef
            # shift by 1 and by imm8 forms, 32-bit only
            n = 4
            yield mode, hx(prefix(mode, n, [], [0xd1, 0xc0 | r << 3])), "rax=0x80000001 f=C", "undef=" + ("A" if r >= 4 else "")
            yield mode, hx(prefix(mode, n, [], [0xc1, 0xc0 | r << 3, 0x24])), "rax=0x80000001 f=C", "undef=O" + ("A" if r >= 4 else "")
        # memory form
        if mode != "real":
            yield mode, "d3 23", "rbx=0x200000 rcx=4 m32[0x200000]=0x87654321", "undef=AO m32[0x200000]"
    # double shifts
    for mode in MODES:
        for left, opc in [(1, 0xa5), (0, 0xad)]:
            for n in [n for n in sizes(mode) if n > 1]:
                for c in [0, 1, 4, n*8 - 1] + ([16] if n == 2 else [31]):
                    for v, s in [(0x12345678, 0x9abcdef0), (0x80000001, 0x7fffffff), (0, 0xffffffff)]:
                        m = (1 << 8*n) - 1
                        b = prefix(mode, n, [], [0x0f, opc, 0xd8])
                        masked = c & (0x3f if n == 8 else 0x1f)
                        undef = ("A" if masked else "") + ("O" if masked > 1 else "")
                        v64 = (v * 0x100000001) & m; s64 = (s * 0x100000001) & m
                        yield mode, hx(b), "rax=%#x rbx=%#x rcx=%#x f=%s" % (v64, s64, c, "ZP" if c == 0 else "C"), "undef=" + undef
            n = 4
            yield mode, hx(prefix(mode, n, [], [0x0f, opc - 1, 0xd8, 5])), "rax=0x12345678 rbx=0x9abcdef0", "undef=AO"

def bits_lines():
    for mode in MODES:
        for r, name in [(4, "bt"), (5, "bts"), (6, "btr"), (7, "btc")]:
            regop = {4: 0xa3, 5: 0xab, 6: 0xb3, 7: 0xbb}[r]
            for n in [n for n in sizes(mode) if n > 1]:
                for off in [0, 5, n*8 - 1, n*8, n*8 + 3, 200]:
                    for fl in ["", "ZO"]:
                        b = prefix(mode, n, [], [0x0f, regop, 0xd8])  # bt eax, ebx
                        yield mode, hx(b), "rax=0x5a5a5a5a rbx=%#x f=%s" % (off, fl), "undef=OSAP"
                        b = prefix(mode, n, [], [0x0f, 0xba, 0xc0 | r << 3, off & 0xff])
                        yield mode, hx(b), "rax=0xa5a5a5a5 f=%s" % fl, "undef=OSAP"
            if mode != "real":
                # memory with register offset, beyond the operand both ways
                for off in [3, 37, -1, -33, 100]:
                    yield mode, hx([0x0f, regop, 0x03]), "rbx=0x200100 rax=%#x m32[0x200100]=0x0f0f0f0f m32[0x2000fc]=0xf0f0f0f0 m32[0x200104]=0x12345678" % (off & 0xffffffff if mode != "long64" else off & 0xffffffffffffffff), "undef=OSAP m32[0x200100] m32[0x2000fc] m32[0x200104] m32[0x2000f8]"
                # memory with immediate offset: modulo the width
                yield mode, hx([0x0f, 0xba, 0x03 | r << 3, 37]), "rbx=0x200100 m32[0x200100]=0x0f0f0f0f", "undef=OSAP m32[0x200100] m32[0x200104]"
        for opc in [0xbc, 0xbd]:
            for n in [n for n in sizes(mode) if n > 1]:
                for v in [0, 1, 0x80, 0x8000, 0x00f0_0f00, 0x8000_0000, 0x8000_0000_0000_0000, 0x0000_0100_0000_0000]:
                    m = (1 << 8*n) - 1
                    b = prefix(mode, n, [], [0x0f, opc, 0xc3])
                    yield mode, hx(b), "rax=%#x rbx=%#x f=C" % (regval(mode, 4, 0x7777, FILL) if mode=="long64" else 0x77777777, v & m), "undef=COSAP"

def muldiv_lines():
    for mode in MODES:
        for r, name in [(4, "mul"), (5, "imul"), (6, "div"), (7, "idiv")]:
            for n in sizes(mode):
                m = (1 << 8*n) - 1; s = 1 << (8*n - 1)
                cases = [(0, 0, 0), (3, 0, 5), (m, 0, m), (s, m, m), (s, 0, 2), (12345 & m, 0, 7 & m), (s, m if r==7 else 0, 1), (0x5a5a5a5a5a5a5a5a & m, 0x11, 0x100 & m or 3), (m, m, m - 1), (7, m, 2), (m - 9, m, 3)]
                for a, d, src in cases:
                    b = prefix(mode, n, [0xf6, 0xc3 | r << 3], [0xf7, 0xc3 | r << 3])
                    undef = "SZAP" if r < 6 else "CPAZSO"
                    ax = a if n > 1 else (d << 8 | a) & 0xffff
                    dx = d if n > 1 else 0
                    yield mode, hx(b), "rax=%#x rdx=%#x rbx=%#x" % (ax, dx, src), "undef=" + undef
        # two and three operand imul
        for n in [n for n in sizes(mode) if n > 1]:
            m = (1 << 8*n) - 1; s = 1 << (8*n - 1)
            for a, src in [(3, 5), (s, m), (s - 1, 2), (m, m), (0x1234 & m, 0x5678 & m), (s, 1)]:
                yield mode, hx(prefix(mode, n, [], [0x0f, 0xaf, 0xc3])), "rax=%#x rbx=%#x" % (a, src), "undef=SZAP"
                yield mode, hx(prefix(mode, n, [], [0x6b, 0xc3, 0x80])), "rax=0 rbx=%#x" % src, "undef=SZAP"
                yield mode, hx(prefix(mode, n, [], [0x69, 0xc3] + ([0x00, 0x40] if n == 2 else [0x00, 0x00, 0x00, 0x40]))), "rax=0 rbx=%#x" % src, "undef=SZAP"

def data_lines():
    for mode in MODES:
        # CMOVcc (all 16) and SETcc with two flag settings
        for cc in range(16):
            for fl in ["ZC", "SO", "P", ""]:
                yield mode, hx(prefix(mode, 4, [], [0x0f, 0x40 | cc, 0xc3])), "rax=0x11111111 rbx=0x22222222 f=%s" % fl, "undef="
                yield mode, hx([0x0f, 0x90 | cc, 0xc0]), "rax=0x1234 f=%s" % fl, "undef="
        if mode == "long64":
            # 32-bit CMOV zero-extends even when false
            yield mode, "0f 44 c3", "rax=0xffffffff11111111 rbx=0x22222222 f=", "undef="
            yield mode, "48 0f 44 c3", "rax=0xffffffff11111111 rbx=0x22222222 f=", "undef="
        # MOVZX / MOVSX / MOVSXD
        for b in ["0f b6 c3", "0f b7 c3", "0f be c3", "0f bf c3", "66 0f b6 c3", "66 0f be c3"] + (["48 0f b6 c3", "48 0f bf c3", "48 63 c3", "63 c3"] if mode == "long64" else []):
            for v in [0x7f, 0x80, 0x8000, 0xfedcba98, 0x12345678]:
                yield mode, b, "rax=0x%x rbx=%#x" % (0x5555555555555555 if mode == "long64" else 0x55555555, v), "undef="
        # XCHG, XADD, CMPXCHG (register forms)
        n_list = sizes(mode)
        for n in n_list:
            m = (1 << 8*n) - 1
            yield mode, hx(prefix(mode, n, [0x86, 0xd8], [0x87, 0xd8])), "rax=0x11223344 rbx=0x55667788", "undef="
            for a, b2 in [(1, 2), (m, 1), ((m >> 1), 1)]:
                yield mode, hx(prefix(mode, n, [0x0f, 0xc0, 0xd8], [0x0f, 0xc1, 0xd8])), "rax=%#x rbx=%#x" % (a, b2), "undef="
            for acc, d in [(5, 5), (5, 6), (m, 0)]:
                yield mode, hx(prefix(mode, n, [0x0f, 0xb0, 0xcb], [0x0f, 0xb1, 0xcb])), "rax=%#x rbx=%#x rcx=0x77" % (acc, d), "undef="
        # xadd eax, eax leaves the sum
        yield mode, hx(prefix(mode, 4, [], [0x0f, 0xc1, 0xc0])), "rax=0x40000001", "undef="
        # BSWAP
        yield mode, hx(prefix(mode, 4, [], [0x0f, 0xc8])), "rax=0x12345678", "undef="
        if mode == "long64":
            yield mode, "48 0f c8", "rax=0x0102030405060708", "undef="
            yield mode, "0f c8", "rax=0xffffffff12345678", "undef="
        # CBW/CWDE/CDQE, CWD/CDQ/CQO
        for v in [0x7f, 0x80, 0x8000, 0x80000000, 0x7fffffff]:
            for b in [[0x98], [0x99]]:
                for n in [n for n in sizes(mode) if n > 1]:
                    yield mode, hx(prefix(mode, n, [], b)), "rax=%#x rdx=0x1234" % v, "undef="
        # LAHF / SAHF
        for fl in ["", "CPAZSO", "CZ"]:
            yield mode, "9f", "rax=0 f=%s" % fl, "undef="
        for ah in [0x00, 0xff, 0xd5, 0x41]:
            yield mode, "9e", "rax=%#x f=O" % (ah << 8), "undef="
        # CLC STC CMC CLD STD
        for b in ["f8", "f9", "f5", "fc", "fd"]:
            for fl in ["", "C"]:
                yield mode, b, "f=%s df=1" % fl, "undef="
        if mode != "real":
            # memory forms
            yield mode, "87 03", "rax=0x11111111 rbx=0x200000 m32[0x200000]=0x22222222", "undef= m32[0x200000]"
            yield mode, "0f c1 03", "rax=0x11111111 rbx=0x200000 m32[0x200000]=0xf0000000", "undef= m32[0x200000]"
            yield mode, "0f b1 0b", "rax=0x5 rcx=0x9 rbx=0x200000 m32[0x200000]=0x5", "undef= m32[0x200000]"
            yield mode, "0f b1 0b", "rax=0x5 rcx=0x9 rbx=0x200000 m32[0x200000]=0x6", "undef= m32[0x200000]"
            yield mode, "f0 0f b1 0b", "rax=0x6 rcx=0x9 rbx=0x200000 m32[0x200000]=0x6", "undef= m32[0x200000]"
            yield mode, "0f c7 0e", "rax=0x1 rdx=0x2 rbx=0x3 rcx=0x4 rsi=0x200000 m64[0x200000]=0x0000000200000001", "undef= m64[0x200000]"
            yield mode, "0f c7 0e", "rax=0x1 rdx=0x2 rbx=0x3 rcx=0x4 rsi=0x200000 m64[0x200000]=0x0000000900000008", "undef= m64[0x200000]"
            yield mode, "f0 0f c7 0e", "rax=0x1 rdx=0x2 rbx=0x3 rcx=0x4 rsi=0x200000 m64[0x200000]=0x0000000200000001", "undef= m64[0x200000]"
            yield mode, "d7", "rax=0xffffff05 rbx=0x200000 m64[0x200000]=0x0706050403020100", "undef="
            yield mode, "0f af 03", "rax=0x10 rbx=0x200000 m32[0x200000]=0x10", "undef=SZAP"
            yield mode, "f0 0f ab 03", "rax=0x21 rbx=0x200000 m32[0x200004]=0x0", "undef=OSAP m32[0x200004]"
            yield mode, "f0 01 03", "rax=0x21 rbx=0x200000 m32[0x200000]=0xffffffff", "undef=A m32[0x200000]"
        if mode == "long64":
            yield mode, "48 0f c7 0e", "rax=0x1 rdx=0x2 rbx=0x3 rcx=0x4 rsi=0x200000 m64[0x200000]=0x1 m64[0x200008]=0x2", "undef= m64[0x200000] m64[0x200008]"
            yield mode, "48 0f c7 0e", "rax=0x1 rdx=0x2 rbx=0x3 rcx=0x4 rsi=0x200000 m64[0x200000]=0x1 m64[0x200008]=0x7", "undef= m64[0x200000] m64[0x200008]"
            yield mode, "48 0f c7 0e", "rax=0x1 rdx=0x2 rbx=0x3 rcx=0x4 rsi=0x200008", "undef="

def alu_lines():
    ops = [(0, "add"), (1, "or"), (2, "adc"), (3, "sbb"), (4, "and"), (5, "sub"), (6, "xor"), (7, "cmp")]
    for mode in MODES:
        for r, name in ops:
            for n in sizes(mode):
                m = (1 << 8*n) - 1; s = 1 << (8*n - 1)
                for a, b2 in [(0, 0), (1, m), (s - 1, 1), (s, 1), (s, s), (m, m), (0x0f & m, 1), (0x5a5a5a5a5a5a5a5a & m, 0x3c3c3c3c3c3c3c3c & m)]:
                    for cf in ["", "C"]:
                        if cf and r not in (2, 3): continue
                        bb = prefix(mode, n, [r << 3, 0xd8], [(r << 3) | 1, 0xd8])
                        yield mode, hx(bb), "rax=%#x rbx=%#x f=%s" % (a, b2, cf), "undef=" + ("A" if r in (1, 4, 6) else "")
        for n in sizes(mode):
            m = (1 << 8*n) - 1; s = 1 << (8*n - 1)
            for v in [0, 1, s, m, s - 1, 0x10 & m]:
                for r in [0, 1]:  # inc, dec via FE/FF
                    yield mode, hx(prefix(mode, n, [0xfe, 0xc0 | r << 3], [0xff, 0xc0 | r << 3])), "rax=%#x f=C" % v, "undef="
                for r in [2, 3]:  # not, neg
                    yield mode, hx(prefix(mode, n, [0xf6, 0xc0 | r << 3], [0xf7, 0xc0 | r << 3])), "rax=%#x f=CO" % v, "undef="
                yield mode, hx(prefix(mode, n, [0x84, 0xd8], [0x85, 0xd8])), "rax=%#x rbx=%#x f=CO" % (v, m), "undef=A"

import sys
fam = sys.argv[1]
for line in globals()[fam + "_lines"]():
    print(" | ".join(line))
