# int 19h: the bootstrap loader.
#
# Tries the boot devices in CMOS order (0x3D bits 3:0, 7:4, then 0x38 bits
# 7:4; QEMU/SeaBIOS codes, 2 = hard disk). A hard-disk entry tries every
# hard disk (0x80 .. 0x80 + BDA_NUM_DISKS - 1): LBA 0 is read with int 13h
# AH=02h (CHS 0/0/1) to 0000:7C00; a sector ending in 55h AAh is jumped to
# at 0000:7C00 with DL = the drive. Other device types are not on this
# board and are skipped. When nothing boots, int 18h reports it.

.section .text, "ax"
.code16

.equ BOOT_SIGNATURE,    0xAA55
.equ BOOT_RETRIES,      3

.global int19_handler
int19_handler:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $STACK_TOP, %sp
    sti
    movb $POST_BOOT, %al
    call post_code
    movb $CMOS_BOOT_ORDER, %al
    call cmos_read
    movb %al, %bl
    call boot_device                # first: bits 3:0
    movb %bl, %al
    shrb $4, %al
    call boot_device                # second: bits 7:4
    movb $CMOS_BOOT_3RD, %al
    call cmos_read
    shrb $4, %al
    call boot_device                # third: bits 7:4
    int $0x18                       # does not return

# boot_device: try the boot device whose code is in AL's low nibble;
# returns only if it did not boot. Preserves BX.
boot_device:
    andb $0x0F, %al
    cmpb $BOOT_DEV_HARD_DISK, %al
    jne 2f
    pushw %bx
    movw $BDA_SEG, %ax
    movw %ax, %es
    movb %es:BDA_NUM_DISKS, %bh
    xorw %ax, %ax
    movw %ax, %es
    movb $0x80, %dl
1:  testb %bh, %bh
    jz 3f
    call boot_disk
    incb %dl
    decb %bh
    jmp 1b
3:  popw %bx
2:  ret

# boot_disk: try hard disk DL; returns (with BX and DL kept) if it does
# not boot.
boot_disk:
    pushw %bx
    movw $msg_booting, %si
    call print_str
    movb %dl, %al
    call print_hex8
    movw $msg_dots, %si
    call print_str
    movw $BOOT_RETRIES, %di
1:  movw $0x0201, %ax               # read 1 sector
    movw $0x0001, %cx               # cylinder 0, sector 1
    xorb %dh, %dh                   # head 0
    xorw %bx, %bx
    movw %bx, %es
    movw $BOOT_OFF, %bx
    pushw %dx
    pushw %di
    int $0x13
    popw %di
    popw %dx
    jnc 2f
    decw %di
    jz 3f
    pushw %ax
    xorb %ah, %ah                   # reset the disk system, then retry
    int $0x13
    popw %ax
    jmp 1b
3:  movb %ah, %cl                   # the int 13h status
    movw $msg_disk, %si
    call print_str
    movb %dl, %al
    call print_hex8
    movw $msg_read_error, %si
    call print_str
    movb %cl, %al
    call print_hex8
    movw $msg_close, %si
    call print_str
    popw %bx
    ret
2:  cmpw $BOOT_SIGNATURE, BOOT_OFF + 510
    je 4f
    movw $msg_disk, %si
    call print_str
    movb %dl, %al
    call print_hex8
    movw $msg_no_signature, %si
    call print_str
    popw %bx
    ret
4:  cli                             # CS:IP = 0000:7C00, DL = drive
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $BOOT_OFF, %sp
    xorw %bx, %bx
    xorw %cx, %cx
    xorb %dh, %dh
    xorw %si, %si
    xorw %di, %di
    xorw %bp, %bp
    sti
    ljmp $BOOT_SEG, $BOOT_OFF

msg_booting:        .asciz "Booting from hard disk 0x"
msg_dots:           .asciz "...\n"
msg_disk:           .asciz "Disk 0x"
msg_read_error:     .asciz ": boot sector read failed (int 13h status 0x"
msg_close:          .asciz ")\n"
msg_no_signature:   .asciz ": no boot signature (55AAh) in the boot sector\n"
