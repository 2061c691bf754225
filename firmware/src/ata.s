# ATA PIO driver (ATA/ATAPI-6, T13 1410D) and drive detection.
#
# ata_detect probes the four positions (ATA0 0x1F0/0x3F6, ATA1 0x170/0x376,
# master then slave) with a software reset of each channel, device select
# and IDENTIFY DEVICE. Each drive found gets the next int 13h number
# (0x80, 0x81, ... in that order), one console line
#     "ATA0 master: EMU HARDDISK 64 MiB, LBA48"
# and an entry in the drive table in the EBDA (offsets 0x100-0x1FF belong
# to the disk services):
#
#   EBDA:0x100   byte   number of drives
#   EBDA:0x110   16-byte entries, one per drive, in int 13h order:
#     +0  word   command block base port
#     +2  word   control block port (Device Control / Alternate Status)
#     +4  byte   Device register value: 0xE0 master, 0xF0 slave (LBA bit set)
#     +5  byte   flags: bit 0 = the 48-bit feature set (IDENTIFY word 83 bit 10)
#     +6  byte   translated heads        (IDENTIFY word 3, the default CHS
#     +7  byte   translated sectors/track  geometry; 16 and 63 if absent)
#     +8  word   translated cylinders: sectors / (heads * spt), at most 1024
#     +12 dword  total sectors (words 100-103 with LBA48, else 60-61;
#                capped at 2^32 - 1: int 13h here addresses 32-bit LBAs)
#
# The driver polls; nIEN is set in every Device Control write so the
# drives never raise IRQ 14/15.

.equ DRV_COUNT,     0x100
.equ DRV_TABLE,     0x110
.equ DRV_SIZE,      16
.equ DRV_MAX,       4
.equ DRV_BASE,      0
.equ DRV_CTRL,      2
.equ DRV_DEV,       4
.equ DRV_FLAGS,     5
.equ DRV_HEADS,     6
.equ DRV_SPT,       7
.equ DRV_CYLS,      8
.equ DRV_SECTORS,   12
.equ DRV_F_LBA48,   0x01

# ATA registers (offsets from the command block base) and bits.
.equ ATA_DATA,      0
.equ ATA_ERROR,     1
.equ ATA_COUNT,     2
.equ ATA_LBA0,      3
.equ ATA_LBA1,      4
.equ ATA_LBA2,      5
.equ ATA_DEVICE,    6
.equ ATA_STATUS,    7
.equ ATA_CMD,       7
.equ ATA_ST_BSY,    0x80
.equ ATA_ST_DRQ,    0x08
.equ ATA_ST_ERR,    0x01
.equ ATA_ER_IDNF,   0x10
.equ ATA_ER_ABRT,   0x04
.equ ATA_CTL_NIEN,  0x02
.equ ATA_CTL_SRST,  0x04
.equ ATA_IDENTIFY,  0xEC
.equ ATA_READ,      0x20
.equ ATA_READ_EXT,  0x24
.equ ATA_WRITE,     0x30
.equ ATA_WRITE_EXT, 0x34
.equ ATA_VERIFY,    0x40
.equ ATA_VERIFY_EXT, 0x42
.equ ATA_POLLS,     0x100000    # status polls before giving up

# int 13h status codes the driver returns.
.equ ST_OK,         0x00
.equ ST_WPROT,      0x03
.equ ST_NOT_FOUND,  0x04
.equ ST_CTRL_FAIL,  0x20
.equ ST_TIMEOUT,    0x80

.section .text, "ax"
.code16

# ata_wait: poll the Status register at DX (base+7) until BSY clears.
# Returns AL = status, CF set on timeout or a floating bus (FFh: nothing
# on the channel). Clobbers ECX.
ata_wait:
    movl $ATA_POLLS, %ecx
1:  inb %dx, %al
    cmpb $0xFF, %al
    je 3f
    testb $ATA_ST_BSY, %al
    jz 2f
    decl %ecx
    jnz 1b
3:  stc
    ret
2:  clc
    ret

# ata_detect_far: ata_detect for callers in another segment (tests).
.global ata_detect_far
ata_detect_far:
    call ata_detect
    lret

# ata_detect: see the top of the file. Clobbers AX, BX, CX, DX, SI, DI.
.global ata_detect
ata_detect:
    pushl %eax
    pushl %ebx
    pushl %ecx
    pushl %edx
    pushw %ds
    pushw %es
    pushw %bp
    subw $512, %sp                  # IDENTIFY buffer on the stack
    movw %sp, %bp
    movw $EBDA_SEG, %ax
    movw %ax, %ds
    movb $0, DRV_COUNT
    xorw %si, %si                   # position 0..3
.Lprobe:
    movw %si, %bx
    shrw $1, %bx
    movw $ATA0_BASE, %dx
    movw $ATA0_CTRL, %di
    testw %bx, %bx
    jz 1f
    movw $ATA1_BASE, %dx
    movw $ATA1_CTRL, %di
1:  testw $1, %si
    jnz .Lselect
    # Master position: software reset of the channel first (ATA-6 9.2).
    xchgw %dx, %di
    movb $ATA_CTL_NIEN | ATA_CTL_SRST, %al
    outb %al, %dx
    movb $ATA_CTL_NIEN, %al
    outb %al, %dx
    xchgw %dx, %di
    pushw %dx
    addw $ATA_STATUS, %dx
    call ata_wait
    popw %dx
.Lselect:
    pushw %dx
    addw $ATA_DEVICE, %dx
    movb $0xA0, %al
    testw $1, %si
    jz 1f
    movb $0xB0, %al
1:  outb %al, %dx
    incw %dx                        # Status
    inb %dx, %al                    # 400 ns settle
    inb %dx, %al
    inb %dx, %al
    inb %dx, %al
    cmpb $0xFF, %al                 # floating bus: no device
    je .Lnone
    testb %al, %al                  # absent slave behind a master
    jz .Lnone
    movb $ATA_IDENTIFY, %al
    outb %al, %dx
    call ata_wait
    jc .Lnone
    testb $ATA_ST_ERR, %al
    jnz .Lnone
    testb $ATA_ST_DRQ, %al
    jz .Lnone
    popw %dx
    pushw %dx
    pushw %es
    pushw %ss
    popw %es
    movw %bp, %di
    movw $256, %cx
    rep insw
    popw %es
    popw %dx
    call ata_record
    jmp .Lnext
.Lnone:
    popw %dx
.Lnext:
    incw %si
    cmpw $DRV_MAX, %si
    jb .Lprobe
    movb DRV_COUNT, %al
    pushw %ds
    movw $BDA_SEG, %bx
    movw %bx, %ds
    movb %al, BDA_NUM_DISKS
    movb $0, BDA_DISK_STATUS
    popw %ds
    addw $512, %sp
    popw %bp
    popw %es
    popw %ds
    popl %edx
    popl %ecx
    popl %ebx
    popl %eax
    ret

# ata_record: enter the drive at position SI (base DX) whose IDENTIFY data
# is at SS:BP into the table (DS = EBDA) and print its line.
# Preserves SI, BP, DS.
ata_record:
    movzbw DRV_COUNT, %bx
    cmpw $DRV_MAX, %bx
    jae 9f
    incb DRV_COUNT
    shlw $4, %bx
    addw $DRV_TABLE, %bx
    movw %dx, DRV_BASE(%bx)
    addw $0x206, %dx                # 0x1F0 -> 0x3F6, 0x170 -> 0x376
    movw %dx, DRV_CTRL(%bx)
    movb $0xE0, %al
    testw $1, %si
    jz 1f
    movb $0xF0, %al
1:  movb %al, DRV_DEV(%bx)
    # Size: words 100-103 with the 48-bit feature set, else 60-61.
    movb $0, DRV_FLAGS(%bx)
    movl 2*60(%bp), %eax
    testw $1 << 10, 2*83(%bp)
    jz 2f
    orb $DRV_F_LBA48, DRV_FLAGS(%bx)
    movl 2*100(%bp), %eax
    cmpl $0, 2*102(%bp)
    je 2f
    movl $0xFFFFFFFF, %eax
2:  movl %eax, DRV_SECTORS(%bx)
    # Translation: the drive's default geometry (words 3 and 6).
    movw 2*3(%bp), %cx
    movw 2*6(%bp), %dx
    testb %cl, %cl
    jz 3f
    testb %dl, %dl
    jnz 4f
3:  movw $16, %cx
    movw $63, %dx
4:  movb %cl, DRV_HEADS(%bx)
    movb %dl, DRV_SPT(%bx)
    movb %dl, %al
    mulb %cl                        # AX = heads * spt
    movzwl %ax, %ecx
    movl DRV_SECTORS(%bx), %eax
    xorl %edx, %edx
    divl %ecx
    cmpl $1024, %eax
    jbe 5f
    movl $1024, %eax
5:  testl %eax, %eax                # a disk smaller than one cylinder
    jnz .Lata_cyls_ok               # still has one (partly) to boot from
    incl %eax
.Lata_cyls_ok:
    movw %ax, DRV_CYLS(%bx)
    # "ATA0 master: "
    pushw %si
    movw $ata_msg_ata, %si
    call print_str
    popw %si
    movw %si, %ax
    shrb $1, %al
    addb $'0', %al
    call putc
    pushw %si
    testw $1, %si
    movw $ata_msg_master, %si
    jz 6f
    movw $ata_msg_slave, %si
6:  call print_str
    # Model: words 27-46, each word's high byte first, trailing spaces cut.
    movw $40, %cx
7:  movw %cx, %di
    decw %di
    xorw $1, %di
    cmpb $' ', 2*27(%bp,%di)
    jne 8f
    loop 7b
8:  xorw %si, %si
    jcxz 11f
10: movw %si, %di
    xorw $1, %di
    movb 2*27(%bp,%di), %al
    call putc
    incw %si
    loop 10b
11: movb $' ', %al
    call putc
    movl DRV_SECTORS(%bx), %eax
    shrl $11, %eax
    call print_dec
    movw $ata_msg_mib, %si
    call print_str
    movw $ata_msg_lba28, %si
    testb $DRV_F_LBA48, DRV_FLAGS(%bx)
    jz 12f
    movw $ata_msg_lba48, %si
12: call print_str
    popw %si
9:  ret

ata_msg_ata:    .asciz "ATA"
ata_msg_master: .asciz " master: "
ata_msg_slave:  .asciz " slave: "
ata_msg_mib:    .asciz " MiB, "
ata_msg_lba28:  .asciz "LBA28\n"
ata_msg_lba48:  .asciz "LBA48\n"

# ata_sector: transfer one sector with the drive whose table entry is at
# DS:BX. EAX = LBA, CL = 0 read, 1 write, 2 verify; ES:DI the buffer
# (read/write). Returns AH = int 13h status and CF set on error.
# Preserves everything else.
.global ata_sector
ata_sector:
    pushl %eax
    pushl %ecx
    pushl %edx
    pushw %si
    pushw %di
    pushw %bp
    pushl %eax                      # the LBA, for the register writes
    movw %sp, %bp
    movw DRV_CTRL(%bx), %dx
    movb $ATA_CTL_NIEN, %al
    outb %al, %dx
    movb %cl, %ch                   # CH = operation
    # LBA48 commands for addresses LBA28 cannot reach.
    movb $0, %cl
    cmpl $0x0FFFFFFF, (%bp)
    jb 1f
    testb $DRV_F_LBA48, DRV_FLAGS(%bx)
    jz .Lsec_nf
    movb $1, %cl
1:  movw DRV_BASE(%bx), %dx
    addw $ATA_STATUS, %dx
    pushl %ecx
    call ata_wait
    popl %ecx
    jc .Lsec_timeout
    subw $ATA_STATUS - ATA_DEVICE, %dx
    movb DRV_DEV(%bx), %al
    testb %cl, %cl
    jnz 2f
    orb 3(%bp), %al                # LBA bits 24-27
2:  outb %al, %dx
    movw DRV_BASE(%bx), %dx
    addw $ATA_COUNT, %dx
    testb %cl, %cl
    jz 3f
    # High-order bytes first: count 0, LBA 24-31, 32-39, 40-47 (= 0).
    xorb %al, %al
    outb %al, %dx
    incw %dx
    movb 3(%bp), %al
    outb %al, %dx
    incw %dx
    xorb %al, %al
    outb %al, %dx
    incw %dx
    outb %al, %dx
    subw $3, %dx
3:  movb $1, %al
    outb %al, %dx
    incw %dx
    movb (%bp), %al
    outb %al, %dx
    incw %dx
    movb 1(%bp), %al
    outb %al, %dx
    incw %dx
    movb 2(%bp), %al
    outb %al, %dx
    addw $ATA_CMD - ATA_LBA2, %dx
    # Command: READ/WRITE/VERIFY, +4/+2 for the EXT forms.
    movb $ATA_READ, %al
    cmpb $1, %ch
    jne 4f
    movb $ATA_WRITE, %al
4:  cmpb $2, %ch
    jne 5f
    movb $ATA_VERIFY, %al
5:  testb %cl, %cl
    jz 6f
    addb $ATA_READ_EXT - ATA_READ, %al
    cmpb $2, %ch
    jne 6f
    movb $ATA_VERIFY_EXT, %al
6:  outb %al, %dx
    pushl %ecx
    call ata_wait
    popl %ecx
    jc .Lsec_timeout
    testb $ATA_ST_ERR, %al
    jnz .Lsec_error
    cmpb $2, %ch
    je .Lsec_ok
    testb $ATA_ST_DRQ, %al
    jz .Lsec_ctrl
    movw DRV_BASE(%bx), %dx
    cmpb $1, %ch
    je 7f
    pushw %cx
    movw $256, %cx
    rep insw
    popw %cx
    jmp 8f
7:  pushw %cx
    pushw %ds
    pushw %es
    popw %ds
    movw %di, %si
    movw $256, %cx
    rep outsw
    popw %ds
    popw %cx
8:  addw $ATA_STATUS, %dx
    pushl %ecx
    call ata_wait
    popl %ecx
    jc .Lsec_timeout
    testb $ATA_ST_ERR, %al
    jnz .Lsec_error
.Lsec_ok:
    movb $ST_OK, %ah
    clc
    jmp .Lsec_out
.Lsec_error:
    movw DRV_BASE(%bx), %dx
    incw %dx                        # Error register
    inb %dx, %al
    movb $ST_NOT_FOUND, %ah
    testb $ATA_ER_IDNF, %al
    jnz .Lsec_fail
    movb $ST_WPROT, %ah
    cmpb $1, %ch
    jne .Lsec_ctrl
    testb $ATA_ER_ABRT, %al
    jnz .Lsec_fail
.Lsec_ctrl:
    movb $ST_CTRL_FAIL, %ah
    jmp .Lsec_fail
.Lsec_nf:
    movb $ST_NOT_FOUND, %ah
    jmp .Lsec_fail
.Lsec_timeout:
    movb $ST_TIMEOUT, %ah
.Lsec_fail:
    stc
.Lsec_out:
    popl %edx                       # drop the LBA copy (flags unchanged)
    popw %bp
    popw %di
    popw %si
    popl %edx
    popl %ecx
    pushw %bp                       # keep AH, restore the rest of EAX
    movw %sp, %bp
    movb %ah, 3(%bp)
    popw %bp
    popl %eax
    ret
