# System services: the default handler of every vector, the timer
# interrupt (08h), equipment (11h), memory size (12h), system services
# (15h), no boot device (18h), time of day (1Ah); CMOS access helpers.
#
# References: IBM PC/AT Technical Reference (BIOS listing), Ralf Brown's
# Interrupt List (INT 11, 12, 15, 18, 1A), ACPI 6.x "INT 15H, E820H".
#
# Handlers that return CF do so in the FLAGS image the INT pushed
# (set_cf / clear_cf below), so the caller's IF is kept by IRET.

.section .text, "ax"
.code16

# ---- CMOS ------------------------------------------------------------------
# cmos_read: AL = CMOS byte at index AL (NMIs stay enabled).
.global cmos_read
cmos_read:
    outb %al, $CMOS_INDEX
    inb $CMOS_DATA, %al
    ret

# cmos_write: CMOS byte at index AL = AH.
.global cmos_write
cmos_write:
    outb %al, $CMOS_INDEX
    xchgb %al, %ah
    outb %al, $CMOS_DATA
    xchgb %al, %ah
    ret

# rtc_wait_update: wait (boundedly) until no update cycle is in progress, so
# that the time bytes read next are consistent. CF set if UIP never cleared.
.global rtc_wait_update
rtc_wait_update:
    pushw %ax
    pushw %cx
    movw $0xFFFF, %cx
1:  movb $CMOS_REG_A, %al
    call cmos_read
    testb $CMOS_A_UIP, %al
    jz 2f
    loop 1b
    stc
    jmp 3f
2:  clc
3:  popw %cx
    popw %ax
    ret

# ---- default handlers --------------------------------------------------------
# 256 stubs of UNEXPECTED_STUB_SIZE bytes: "push vector; jmp common", so
# the IVT entry of vector n is unexpected_stubs + n * 5.
.global unexpected_stubs
unexpected_stubs:
    .set vec, 0
    .rept 256
    .byte 0x6A, vec                 # push imm8 (sign-extended; low byte used)
    .byte 0xE9                      # jmp rel16
    .word unexpected_common - (. + 2)
    .set vec, vec + 1
    .endr

# Prints "Unexpected interrupt 0xNN at SSSS:OOOO" (the return address).
# Then:
# - 08h-0Fh: if the master PIC has the IRQ in service, it is masked (a
#   device whose request persists would otherwise interrupt forever, as
#   SeaBIOS also does), acknowledged, and the handler returns; otherwise this is a CPU exception (in real
#   mode #DF, #SS, #GP ... share these vectors) and the machine stops,
#   since returning would repeat the fault.
# - 70h-77h: an IRQ in service at the slave is masked there and
#   acknowledged at both PICs.
# - 00h, 05h, 06h, 07h (#DE, #BR, #UD, #NM) are faults: the machine stops.
# - everything else (traps 01h-04h, software interrupts) returns.
.equ OCW3_READ_ISR, 0x0B
.equ PIC_EOI,       0x20
unexpected_common:
    pushw %bp
    movw %sp, %bp                   # 2: vector, 4: IP, 6: CS, 8: FLAGS
    pushw %ax
    pushw %cx
    pushw %si
    movw $msg_unexpected, %si
    call print_str
    movb 2(%bp), %al
    call print_hex8
    movw $msg_at, %si
    call print_str
    movw 6(%bp), %ax
    call print_hex16
    movb $':', %al
    call putc
    movw 4(%bp), %ax
    call print_hex16
    movb $'\n', %al
    call putc
    movb 2(%bp), %cl
    cmpb $0x08, %cl
    jb 5f
    cmpb $0x0F, %cl
    jbe 2f
    cmpb $0x70, %cl
    jb 4f
    cmpb $0x77, %cl
    ja 4f
    movb $OCW3_READ_ISR, %al        # slave IRQ in service?
    outb %al, $PIC2_CMD
    inb $PIC2_CMD, %al
    andb $0x07, %cl
    shrb %cl, %al
    testb $1, %al
    jz 4f
    movb $1, %ah
    shlb %cl, %ah
    inb $PIC2_DATA, %al
    orb %ah, %al
    outb %al, $PIC2_DATA
    movb $PIC_EOI, %al
    outb %al, $PIC2_CMD
    outb %al, $PIC1_CMD
    jmp 4f
2:  movb $OCW3_READ_ISR, %al        # master IRQ in service?
    outb %al, $PIC1_CMD
    inb $PIC1_CMD, %al
    andb $0x07, %cl
    shrb %cl, %al
    testb $1, %al
    jz 3f
    movb $1, %ah
    shlb %cl, %ah
    inb $PIC1_DATA, %al
    orb %ah, %al
    outb %al, $PIC1_DATA
    movb $PIC_EOI, %al
    outb %al, $PIC1_CMD
4:  popw %si
    popw %cx
    popw %ax
    popw %bp
    addw $2, %sp
    iret
5:  cmpb $0x00, %cl                 # faults among 00h-07h stop
    je 3f
    cmpb $0x05, %cl
    jb 4b
3:  movw $msg_exception_halt, %si
    call print_str
    jmp halt_forever

.global iret_handler
iret_handler:
    iret

# set_cf / clear_cf: change CF in the FLAGS image of the INT that called
# the handler which called these (stack: our return, the handler's IP, CS,
# FLAGS). Preserve every register and the flags.
set_cf:
    pushw %bp
    movw %sp, %bp
    orw $1, 8(%bp)
    popw %bp
    ret
clear_cf:
    pushw %bp
    movw %sp, %bp
    andw $0xFFFE, 8(%bp)
    popw %bp
    ret

# ---- int 08h: IRQ 0, the 18.2 Hz timer -------------------------------------
.global int08_handler
int08_handler:
    pushw %ds
    pushw %ax
    movw $BDA_SEG, %ax
    movw %ax, %ds
    incl BDA_TICKS
    cmpl $TICKS_PER_DAY, BDA_TICKS
    jb 1f
    movl $0, BDA_TICKS              # midnight
    movb $1, BDA_MIDNIGHT
1:  int $0x1C                       # the user hook
    cli
    movb $0x20, %al                 # EOI
    outb %al, $PIC1_CMD
    popw %ax
    popw %ds
    iret

# ---- int 11h: equipment list, int 12h: conventional memory -----------------
.global int11_handler
int11_handler:
    pushw %ds
    movw $BDA_SEG, %ax
    movw %ax, %ds
    movw BDA_EQUIPMENT, %ax
    popw %ds
    iret

.global int12_handler
int12_handler:
    pushw %ds
    movw $BDA_SEG, %ax
    movw %ax, %ds
    movw BDA_MEM_KB, %ax
    popw %ds
    iret

# ---- int 18h: no bootable device -------------------------------------------
.global int18_handler
int18_handler:
    movw $msg_no_boot, %si
    call print_str
    jmp halt_forever

# ---- int 1Ah: time of day ----------------------------------------------------
# 00h: CX:DX = ticks since midnight, AL = midnight flag (then cleared)
# 01h: set the tick count from CX:DX
# 02h: CH:CL:DH = hours, minutes, seconds (BCD), DL = DST flag
# 03h: set the RTC time from CH, CL, DH, DL
# 04h: CH:CL = century, year, DH = month, DL = day (BCD)
# 05h: set the RTC date from CH, CL, DH, DL
# 02h-05h return CF set if the clock stays in its update cycle; other
# functions return CF set, AH unchanged.
.global int1a_handler
int1a_handler:
    sti
    cmpb $0x00, %ah
    je 10f
    cmpb $0x01, %ah
    je 11f
    cmpb $0x02, %ah
    je 12f
    cmpb $0x03, %ah
    je 13f
    cmpb $0x04, %ah
    je 14f
    cmpb $0x05, %ah
    je 15f
    call set_cf
    iret
10: pushw %ds
    movw $BDA_SEG, %ax
    movw %ax, %ds
    cli
    movw BDA_TICKS, %dx
    movw BDA_TICKS + 2, %cx
    movb BDA_MIDNIGHT, %al
    movb $0, BDA_MIDNIGHT
    popw %ds
    jmp 90f
11: pushw %ds
    pushw %ax
    movw $BDA_SEG, %ax
    movw %ax, %ds
    cli
    movw %dx, BDA_TICKS
    movw %cx, BDA_TICKS + 2
    movb $0, BDA_MIDNIGHT
    popw %ax
    popw %ds
    jmp 90f
12: call rtc_wait_update
    jc 91f
    movb $CMOS_HOURS, %al
    call cmos_read
    movb %al, %ch
    movb $CMOS_MINUTES, %al
    call cmos_read
    movb %al, %cl
    movb $CMOS_SECONDS, %al
    call cmos_read
    movb %al, %dh
    movb $CMOS_REG_B, %al
    call cmos_read
    andb $0x01, %al                 # DSE
    movb %al, %dl
    jmp 90f
13: call rtc_set_begin
    movb $CMOS_HOURS, %al
    movb %ch, %ah
    call cmos_write
    movb $CMOS_MINUTES, %al
    movb %cl, %ah
    call cmos_write
    movb $CMOS_SECONDS, %al
    movb %dh, %ah
    call cmos_write
    movb $CMOS_REG_B, %al           # DSE from DL bit 0, SET cleared
    call cmos_read
    andb $0x7E, %al                 # not SET, not DSE
    movb %dl, %ah
    andb $0x01, %ah
    orb %al, %ah
    movb $CMOS_REG_B, %al
    call cmos_write
    jmp 90f
14: call rtc_wait_update
    jc 91f
    movb $CMOS_CENTURY, %al
    call cmos_read
    movb %al, %ch
    movb $CMOS_YEAR, %al
    call cmos_read
    movb %al, %cl
    movb $CMOS_MONTH, %al
    call cmos_read
    movb %al, %dh
    movb $CMOS_DAY, %al
    call cmos_read
    movb %al, %dl
    jmp 90f
15: call rtc_set_begin
    movb $CMOS_CENTURY, %al
    movb %ch, %ah
    call cmos_write
    movb $CMOS_YEAR, %al
    movb %cl, %ah
    call cmos_write
    movb $CMOS_MONTH, %al
    movb %dh, %ah
    call cmos_write
    movb $CMOS_DAY, %al
    movb %dl, %ah
    call cmos_write
    call rtc_set_end
    jmp 90f
90: xorb %ah, %ah
    call clear_cf
    iret
91: call set_cf
    iret

# rtc_set_begin: set register B's SET bit (the clock stops updating).
rtc_set_begin:
    movb $CMOS_REG_B, %al
    call cmos_read
    orb $CMOS_B_SET, %al
    movb %al, %ah
    movb $CMOS_REG_B, %al
    jmp cmos_write

# rtc_set_end: clear SET (the clock runs from the written time).
rtc_set_end:
    movb $CMOS_REG_B, %al
    call cmos_read
    andb $0x7F, %al                 # not SET
    movb %al, %ah
    movb $CMOS_REG_B, %al
    jmp cmos_write

msg_unexpected:     .asciz "Unexpected interrupt 0x"
msg_at:             .asciz " at "
msg_exception_halt: .asciz "CPU exception in real mode: halted\n"
msg_no_boot:        .asciz "No bootable device\n"
