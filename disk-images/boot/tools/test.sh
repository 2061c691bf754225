#!/usr/bin/env bash
# Builds the MBR, stage 2 and the test kernel, makes test disks and boots
# them on our emulator (and on QEMU with --qemu), checking the serial
# output of each scenario. Testing only: the project's build makes the
# real images.
#
#   tools/test.sh [--qemu] [WORKDIR]     (default WORKDIR /tmp/boot-test)
set -euo pipefail

QEMU=0
if [[ "${1:-}" == "--qemu" ]]; then QEMU=1; shift; fi
HERE="$(cd "$(dirname "$0")/.." && pwd)"
W="${1:-/tmp/boot-test}"
EMU="${EMU:-/work/wt/bin/emu}"
mkdir -p "$W"

(cd "$HERE" && cargo build --release -q)
(cd "$HERE/testkernel" && cargo build --release -q)
(cd "$HERE/testkernel" && cargo build --release -q --features big --target-dir "$W/testkernel-big")
T="$HERE/target/x86_64-unknown-linux-gnu/release"
KERNEL="$HERE/target/testkernel/x86_64-unknown-linux-gnu/release/testkernel"
llvm-objcopy -O binary "$T/mbr" "$W/mbr.bin"
llvm-objcopy -O binary "$T/stage2" "$W/stage2.bin"
echo "mbr: $(stat -c %s "$W/mbr.bin") bytes; stage2: $(stat -c %s "$W/stage2.bin") bytes"

# mkroot NAME KERNEL-FILE|- [CMDLINE|-]: a root partition image.
mkroot() {
    local dir="$W/$1.root"
    rm -rf "$dir" "$W/$1.part"
    mkdir -p "$dir/boot"
    [[ "$2" != "-" ]] && cp "$2" "$dir/boot/kernel"
    [[ "${3:--}" != "-" ]] && printf '%s\n' "$3" > "$dir/boot/cmdline"
    mke2fs -q -t ext2 -r 1 -b 1024 -d "$dir" "$W/$1.part" 56M
}

# mkdisk NAME PART [mkdisk.py options...]
mkdisk() {
    local name=$1 part=$2
    shift 2
    python3 "$HERE/tools/mkdisk.py" "$W/$name.img" --mbr "$W/mbr.bin" \
        --stage2 "$W/stage2.bin" --root "$W/$part.part" "$@"
}

FAILED=0
# expect NAME IMAGE STATUS PATTERN...: boots IMAGE, checks the exit status
# and that each PATTERN (grep -F) is in the serial output.
expect() {
    local name=$1 img=$2 want=$3
    shift 3
    local out="$W/$name.emu.out" status=0
    timeout 120 "$EMU" run --disk "$W/$img.img,snapshot" --no-reboot \
        --max-instructions 2000000000 --serial "file:$out" </dev/null >/dev/null 2>&1 || status=$?
    check "$name (emu)" "$out" "$status" "$want" "$@"
    if (( QEMU )); then
        out="$W/$name.qemu.out"
        status=0
        # A halted guest never exits QEMU: 8 s is plenty to print and halt.
        local limit=20
        [[ "$want" == 10 ]] && limit=8
        timeout $limit qemu-system-x86_64 -M isapc -cpu qemu64 -m 256 -display none \
            -serial "file:$out" -drive "file=$W/$img.img,format=raw,snapshot=on" \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >/dev/null 2>&1 || status=$?
        # timeout's 124 stands for "halted".
        [[ "$want" == 10 ]] && want=124
        check "$name (qemu)" "$out" "$status" "$want" "$@"
    fi
}

check() {
    local label=$1 out=$2 status=$3 want=$4
    shift 4
    local ok=1
    [[ "$status" == "$want" ]] || { echo "  exit status $status, expected $want"; ok=0; }
    for pattern in "$@"; do
        grep -qF -- "$pattern" "$out" || { echo "  missing: $pattern"; ok=0; }
    done
    if (( ok )); then echo "PASS $label"; else echo "FAIL $label (output: $out)"; FAILED=1; fi
}

printf 'not an ELF file\n' > "$W/notelf"
P="$HERE/tools/patchelf.py"
python3 "$P" "$KERNEL" "$W/lowpaddr" 0 paddr 0x80000
python3 "$P" "$KERNEL" "$W/norampaddr" 0 paddr 0x20000000
python3 "$P" "$KERNEL" "$W/lowvaddr" 0 vaddr 0x100000
python3 "$P" "$KERNEL" "$W/pastfile" 0 offset 0x10000000
mkroot good "$KERNEL" "console=ttyS0 root=/dev/hda1"
mkroot nocmdline "$KERNEL" -
mkroot nokernel -
mkroot badelf "$W/notelf"
mkroot big "$W/testkernel-big/x86_64-unknown-linux-gnu/release/testkernel" "big kernel"
# 301 bytes: cut at 256, in the middle of a two-byte character.
mkroot longcmdline "$KERNEL" "x$(printf 'é%.0s' $(seq 150))"
mkroot lowpaddr "$W/lowpaddr"
mkroot norampaddr "$W/norampaddr"
mkroot lowvaddr "$W/lowvaddr"
mkroot pastfile "$W/pastfile"
mkdisk good good
mkdisk big big
mkdisk bigstage2 good --stage2-pad-sectors 700
mkdisk shortstage2 good --stage2-sectors 40
mkdisk longcmdline longcmdline
mkdisk lowpaddr lowpaddr
mkdisk norampaddr norampaddr
mkdisk lowvaddr lowvaddr
mkdisk pastfile pastfile
mkdisk nocmdline nocmdline
mkdisk nokernel nokernel
mkdisk badelf badelf
mkdisk zerostage2 good --zero-stage2
# A disk of 504 sectors (8 CHS cylinders) and a stage 2 claiming 800.
mkdisk truncated good --truncate-sectors 504 --stage2-sectors 800

# emu: 33 = the test kernel's "all passed" (0x10); 10 = halted.
expect good good 33 'stage2: loading /boot/kernel' 'testkernel: cmdline "console=ttyS0 root=/dev/hda1"' \
    'testkernel: boot disk bios 0x80 ata0.0 partition 1 lba 2048 sectors 114688' 'testkernel: all checks passed'
expect big big 33 'testkernel: ok   3 MiB .rodata blob intact' 'testkernel: ok   1 MiB .bss zeroed' \
    'testkernel: all checks passed'
# 758 sectors: the MBR reads them in six int 13h calls of at most 127.
expect bigstage2 bigstage2 33 'testkernel: all checks passed'
expect shortstage2 shortstage2 10 'stage2: image incomplete'
expect lowpaddr lowpaddr 10 'stage2: /boot/kernel: bad ELF program header 0: physical address below 1 MiB'
expect norampaddr norampaddr 10 'stage2: /boot/kernel: bad ELF program header 0: physical address range is not RAM'
expect lowvaddr lowvaddr 10 'stage2: /boot/kernel: bad ELF program header 0: virtual address not canonical in the higher half'
expect pastfile pastfile 10 'stage2: /boot/kernel: bad ELF program header 0: its data lies outside the file'
expect longcmdline longcmdline 33 'stage2: /boot/cmdline: longer than 256 bytes, truncated' \
    "testkernel: cmdline \"x$(printf 'é%.0s' $(seq 127))\"" 'testkernel: all checks passed'
expect nocmdline nocmdline 33 'testkernel: cmdline ""' 'testkernel: all checks passed'
expect nokernel nokernel 10 'stage2: /boot/kernel: not found'
expect badelf badelf 10 'stage2: /boot/kernel: bad ELF header'
# The MBR prints with int 10h: our BIOS sends that to COM1, QEMU's SeaBIOS
# only to the screen, so on QEMU the text screen (0xB8000) is read through
# the monitor.
expect_screen() {
    local name=$1 img=$2 pattern=$3 screen="$W/$1.qemu.screen"
    rm -f "$W/vga.bin"
    (sleep 4; echo "pmemsave 0xb8000 4000 \"$W/vga.bin\""; sleep 1; echo quit) |
        timeout 20 qemu-system-x86_64 -M isapc -cpu qemu64 -m 256 -display none -serial null \
            -monitor stdio -drive "file=$W/$img.img,format=raw,snapshot=on" >/dev/null 2>&1 || true
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d[0::2].decode("latin1"))' \
        "$W/vga.bin" > "$screen" 2>/dev/null || true
    check "$name (qemu screen)" "$screen" 0 0 "$pattern"
}
QEMU_SAVED=$QEMU
QEMU=0
expect zerostage2 zerostage2 10 'Missing stage 2'
# Needs the BIOS of b0f213f or later (a disk under one CHS cylinder gets one
# cylinder); set EMU to such a build if /work/wt/bin/emu is older.
expect truncated truncated 10 'Disk read error'
QEMU=$QEMU_SAVED
if (( QEMU )); then
    expect_screen zerostage2 zerostage2 'Missing stage 2'
    expect_screen truncated truncated 'Disk read error'
fi
exit $FAILED
