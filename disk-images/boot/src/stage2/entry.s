# Stage 2's start: real mode -> protected mode -> long mode -> Rust.
#
# Real mode (loaded at 0x8000 by the MBR, DL = boot drive, CS = 0):
#  - COM1 set to 115200 8N1 (messages go to the serial port directly);
#  - CPUID: long mode (CPUID 8000_0001h EDX bit 29) is required, NX (bit 20)
#    noted;
#  - the memory map: int 15h E820h into s2_e820 (ACPI 3.0 "Query System
#    Address Map"), plus int 12h, int 15h E801h and int 15h 88h for the
#    fallback the Rust part builds when E820h is missing;
#  - A20: tested by the 1 MiB wraparound; enabled by int 15h AX=2401h,
#    then port 0x92 (fast A20), then the 8042 output port (command D1h).
# Protected mode (SDM vol. 3A 9.9.1): GDT, CR0.PE, far jump; .bss zeroed;
# identity page tables for the first 4 GiB (2 MiB pages).
# Long mode (SDM vol. 3A 9.8.5): CR4.PAE/OSFXSR/OSXMMEXCPT, CR3, EFER.LME
# (+NXE), CR0.PG/WP/MP (EM clear), far jump to the 64-bit code segment;
# then a stack and `stage2_main`.

.equ COM1,          0x3F8
.equ SMAP,          0x534D4150
.equ E820_MAX,      64
.equ E820_SIZE,     24
.equ REAL_STACK,    0x7C00          # below the MBR, as the MBR left it

.section .stage2.header, "a"
.global stage2_header
stage2_header:
    .ascii "PCS2"                   # magic the MBR checks
    .word _stage2_sectors           # length in sectors, this one included
    .word stage2_entry16            # 16-bit entry (CS = 0)
    .ascii "stage 2\0"

.section .text16, "ax"
.code16
.global stage2_entry16
stage2_entry16:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $REAL_STACK, %sp
    sti
    cld
    movb %dl, s2_boot_drive
    call serial_init16
    movw $msg_start, %si
    call puts16

    # The image's last 8 bytes must be "PCS2END!": a check that the MBR
    # loaded all of it. Its address, 0x8000 + sectors * 512 - 8, is
    # (0x800 + sectors * 32 - 1):0008 in segment:offset form.
    movw stage2_header + 4, %ax
    shlw $5, %ax
    addw $0x800 - 1, %ax
    movw %ax, %es
    cmpl $0x32534350, %es:8         # "PCS2"
    jne incomplete
    cmpl $0x21444E45, %es:12        # "END!"
    jne incomplete
    xorw %ax, %ax
    movw %ax, %es

    # CPUID exists on every CPU with long mode; check the extended leaves.
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc no_long_mode
    btl $20, %edx
    setc s2_nx

    call memory_map16
    call a20_enable16
    jmp enter_protected_mode

no_long_mode:
    movw $msg_no_lm, %si
    jmp die16
incomplete:
    xorw %ax, %ax
    movw %ax, %es
    movw $msg_incomplete, %si
    jmp die16
no_a20:
    movw $msg_no_a20, %si
die16:
    call puts16
1:  cli
    hlt
    jmp 1b

# ---- serial (16550A, polled) -----------------------------------------------
serial_init16:
    movw $COM1 + 1, %dx             # IER: no interrupts
    xorb %al, %al
    outb %al, %dx
    movw $COM1 + 3, %dx             # LCR: DLAB
    movb $0x80, %al
    outb %al, %dx
    movw $COM1, %dx                 # divisor 1 = 115200 baud
    movb $1, %al
    outb %al, %dx
    movw $COM1 + 1, %dx
    xorb %al, %al
    outb %al, %dx
    movw $COM1 + 3, %dx             # 8N1, DLAB off
    movb $0x03, %al
    outb %al, %dx
    movw $COM1 + 2, %dx             # FIFO on, cleared
    movb $0xC7, %al
    outb %al, %dx
    movw $COM1 + 4, %dx             # DTR, RTS, OUT2
    movb $0x0B, %al
    outb %al, %dx
    ret

# Prints the NUL-terminated string at DS:SI to COM1.
puts16:
    pushw %ax
    pushw %dx
1:  lodsb
    testb %al, %al
    jz 3f
    movb %al, %ah
    movw $COM1 + 5, %dx             # LSR bit 5: transmit holding register empty
2:  inb %dx, %al
    testb $0x20, %al
    jz 2b
    movw $COM1, %dx
    movb %ah, %al
    outb %al, %dx
    jmp 1b
3:  popw %dx
    popw %ax
    ret

# ---- memory map -----------------------------------------------------------
memory_map16:
    int $0x12                       # conventional memory, KiB
    movw %ax, s2_int12_kib

    xorl %ebx, %ebx                 # E820h: EBX = continuation
    movw $s2_e820, %di
    xorw %bp, %bp
1:  movl $1, 20(%di)                # ACPI 3.0 attributes: valid, if not returned
    movl $0xE820, %eax
    movl $E820_SIZE, %ecx
    movl $SMAP, %edx
    int $0x15
    jc 2f                           # CF: past the end (or no E820h at all)
    cmpl $SMAP, %eax
    jne 2f
    cmpl $20, %ecx
    jb 3f                           # a malformed entry: skip it
    incw %bp
    addw $E820_SIZE, %di
    cmpw $E820_MAX, %bp
    jae 2f
3:  testl %ebx, %ebx
    jnz 1b
2:  movw %bp, s2_e820_count

    xorw %cx, %cx                   # E801h: AX/CX = KiB 1-16 MiB, BX/DX = 64 KiB above
    xorw %dx, %dx
    movw $0xE801, %ax
    int $0x15
    jc 4f
    jcxz 5f                         # some BIOSes answer in AX/BX only
    movw %cx, %ax
    movw %dx, %bx
5:  movw %ax, s2_e801_kib
    movw %bx, s2_e801_blocks
    movb $1, s2_e801_ok
4:  movb $0x88, %ah                 # 88h: AX = KiB above 1 MiB
    int $0x15
    jc 6f
    movw %ax, s2_int88_kib
    movb $1, s2_int88_ok
6:  ret

# ---- A20 ----------------------------------------------------------------------
# Returns ZF clear if A20 is enabled: 0000:0500 and FFFF:0510 (0x100500) are
# different bytes.
a20_test16:
    pushw %ds
    pushw %es
    pushw %ax
    pushw %bx
    cli
    xorw %ax, %ax
    movw %ax, %ds
    notw %ax
    movw %ax, %es
    movb 0x0500, %bl                # saved low byte
    movb %es:0x0510, %bh            # saved high byte
    movb $0x00, 0x0500
    movb $0xFF, %es:0x0510
    cmpb $0xFF, 0x0500              # ZF set: the write wrapped to 0x500
    movb %bh, %es:0x0510
    movb %bl, 0x0500
    sti
    popw %bx
    popw %ax
    popw %es
    popw %ds
    ret

# Tests A20 up to 0x10000 times (the 8042 takes a while); ZF clear = on.
a20_wait16:
    pushw %cx
    xorw %cx, %cx
1:  call a20_test16
    jnz 2f
    loop 1b
    call a20_test16
2:  popw %cx
    ret

a20_enable16:
    call a20_test16
    jnz 9f
    movb $1, s2_a20_method
    movw $0x2401, %ax               # int 15h: enable A20
    int $0x15
    call a20_test16
    jnz 9f
    movb $2, s2_a20_method
    inb $0x92, %al                  # fast A20: bit 1 on, bit 0 (reset) off
    orb $0x02, %al
    andb $0xFE, %al
    outb %al, $0x92
    call a20_wait16
    jnz 9f
    movb $3, s2_a20_method
    cli
    call kbc_wait16
    movb $0xD1, %al                 # 8042: write output port
    outb %al, $0x64
    call kbc_wait16
    movb $0xDF, %al                 # A20 on, no reset
    outb %al, $0x60
    call kbc_wait16
    sti
    call a20_wait16
    jnz 9f
    jmp no_a20
9:  ret

# Waits until the 8042's input buffer is empty (status bit 1 clear).
kbc_wait16:
    pushw %cx
    xorw %cx, %cx
1:  inb $0x64, %al
    testb $0x02, %al
    jz 2f
    loop 1b
2:  popw %cx
    ret

# ---- protected mode, page tables, long mode ---------------------------------
enter_protected_mode:
    cli
    lgdtl gdt_pointer
    movl %cr0, %eax
    orl $1, %eax                    # CR0.PE
    movl %eax, %cr0
    ljmpl $0x08, $pm32

.code32
pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $REAL_STACK, %esp

    movl $__bss_start, %edi         # .bss is not in the file: zero it
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    # Identity map of 0..4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of
    # 512 2 MiB pages each (SDM vol. 3A 4.5, "4-Level Paging").
    movl $s2_pdpt_low, %eax
    orl $0x03, %eax                 # present, writable
    movl %eax, s2_pml4
    movl $s2_pd_low, %eax
    orl $0x03, %eax
    movl $s2_pdpt_low, %edi
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b
    movl $s2_pd_low, %edi
    movl $0x83, %eax                # present, writable, PS (2 MiB page)
    movl $2048, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 2b

    movl %cr4, %eax
    orl $0x620, %eax                # PAE (5), OSFXSR (9), OSXMMEXCPT (10)
    movl %eax, %cr4
    movl $s2_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          # IA32_EFER
    rdmsr
    orl $0x100, %eax                # LME
    cmpb $0, s2_nx
    je 3f
    orl $0x800, %eax                # NXE
3:  wrmsr
    movl %cr0, %eax
    andl $~0x4, %eax                # EM off
    orl $0x80010002, %eax           # PG, WP, MP
    movl %eax, %cr0
    ljmpl $0x18, $lm64

.code64
lm64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq $s2_stack_top, %rsp
    xorl %ebp, %ebp
    call stage2_main
1:  cli
    hlt
    jmp 1b

.code16
    .balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF        # 0x08: 32-bit code, flat
    .quad 0x00CF92000000FFFF        # 0x10: data, flat
    .quad 0x00AF9A000000FFFF        # 0x18: 64-bit code
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .long gdt

msg_start:  .asciz "stage2: started\r\n"
msg_no_lm:  .asciz "stage2: this CPU has no long mode\r\n"
msg_no_a20: .asciz "stage2: cannot enable A20\r\n"
msg_incomplete: .asciz "stage2: image incomplete (no end marker where its header says)\r\n"

# ---- what the real-mode code found, read by the Rust part ------------------
.section .data16, "aw"
.global s2_boot_drive, s2_nx, s2_a20_method, s2_e820_count, s2_e820
.global s2_int12_kib, s2_e801_ok, s2_e801_kib, s2_e801_blocks
.global s2_int88_ok, s2_int88_kib
s2_boot_drive:  .byte 0
s2_nx:          .byte 0
s2_a20_method:  .byte 0             # 0 already on, 1 BIOS, 2 port 0x92, 3 8042
s2_e801_ok:     .byte 0
s2_int88_ok:    .byte 0
                .balign 2
s2_int12_kib:   .word 0
s2_e801_kib:    .word 0
s2_e801_blocks: .word 0
s2_int88_kib:   .word 0
s2_e820_count:  .word 0
                .balign 8
s2_e820:        .space E820_MAX * E820_SIZE

# ---- page tables and the stack ---------------------------------------------
.section .bss.stage2, "aw", @nobits
.global s2_pml4, s2_stack_top
    .balign 4096
s2_pml4:        .space 4096
s2_pdpt_low:    .space 4096
s2_pd_low:      .space 4 * 4096
s2_stack:       .space 64 * 1024
s2_stack_top:
