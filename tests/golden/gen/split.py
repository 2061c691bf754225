import os, sys, collections
HEAD = {
 "shift": "SHL/SHR/SAR/ROL/ROR/RCL/RCR (CL, 1 and imm8 forms, register and memory) and SHLD/SHRD",
 "bits": "BT/BTS/BTR/BTC (register, immediate, memory with signed register offsets) and BSF/BSR",
 "muldiv": "MUL/IMUL/DIV/IDIV (one-operand forms), two- and three-operand IMUL",
 "data": "CMOVcc, SETcc, MOVZX/MOVSX/MOVSXD, XCHG, XADD, CMPXCHG(8B/16B), BSWAP, CBW..CQO, LAHF/SAHF, CLC..STD, XLAT, LOCK",
 "alu": "ADD/OR/ADC/SBB/AND/SUB/XOR/CMP, INC/DEC/NOT/NEG, TEST",
}
for fam in sys.argv[1:]:
    by = collections.defaultdict(list)
    for l in open(fam + ".out"):
        l = l.rstrip("\n")
        if not l or l.startswith("#"): continue
        by[l.split("|")[0].strip()].append(l)
    for mode, lines in by.items():
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integer_%s_%s.txt") % (fam, mode), "w") as f:
            f.write("# %s, %s mode.\n" % (HEAD[fam], mode))
            f.write("# Format: tests/src/golden.rs. Expected values were recorded by running\n")
            f.write("# each instruction natively on an x86-64 host (64-bit code; 16-bit-mode\n")
            f.write("# rows with the 0x66 prefix toggled), so they are what silicon does.\n")
            f.write("# Flags the SDM leaves undefined are listed in undef= and not compared.\n")
            f.write("\n".join(lines) + "\n")
