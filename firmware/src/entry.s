# The reset vector and the start of POST.
#
# After reset the CPU runs F000:FFF0 in real mode (CS base FFFF0000, so
# this is the copy of the ROM at the top of 4 GiB); the far jump below
# reloads CS with F000 and continues at the bottom of the 1 MiB ROM copy.

.section .text.start, "ax"
.code16
.global bios_entry
bios_entry:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ss
    movw $STACK_TOP, %sp
    movw %ax, %ds
    movw %ax, %es
    call post               # post.s: the power-on self test
    int $0x19               # bootstrap loader: does not return

# The last 16 bytes of the ROM (SECTIONS in bios.ld place this at FFF0).
.section .reset, "ax"
.code16
reset_vector:
    ljmp $0xF000, $bios_entry
    .ascii "11/21/26"       # ROM date, FFF5
    .byte 0
    .byte 0xFC              # model byte FFFE: PC/AT
    .byte 0                 # checksum FFFF (set by the image build)
