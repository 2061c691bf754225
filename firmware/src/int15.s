# int 15h: system services (Ralf Brown's Interrupt List, INT 15; ACPI
# "INT 15H, E820H - Query System Address Map"; Phoenix BIOS for E801h).
#
#   E820h  memory map, one entry per call, EBX = continuation (0 = done)
#   E801h  AX/CX = KiB between 1 and 16 MiB, BX/DX = 64 KiB blocks above
#   88h    AX = KiB above 1 MiB (at most 0xFFFF)
#   2400h/2401h  A20 off/on (port 0x92), 2402h AL = A20 state (tested:
#          0000:0500 against FFFF:0510), 2403h BX = 2 (port 0x92 supported)
#   86h    wait CX:DX microseconds (whole timer ticks with HLT, the rest
#          with port 0x61's 15.085 us refresh toggle)
#   C0h    ES:BX = the system configuration table in ROM
# Anything else: CF set, AH = 86h (function not supported).

.section .text, "ax"
.code16

.global int15_handler
int15_handler:
    cmpl $0xE820, %eax
    je int15_e820
    cmpw $0xE801, %ax
    je int15_e801
    cmpb $0x88, %ah
    je int15_88
    cmpb $0x24, %ah
    je int15_a20
    cmpb $0x86, %ah
    je int15_wait
    cmpb $0xC0, %ah
    je int15_config
int15_unsupported:
    movb $0x86, %ah
int15_fail:
    call set_cf
    iret
int15_ok:
    xorb %ah, %ah
int15_ok_keep_ah:
    call clear_cf
    iret

# ---- E820h -----------------------------------------------------------------
# In: EDX = 'SMAP', EBX = continuation, ECX = buffer size (>= 20), ES:DI.
# Out: EAX = 'SMAP', ECX = 20, EBX = next continuation or 0 after the last.
int15_e820:
    cmpl $SMAP, %edx
    jne 1f
    cmpl $E820_ENTRY_SIZE, %ecx
    jb 1f
    pushw %ds
    pushl %esi
    pushl %edi
    movw $EBDA_SEG, %ax
    movw %ax, %ds
    movzwl EBDA_E820_COUNT, %eax
    cmpl %eax, %ebx
    jae 2f
    imulw $E820_ENTRY_SIZE, %bx, %si
    addw $EBDA_E820, %si
    movw $E820_ENTRY_SIZE, %cx
    cld
    rep movsb
    incl %ebx
    cmpl %eax, %ebx
    jb 3f
    xorl %ebx, %ebx                 # that was the last entry
3:  popl %edi
    popl %esi
    popw %ds
    movl $SMAP, %eax
    movl $E820_ENTRY_SIZE, %ecx
    jmp int15_ok_keep_ah
2:  popl %edi
    popl %esi
    popw %ds
1:  movb $0x86, %ah
    jmp int15_fail

# ---- E801h and 88h ---------------------------------------------------------
int15_e801:
    pushw %ds
    movw $EBDA_SEG, %ax
    movw %ax, %ds
    movl EBDA_EXT_KB, %eax
    popw %ds
    xorw %bx, %bx
    cmpl $15 * 1024, %eax
    jbe 1f
    movl %eax, %ebx
    subl $15 * 1024, %ebx
    shrl $6, %ebx                   # 64 KiB blocks above 16 MiB
    movw $15 * 1024, %ax
1:  movw %ax, %cx
    movw %bx, %dx
    call clear_cf
    iret

int15_88:
    pushw %ds
    movw $EBDA_SEG, %ax
    movw %ax, %ds
    movl EBDA_EXT_KB, %eax
    popw %ds
    cmpl $0xFFFF, %eax
    jbe 1f
    movw $0xFFFF, %ax
1:  call clear_cf
    iret

# ---- 24xxh: A20 --------------------------------------------------------------
int15_a20:
    cmpb $0x00, %al
    je 10f
    cmpb $0x01, %al
    je 11f
    cmpb $0x02, %al
    je 12f
    cmpb $0x03, %al
    je 13f
    jmp int15_unsupported
10: inb $SYSCTL_A, %al
    andb $0xFC, %al                 # A20 off, never the reset bit
    outb %al, $SYSCTL_A
    jmp int15_ok
11: inb $SYSCTL_A, %al
    orb $0x02, %al
    andb $0xFE, %al
    outb %al, $SYSCTL_A
    jmp int15_ok
12: call a20_test
    jmp int15_ok
13: movw $0x0002, %bx               # bit 1: port 0x92; bit 0 (8042): no
    jmp int15_ok

# a20_test: AL = 1 if A20 is open, 0 if 1 MiB wraps to 0. Writes
# different bytes to 0000:0500 and FFFF:0510 (physical 0x500 and 0x100500
# when open, the same byte when not) and sees whether they stayed apart.
.global a20_test
a20_test:
    pushw %ds
    pushw %es
    pushw %bx
    pushw %cx
    xorw %ax, %ax
    movw %ax, %ds
    decw %ax
    movw %ax, %es
    movb 0x500, %bl                 # old contents
    movb %es:0x510, %bh
    movb %bl, %cl
    notb %cl
    movb %cl, %es:0x510             # something other than 0000:0500 holds
    xorb %al, %al
    cmpb 0x500, %bl
    jne 1f                          # 0000:0500 changed: they are one byte
    incb %al
1:  movb %bh, %es:0x510             # restore, wrapped copy first
    movb %bl, 0x500
    popw %cx
    popw %bx
    popw %es
    popw %ds
    ret

# ---- 86h: wait -----------------------------------------------------------------
.equ US_PER_TICK,       54925       # 65536 / 1.193182 MHz
.equ NS_PER_REFRESH,    15085       # port 0x61 bit 4 toggles this often
int15_wait:
    pushal
    pushw %ds
    movw %cx, %ax
    shll $16, %eax
    movw %dx, %ax                   # EAX = microseconds
    xorl %edx, %edx
    movl $US_PER_TICK, %ecx
    divl %ecx                       # EAX = whole ticks, EDX = remaining us
    pushl %edx
    movw $BDA_SEG, %bx
    movw %bx, %ds
    movl BDA_TICKS, %ebx
    movl %eax, %ecx
    sti
1:  jecxz 2f
    hlt                             # the timer interrupt wakes us
    movl BDA_TICKS, %eax
    subl %ebx, %eax
    cmpl %ecx, %eax
    jb 1b
2:  popl %eax                       # refresh toggles for the rest
    movl $1000, %ecx
    mull %ecx
    movl $NS_PER_REFRESH, %ecx
    divl %ecx
    movl %eax, %ecx
    inb $PORT_B, %al
    andb $0x10, %al
    movb %al, %ah
3:  jecxz 5f
4:  inb $PORT_B, %al
    andb $0x10, %al
    cmpb %ah, %al
    je 4b
    movb %al, %ah
    decl %ecx
    jmp 3b
5:  popw %ds
    popal
    jmp int15_ok

# ---- C0h: system configuration table -------------------------------------------
int15_config:
    movw $0xF000, %bx
    movw %bx, %es
    movw $system_config_table, %bx
    jmp int15_ok

system_config_table:
    .word 8                         # bytes that follow
    .byte 0xFC                      # model: PC/AT (as at F000:FFFE)
    .byte 0x01                      # submodel
    .byte 0x00                      # BIOS revision
    .byte 0x64                      # feature 1: second 8259 (bit 6), RTC
                                    #   (bit 5), EBDA allocated (bit 2)
    .byte 0x00                      # feature 2
    .byte 0x00, 0x00, 0x00          # features 3-5
