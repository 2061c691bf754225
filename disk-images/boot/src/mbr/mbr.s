# The master boot record's code (at most 446 bytes; the image builder adds
# the partition table and the 0x55AA signature).
#
# Loaded by the BIOS at 0000:7C00 with DL = boot drive. It
#  1. checks for the int 13h extensions (int 13h AH=41h, BX=55AAh: CF clear,
#     BX=AA55h, CX bit 0 = the packet calls 42h-44h/47h/48h);
#  2. reads LBA 1 (stage 2's header sector) to 0000:8000 with int 13h
#     AH=42h and checks the magic "PCS2" ("Missing stage 2" if absent);
#  3. reads the rest of stage 2 (header word +4 = its length in sectors,
#     header included) in chunks of at most 127 sectors, the limit some
#     BIOSes put on one AH=42h call;
#  4. jumps to the 16-bit entry named by header word +6, with DL = drive.
# Failures print a message with int 10h teletype and halt.

.equ STAGE2_SEG,     0x0800        # 0800:0000 = 0x8000
.equ STAGE2_HDR,     0x8000
.equ STAGE2_MAGIC,   0x32534350    # "PCS2"
.equ STAGE2_MAX,     832           # sectors: 0x8000 + 832 * 512 = 0x70000
.equ CHUNK,          127

.section .text.mbr, "ax"
.code16
.global mbr_start
mbr_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7C00, %sp
    ljmp $0, $1f                    # some BIOSes jump to 07C0:0000
1:  sti
    cld
    movb %dl, boot_drive

    movb $0x41, %ah                 # int 13h extensions installed?
    movw $0x55AA, %bx
    int $0x13
    jc no_ext
    cmpw $0xAA55, %bx
    jne no_ext
    testb $1, %cl
    jz no_ext

    call read_chunk                 # the header sector (dap: 1 sector, LBA 1)
    cmpl $STAGE2_MAGIC, STAGE2_HDR
    jne missing
    movw STAGE2_HDR + 4, %di        # total sectors, header included
    decw %di
    cmpw $STAGE2_MAX - 1, %di
    jae missing                     # 0 or absurd: not a stage 2 we know

    movw $1, %bp                    # BP = sectors the last call read
2:  testw %di, %di                  # DI = sectors still to read
    jz 4f
    movzwl %bp, %eax                # step past what was read
    addl %eax, dap_lba
    shlw $5, %ax                    # sectors * 512 / 16 = paragraphs
    addw %ax, dap_seg
    movw %di, %bp
    cmpw $CHUNK, %bp
    jbe 3f
    movw $CHUNK, %bp
3:  movw %bp, dap_count
    subw %bp, %di
    call read_chunk
    jmp 2b

4:  movb boot_drive, %dl
    jmpw *STAGE2_HDR + 6

# Reads dap_count sectors at dap_lba to dap_seg:0000; halts on failure.
read_chunk:
    movw $dap, %si
    movb boot_drive, %dl
    movb $0x42, %ah
    int $0x13
    jc disk_error
    ret

no_ext:
    movw $msg_no_ext, %si
    jmp fail
missing:
    movw $msg_missing, %si
    jmp fail
disk_error:
    movw $msg_disk, %si
fail:
    lodsb
    testb %al, %al
    jz halt
    movb $0x0E, %ah                 # int 10h teletype
    movw $0x0007, %bx
    int $0x10
    jmp fail
halt:
    cli
    hlt
    jmp halt

msg_no_ext:  .asciz "No int 13h extensions\r\n"
msg_missing: .asciz "Missing stage 2\r\n"
msg_disk:    .asciz "Disk read error\r\n"

boot_drive: .byte 0
            .balign 4
dap:        .byte 0x10, 0           # int 13h AH=42h disk address packet
dap_count:  .word 1
dap_off:    .word 0
dap_seg:    .word STAGE2_SEG
dap_lba:    .quad 1
