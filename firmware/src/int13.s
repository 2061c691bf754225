# int 13h: fixed disk services on the ATA drives ata_detect found
# (numbered 0x80, 0x81, ... in detection order; floppies: none).
#
# CHS translation (functions 02h, 03h, 04h, 08h): the drive's default
# geometry from IDENTIFY words 3 and 6 (16 heads, 63 sectors per track on
# the emulated disk), cylinders = sectors / (heads * 63) capped at 1024, so
#     LBA = (cylinder * heads + head) * sectors_per_track + sector - 1
# and CHS reaches the first 1024 * heads * spt sectors (504 MiB); the
# extensions (41h-48h, EDD 1.1 as in Phoenix's "BIOS Enhanced Disk Drive
# Specification" 1.1) address every sector below 2^32.
#
# Results follow the IBM AT BIOS / Ralf Brown's list: CF clear and AH = 0 on
# success, CF set and AH = error otherwise, the status kept in BDA 0x74:
#   01h  invalid function, bad drive number, bad parameters or packet
#   03h  write to a read-only disk (the drive aborted the write)
#   04h  sector not found: an address past the end of the disk
#   20h  controller failure (any other drive error); 80h timeout
# Functions 15h and 41h return their answer in AH with CF clear.
#
# Limits: CHS calls move 1-128 sectors (AL = sectors done, also after an
# error), packet calls 0-127 (the packet's count is set to the blocks
# done); the 64-bit flat buffer address of EDD 3.0 is not supported (count
# FFh is refused as above 127). Transfers go one sector per ATA command
# (LBA28, or the EXT commands from LBA 0FFFFFFFh on), the buffer advancing
# by segment so that no 64 KiB boundary matters. 0Ch seek, 0Dh alternate
# reset, 10h test ready and 11h recalibrate succeed at once; 00h reset
# only clears the status (the drives need no recalibration).

.equ I13_GS,        32          # stack frame offsets, see int13_handler
.equ I13_FS,        34
.equ I13_ES,        36
.equ I13_DS,        38
.equ I13_FLAGS,     44
.equ I13_DI,        0
.equ I13_SI,        4
.equ I13_BX,        16
.equ I13_BL,        16
.equ I13_DX,        20
.equ I13_DL,        20
.equ I13_DH,        21
.equ I13_CX,        24
.equ I13_CL,        24
.equ I13_CH,        25
.equ I13_AX,        28
.equ I13_AL,        28
.equ I13_AH,        29

.equ ST_BAD,        0x01
.equ EDD_VERSION,   0x21        # EDD 1.1 (int 13h extensions 2.1)
.equ EDD_SUBSETS,   0x0001      # fixed disk access: 42h-44h, 47h, 48h
.equ MAX_CHS_COUNT, 128
.equ MAX_EXT_COUNT, 127

.section .text, "ax"
.code16

.global int13_handler
int13_handler:
    sti
    cld
    pushw %ds
    pushw %es
    pushw %fs
    pushw %gs
    pushal
    movw %sp, %bp
    movw $EBDA_SEG, %ax
    movw %ax, %ds
    movb I13_AH(%bp), %al
    cmpb $0x01, %al
    je i13_status
    call i13_drive
    jc i13_bad
    cmpb $0x00, %al
    je i13_ok
    cmpb $0x02, %al
    jb i13_bad
    cmpb $0x04, %al
    jbe i13_chs
    cmpb $0x08, %al
    je i13_params
    cmpb $0x0C, %al                 # seek, alternate reset, test ready,
    je i13_ok                       # recalibrate: nothing to do
    cmpb $0x0D, %al
    je i13_ok
    cmpb $0x10, %al
    je i13_ok
    cmpb $0x11, %al
    je i13_ok
    cmpb $0x15, %al
    je i13_type
    cmpb $0x41, %al
    je i13_check_ext
    cmpb $0x42, %al
    jb i13_bad
    cmpb $0x44, %al
    jbe i13_ext
    cmpb $0x47, %al
    je i13_seek_ext
    cmpb $0x48, %al
    je i13_ext_params
i13_bad:
    movb $ST_BAD, %ah
    jmp i13_done
i13_ok:
    movb $ST_OK, %ah
# i13_done: AH = status: into the caller's AH, BDA 0x74 and CF.
i13_done:
    movb %ah, I13_AH(%bp)
i13_done_keep_ah:
    pushw $BDA_SEG
    popw %ds
    movb %ah, BDA_DISK_STATUS
    andw $0xFFFE, I13_FLAGS(%bp)
    testb %ah, %ah
    jz 1f
    orw $1, I13_FLAGS(%bp)
1:  popal
    popw %gs
    popw %fs
    popw %es
    popw %ds
    iret

# i13_drive: BX = the table entry of drive DL (caller's), CF if none.
i13_drive:
    movb I13_DL(%bp), %bl
    subb $0x80, %bl
    jb 1f
    cmpb DRV_COUNT, %bl
    jae 1f
    movzbw %bl, %bx
    shlw $4, %bx
    addw $DRV_TABLE, %bx
    clc
    ret
1:  stc
    ret

# 01h: status of the last operation.
i13_status:
    pushw $BDA_SEG
    popw %ds
    movb BDA_DISK_STATUS, %ah
    jmp i13_done

# 02h read, 03h write, 04h verify: AL sectors at CH/CL/DH, ES:BX buffer.
i13_chs:
    movb I13_AL(%bp), %al
    testb %al, %al
    jz i13_bad
    cmpb $MAX_CHS_COUNT, %al
    ja i13_bad
    movb I13_CL(%bp), %cl
    andb $0x3F, %cl                 # sector (1-based)
    jz i13_bad
    cmpb DRV_SPT(%bx), %cl
    ja i13_bad
    movb I13_DH(%bp), %dl           # head
    cmpb DRV_HEADS(%bx), %dl
    jae i13_bad
    movb I13_CL(%bp), %al           # cylinder: CL bits 7-6, CH
    shrb $6, %al
    movb %al, %ah
    movb I13_CH(%bp), %al
    cmpw DRV_CYLS(%bx), %ax
    jae i13_bad
    movzwl %ax, %eax
    movzbl DRV_HEADS(%bx), %esi
    pushl %edx
    mull %esi                       # cylinder * heads
    popl %edx
    movzbl %dl, %edx
    addl %edx, %eax                 # + head
    movzbl DRV_SPT(%bx), %esi
    mull %esi                       # * spt
    movzbl %cl, %ecx
    decl %ecx
    addl %ecx, %eax                 # + sector - 1
    movb I13_AH(%bp), %cl
    subb $2, %cl                    # 0 read, 1 write, 2 verify
    movzbw I13_AL(%bp), %si
    movw I13_ES(%bp), %es
    movw I13_BX(%bp), %di
    call i13_xfer
    movb %dl, I13_AL(%bp)           # sectors done
    jmp i13_done

# i13_xfer: SI sectors from LBA EAX, op CL (as ata_sector), buffer ES:DI,
# drive DS:BX. Returns AH = status, DX = sectors transferred.
i13_xfer:
    xorw %dx, %dx
    movzwl %si, %esi
    pushl %eax
    addl %esi, %eax                 # end of the range, past the disk?
    jc 9f
    cmpl DRV_SECTORS(%bx), %eax
    ja 9f
    popl %eax
    pushw %ax                       # normalize ES:DI so that DI < 16
    pushw %cx
    movw %di, %ax
    shrw $4, %ax
    movw %es, %cx
    addw %ax, %cx
    movw %cx, %es
    popw %cx
    popw %ax
    andw $0x0F, %di
1:  cmpw %dx, %si
    je 2f
    pushl %eax
    call ata_sector                 # (AH = status)
    jc 4f
    popl %eax
    incl %eax
    incw %dx
    pushw %ax                       # next 512 bytes: ES += 0x20
    movw %es, %ax
    addw $0x20, %ax
    movw %ax, %es
    popw %ax
    jmp 1b
2:  movb $ST_OK, %ah
    ret
4:  addw $4, %sp                    # drop the LBA, keep AH
    ret
9:  popl %eax
    movb $ST_NOT_FOUND, %ah
    ret

# 08h: drive parameters. CH/CL = last cylinder and sectors per track,
# DH = last head, DL = number of drives.
i13_params:
    movw DRV_CYLS(%bx), %ax
    decw %ax
    movb %al, I13_CH(%bp)
    shlb $6, %ah
    orb DRV_SPT(%bx), %ah
    movb %ah, I13_CL(%bp)
    movb DRV_HEADS(%bx), %al
    decb %al
    movb %al, I13_DH(%bp)
    movb DRV_COUNT, %al
    movb %al, I13_DL(%bp)
    movb $0, I13_AL(%bp)
    jmp i13_ok

# 15h: disk type: AH = 3 (fixed disk), CX:DX = sectors.
i13_type:
    movw DRV_SECTORS(%bx), %ax
    movw %ax, I13_DX(%bp)
    movw DRV_SECTORS+2(%bx), %ax
    movw %ax, I13_CX(%bp)
    movb $3, I13_AH(%bp)
    xorb %ah, %ah
    jmp i13_done_keep_ah

# 41h: extensions present? BX = 55AAh in, AA55h out; AH = version,
# CX = supported subsets.
i13_check_ext:
    cmpw $0x55AA, I13_BX(%bp)
    jne i13_bad
    movw $0xAA55, I13_BX(%bp)
    movw $EDD_SUBSETS, I13_CX(%bp)
    movb $EDD_VERSION, I13_AH(%bp)
    xorb %ah, %ah
    jmp i13_done_keep_ah

# i13_packet: GS:SI = the caller's DS:SI packet. CF clear and EAX = the
# LBA; or CF set and DL = 01h (size byte < 16, count above 127) or 04h
# (an LBA that needs more than 32 bits: past the end of any disk here).
i13_packet:
    movw I13_DS(%bp), %gs
    movw I13_SI(%bp), %si
    movb $ST_BAD, %dl
    cmpb $0x10, %gs:(%si)
    jb 1f
    cmpw $MAX_EXT_COUNT, %gs:2(%si)
    ja 1f
    movl %gs:8(%si), %eax
    movb $ST_NOT_FOUND, %dl
    cmpl $0, %gs:12(%si)
    jne 1f
    clc
    ret
1:  stc
    ret

# 42h read, 43h write (AL = 0, 1: no verify, 2: verify), 44h verify.
i13_ext:
    call i13_packet
    jc 8f
    movb $0, %cl
    cmpb $0x43, I13_AH(%bp)
    jb 2f
    movb $2, %cl
    ja 2f
    movb $1, %cl
    cmpb $2, I13_AL(%bp)
    ja i13_bad
2:  movw %gs:6(%si), %es
    movw %gs:4(%si), %di
    pushw %si
    movw %gs:2(%si), %si
    call i13_xfer
    popw %si
    movw %dx, %gs:2(%si)            # blocks transferred
    jmp i13_done
8:  movb %dl, %ah
    cmpb $ST_BAD, %ah
    je i13_done
    movw $0, %gs:2(%si)             # nothing transferred
    jmp i13_done

# 47h: extended seek: only checks the address.
i13_seek_ext:
    call i13_packet
    jnc 1f
    movb %dl, %ah
    jmp i13_done
1:  cmpl DRV_SECTORS(%bx), %eax
    jb i13_ok
    movb $ST_NOT_FOUND, %ah
    jmp i13_done

# 48h: drive parameters into the caller's DS:SI buffer (size word first:
# at least 1Ah; 1Eh and more also get the DPTE pointer, FFFF:FFFF = none).
i13_ext_params:
    movw I13_DS(%bp), %es
    movw I13_SI(%bp), %di
    movw %es:(%di), %ax
    cmpw $0x1A, %ax
    jb i13_bad
    movw $0x1A, %es:(%di)
    cmpw $0x1E, %ax
    jb 1f
    movw $0x1E, %es:(%di)
    movl $0xFFFFFFFF, %es:0x1A(%di)
1:  movzwl DRV_CYLS(%bx), %eax
    movl %eax, %es:4(%di)
    movzbl DRV_HEADS(%bx), %ecx
    movl %ecx, %es:8(%di)
    mull %ecx
    movzbl DRV_SPT(%bx), %ecx
    movl %ecx, %es:12(%di)
    mull %ecx                       # sectors the geometry covers
    movw $0, %es:2(%di)             # flags: bit 1 = geometry valid
    cmpl DRV_SECTORS(%bx), %eax
    jb 2f
    movw $0x0002, %es:2(%di)
2:  movl DRV_SECTORS(%bx), %eax
    movl %eax, %es:16(%di)
    movl $0, %es:20(%di)
    movw $512, %es:24(%di)
    jmp i13_ok
