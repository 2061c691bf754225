# Power-on self test, called from bios_entry (entry.s) with interrupts off,
# DS = ES = SS = 0, SP = STACK_TOP. Steps, in order, each writing its POST
# code (defs.s) to port 0x80 when it starts:
#
#   02 serial   COM1/COM2 at 115200 8N1 (the console is needed first)
#   03 CPU      register and flag test
#   04 ROM      all 65536 bytes of the ROM sum to zero
#   05 PIC      8259A pair initialised to vectors 08h and 70h
#   06 PIT      channel 0, mode 3, divisor 65536: 18.2 Hz on IRQ 0
#   07 memory   sizes from CMOS, confirmed by a memory test (memtest.s)
#   08 IVT      a reporting default handler for all 256 vectors, then ours
#   09 BDA      BIOS data area, EBDA pointer, RTC, tick count from the RTC
#   0A ATA      ata_detect (int13.s side), with interrupts on
#   0B E820     the memory map int 15h E820 hands out
#
# The report on the serial console (BIOS.md):
#   POST 1.0: CPU ok, ROM checksum ok
#   Memory: 262144 KiB ok
# A failing step prints "POST error XX: what failed" and halts (fatal).

.section .text, "ax"
.code16

.global post
post:
    movb $POST_START, %al
    call post_code
    call post_serial
    movw $msg_banner, %si
    call print_str
    call post_cpu
    movw $msg_cpu_ok, %si
    call print_str
    call post_rom
    movw $msg_rom_ok, %si
    call print_str
    call post_pic
    call post_pit
    call post_memory
    call post_ivt
    call post_bda
    movb $POST_ATA, %al
    call post_code
    sti
    call ata_detect
    cli
    call post_e820
    ret

# fatal: report that the step whose code is in AL failed, with the message
# at CS:SI, and stop. The POST code stays on port 0x80.
.global fatal
fatal:
    call post_code
    pushw %si
    movw $msg_error, %si
    call print_str
    call print_hex8
    movw $msg_colon, %si
    call print_str
    popw %si
    call print_str
    movb $'\n', %al
    call putc
    jmp halt_forever

# halt_forever: stop the CPU for good (interrupts off).
.global halt_forever
halt_forever:
    cli
1:  hlt
    jmp 1b

# ---- 02: serial ports ----------------------------------------------------
# uart_init: DX = base port: 115200 baud (divisor 1), 8N1, FIFOs on,
# interrupts off, DTR/RTS/OUT2 set.
uart_init:
    pushw %bx
    movw %dx, %bx
    leaw UART_LCR(%bx), %dx
    movb $0x80, %al                 # DLAB
    outb %al, %dx
    leaw UART_DLL(%bx), %dx
    movb $1, %al
    outb %al, %dx
    leaw UART_DLM(%bx), %dx
    xorb %al, %al
    outb %al, %dx
    leaw UART_LCR(%bx), %dx
    movb $0x03, %al                 # 8N1, DLAB off
    outb %al, %dx
    leaw UART_IER(%bx), %dx
    xorb %al, %al
    outb %al, %dx
    leaw UART_FCR(%bx), %dx
    movb $0x07, %al                 # enable and clear both FIFOs
    outb %al, %dx
    leaw UART_MCR(%bx), %dx
    movb $0x0B, %al                 # DTR, RTS, OUT2
    outb %al, %dx
    movw %bx, %dx
    popw %bx
    ret

post_serial:
    movb $POST_SERIAL, %al
    call post_code
    movw $COM1, %dx
    call uart_init
    movw $COM2, %dx
    call uart_init
    ret

# uart_present: CF clear if a UART answers at base DX (its scratch
# register keeps what is written).
.global uart_present
uart_present:
    pushw %ax
    pushw %dx
    addw $UART_SCR, %dx
    movb $0x5A, %al
    outb %al, %dx
    inb %dx, %al
    cmpb $0x5A, %al
    jne 1f
    movb $0xA5, %al
    outb %al, %dx
    inb %dx, %al
    cmpb $0xA5, %al
    jne 1f
    clc
    jmp 2f
1:  stc
2:  popw %dx
    popw %ax
    ret

# ---- 03: CPU -------------------------------------------------------------
# Walks two patterns through every general register and checks that the
# arithmetic flags are set and cleared as the instructions define.
post_cpu:
    movb $POST_CPU, %al
    call post_code
    movl $0xAA55AA55, %eax
1:  movl %eax, %ebx
    movl %ebx, %ecx
    movl %ecx, %edx
    movl %edx, %esi
    movl %esi, %edi
    movl %edi, %ebp
    cmpl %ebp, %eax
    jne cpu_bad
    notl %eax
    cmpl $0x55AA55AA, %eax
    jne 1b
    # Flags: zero, carry, sign, overflow, each both ways.
    xorw %ax, %ax
    jnz cpu_bad
    jc cpu_bad
    movw $0xFFFF, %ax
    addw $1, %ax
    jnc cpu_bad
    jnz cpu_bad
    js cpu_bad
    movw $0x7FFF, %ax
    addw $1, %ax
    jno cpu_bad
    jns cpu_bad
    jc cpu_bad
    jz cpu_bad
    subw $1, %ax
    jno cpu_bad
    js cpu_bad
    ret
cpu_bad:
    movb $POST_CPU, %al
    movw $msg_cpu_bad, %si
    jmp fatal

# ---- 04: ROM checksum ----------------------------------------------------
post_rom:
    movb $POST_ROM, %al
    call post_code
    xorw %si, %si
    xorb %bl, %bl
1:  addb %cs:(%si), %bl
    incw %si
    jnz 1b
    testb %bl, %bl
    jnz 2f
    ret
2:  movb $POST_ROM, %al
    movw $msg_rom_bad, %si
    jmp fatal

# ---- 05: interrupt controllers --------------------------------------------
.equ PIC_MASTER_MASK, 0xFA      # IRQ 0 (timer) and 2 (cascade) enabled
.equ PIC_SLAVE_MASK,  0xFF
post_pic:
    movb $POST_PIC, %al
    call post_code
    movb $0x11, %al                 # ICW1: edge, cascade, ICW4 needed
    outb %al, $PIC1_CMD
    outb %al, $PIC2_CMD
    movb $0x08, %al                 # ICW2: IRQ 0-7 at vectors 08h-0Fh
    outb %al, $PIC1_DATA
    movb $0x70, %al                 # IRQ 8-15 at 70h-77h
    outb %al, $PIC2_DATA
    movb $0x04, %al                 # ICW3: slave on IRQ 2
    outb %al, $PIC1_DATA
    movb $0x02, %al                 # slave identity 2
    outb %al, $PIC2_DATA
    movb $0x01, %al                 # ICW4: 8086 mode, normal EOI
    outb %al, $PIC1_DATA
    outb %al, $PIC2_DATA
    movb $PIC_MASTER_MASK, %al
    outb %al, $PIC1_DATA
    movb $PIC_SLAVE_MASK, %al
    outb %al, $PIC2_DATA
    # The masks must read back.
    inb $PIC1_DATA, %al
    cmpb $PIC_MASTER_MASK, %al
    jne 1f
    inb $PIC2_DATA, %al
    cmpb $PIC_SLAVE_MASK, %al
    jne 1f
    ret
1:  movb $POST_PIC, %al
    movw $msg_pic_bad, %si
    jmp fatal

# ---- 06: timer -------------------------------------------------------------
post_pit:
    movb $POST_PIT, %al
    call post_code
    movb $0x36, %al                 # channel 0, lobyte/hibyte, mode 3, binary
    outb %al, $PIT_CMD
    xorb %al, %al                   # divisor 0 = 65536: 18.2065 Hz
    outb %al, $PIT_CH0
    outb %al, $PIT_CH0
    # The counter must be counting: two latched reads some time apart differ.
    call pit_latch
    movw %ax, %bx
    movw $5000, %cx
1:  loop 1b
    call pit_latch
    cmpw %ax, %bx
    je 2f
    ret
2:  movb $POST_PIT, %al
    movw $msg_pit_bad, %si
    jmp fatal

# pit_latch: AX = channel 0's current count.
pit_latch:
    xorb %al, %al                   # counter latch, channel 0
    outb %al, $PIT_CMD
    inb $PIT_CH0, %al
    movb %al, %ah
    inb $PIT_CH0, %al
    xchgb %al, %ah
    ret

# ---- 08: interrupt vector table ------------------------------------------
# Every vector first points at its own entry of unexpected_stubs (sys.s),
# which reports the vector; then the services replace theirs.
post_ivt:
    movb $POST_IVT, %al
    call post_code
    xorw %ax, %ax
    movw %ax, %es
    xorw %di, %di
    movw $unexpected_stubs, %ax
    movw $256, %cx
1:  stosw                           # offset
    movw %ax, %bx
    movw $0xF000, %ax
    stosw                           # segment
    leaw UNEXPECTED_STUB_SIZE(%bx), %ax
    loop 1b
    movw $ivt_services, %si
2:  movzbw %cs:(%si), %bx           # vector; 0xFF ends the list
    cmpb $0xFF, %bl
    je 3f
    movw %cs:1(%si), %ax            # handler offset
    shlw $2, %bx
    movw %ax, %es:(%bx)
    movw $0xF000, %es:2(%bx)
    addw $3, %si
    jmp 2b
3:  ret

ivt_services:
    .byte 0x08
    .word int08_handler
    .byte 0x10
    .word int10_handler
    .byte 0x11
    .word int11_handler
    .byte 0x12
    .word int12_handler
    .byte 0x13
    .word int13_handler
    .byte 0x15
    .word int15_handler
    .byte 0x16
    .word int16_handler
    .byte 0x18
    .word int18_handler
    .byte 0x19
    .word int19_handler
    .byte 0x1A
    .word int1a_handler
    .byte 0x1B                      # Ctrl-Break hook: nothing to do
    .word iret_handler
    .byte 0x1C                      # user timer hook, called by int 08h
    .word iret_handler
    .byte 0x4A                      # user RTC alarm hook
    .word iret_handler
    .byte 0xFF

# ---- 09: BIOS data area, EBDA, RTC -----------------------------------------
post_bda:
    movb $POST_BDA, %al
    call post_code
    movw $BDA_SEG, %ax
    movw %ax, %es
    xorw %di, %di
    xorw %ax, %ax
    movw $128, %cx
    rep stosw
    # Serial ports that answer, in order; their count goes in the
    # equipment word (bits 11:9).
    xorw %di, %di
    movw $COM1, %dx
    call uart_present
    jc 1f
    movw %dx, %es:BDA_COM_PORTS(%di)
    addw $2, %di
1:  movw $COM2, %dx
    call uart_present
    jc 2f
    movw %dx, %es:BDA_COM_PORTS(%di)
    addw $2, %di
2:  movw %di, %ax
    shrw $1, %ax
    shlw $9, %ax
    orw $0x0020, %ax                # bits 5:4 = 10: 80x25 colour video
    movw %ax, %bx
    movb $CMOS_EQUIPMENT, %al
    call cmos_read
    andb $0x02, %al                 # bit 1: maths coprocessor
    orb %al, %bl
    movw %bx, %es:BDA_EQUIPMENT
    movw $BASE_MEM_KB, %es:BDA_MEM_KB
    movw $EBDA_SEG, %es:BDA_EBDA_SEG
    movw $BDA_KBD_BUF, %es:BDA_KBD_HEAD
    movw $BDA_KBD_BUF, %es:BDA_KBD_TAIL
    movw $BDA_KBD_BUF, %es:BDA_KBD_START
    movw $BDA_KBD_BUF + 32, %es:BDA_KBD_END
    movb $3, %es:BDA_VIDEO_MODE
    movw $80, %es:BDA_VIDEO_COLS
    movb $24, %es:BDA_VIDEO_ROWS
    movw $0x0607, %es:BDA_CURSOR_SHAPE
    # RTC: the standard rates and modes, flags cleared.
    movw $(CMOS_A_DEFAULT << 8) | CMOS_REG_A, %ax
    call cmos_write
    movw $(CMOS_B_DEFAULT << 8) | CMOS_REG_B, %ax
    call cmos_write
    movb $CMOS_REG_C, %al
    call cmos_read
    # Tick count from the time of day: seconds * 1193180 / 65536.
    call rtc_seconds_of_day
    movl $1193180, %ecx
    mull %ecx
    shrdl $16, %edx, %eax
    movl %eax, %es:BDA_TICKS
    xorw %ax, %ax
    movw %ax, %es
    ret

# rtc_seconds_of_day: EAX = the RTC time of day in seconds.
rtc_seconds_of_day:
    pushl %ebx
    call rtc_wait_update
    movb $CMOS_HOURS, %al
    call cmos_read_bin
    movzbl %al, %ebx
    imull $60, %ebx, %ebx
    movb $CMOS_MINUTES, %al
    call cmos_read_bin
    movzbl %al, %eax
    addl %eax, %ebx
    imull $60, %ebx, %ebx
    movb $CMOS_SECONDS, %al
    call cmos_read_bin
    movzbl %al, %eax
    addl %ebx, %eax
    popl %ebx
    ret

# cmos_read_bin: AL = the BCD CMOS byte at index AL, in binary.
cmos_read_bin:
    call cmos_read
    pushw %cx
    movb %al, %cl
    shrb $4, %al
    movb $10, %ch
    mulb %ch
    andb $0x0F, %cl
    addb %cl, %al
    popw %cx
    ret

# ---- 0B: the E820 map ------------------------------------------------------
# Built in the EBDA from the sizes post_memory recorded there.
post_e820:
    movb $POST_E820, %al
    call post_code
    pushw %es
    movw $EBDA_SEG, %ax
    movw %ax, %es
    movw $EBDA_E820, %di
    movw $0, %es:EBDA_E820_COUNT
    xorl %eax, %eax                 # conventional memory below the EBDA
    xorl %edx, %edx
    movl $BASE_MEM_KB * 1024, %ecx
    xorl %ebx, %ebx
    movw $E820_RAM, %si
    call e820_add
    movl $BASE_MEM_KB * 1024, %eax  # the EBDA
    movl $EBDA_KB * 1024, %ecx
    movw $E820_RESERVED, %si
    call e820_add
    movl $ROM_LOW_BASE, %eax        # the BIOS ROM
    movl $ROM_SIZE, %ecx
    call e820_add
    movl %es:EBDA_EXT_KB, %ecx      # RAM above 1 MiB
    testl %ecx, %ecx
    jz 1f
    shll $10, %ecx
    movl $0x100000, %eax
    movw $E820_RAM, %si
    call e820_add
1:  movl $ROM_HIGH_BASE, %eax       # the ROM's copy below 4 GiB
    movl $ROM_SIZE, %ecx
    movw $E820_RESERVED, %si
    call e820_add
    movl %es:EBDA_HIGH_BLOCKS, %ecx # RAM above 4 GiB
    testl %ecx, %ecx
    jz 2f
    movl %ecx, %ebx
    shrl $16, %ebx
    shll $16, %ecx
    xorl %eax, %eax
    movl $1, %edx
    movw $E820_RAM, %si
    call e820_add
2:  popw %es
    ret

# e820_add: append {base EDX:EAX, length EBX:ECX, type SI} at ES:DI.
e820_add:
    movl %eax, %es:0(%di)
    movl %edx, %es:4(%di)
    movl %ecx, %es:8(%di)
    movl %ebx, %es:12(%di)
    movw %si, %es:16(%di)
    movw $0, %es:18(%di)
    addw $E820_ENTRY_SIZE, %di
    incw %es:EBDA_E820_COUNT
    xorl %ebx, %ebx
    xorl %edx, %edx
    ret

msg_banner:     .asciz "POST 1.0: "
msg_cpu_ok:     .asciz "CPU ok"
msg_rom_ok:     .asciz ", ROM checksum ok\n"
msg_error:      .asciz "\nPOST error "
msg_colon:      .asciz ": "
msg_cpu_bad:    .asciz "CPU register/flag test failed"
msg_rom_bad:    .asciz "ROM checksum bad"
msg_pic_bad:    .asciz "interrupt controller mask does not read back"
msg_pit_bad:    .asciz "timer channel 0 is not counting"
