# POST step 07: memory sizing and test.
#
# Sizes come from the CMOS (emulator/src/devices/cmos.rs): 0x30-0x31 KiB
# above 1 MiB (at most 0xFFFF), 0x34-0x35 64 KiB blocks between 16 MiB and
# 4 GiB (when non-zero they take over from 0x30-0x31), 0x5B-0x5D 64 KiB
# blocks above 4 GiB. They are recorded in the EBDA (EBDA_EXT_KB,
# EBDA_HIGH_BLOCKS) for int 12h/15h and the E820 map.
#
# The test runs in unreal mode (FS with a 4 GiB limit, A20 open) so that it
# reaches RAM above 1 MiB from real mode:
# - quick (default): one dword per KiB below 640 KiB and one per 64 KiB
#   above 1 MiB, each written with two complementary patterns and read
#   back (the old contents are restored), then an aliasing check: every
#   MiB boundary gets its own address as a pattern and all are read back
#   afterwards (catches a stuck A20 line or missing address bits).
# - thorough (CMOS_POST_FLAGS bit 0): the same with every dword.
# RAM above 4 GiB is not tested (it is out of reach of unreal mode).

.section .text, "ax"
.code16

.global post_memory
post_memory:
    movb $POST_MEMORY, %al
    call post_code
    # Sizes.
    movb $CMOS_EXT_MEM_HI, %al
    call cmos_read
    movb %al, %ah
    movb $CMOS_EXT_MEM_LO, %al
    call cmos_read
    movzwl %ax, %ebp                # EBP = KiB above 1 MiB
    movb $CMOS_MEM16M_HI, %al
    call cmos_read
    movb %al, %ah
    movb $CMOS_MEM16M_LO, %al
    call cmos_read
    testw %ax, %ax
    jz 1f
    movzwl %ax, %ebp
    shll $6, %ebp                   # blocks -> KiB
    addl $15 * 1024, %ebp           # plus 1-16 MiB
1:  movb $CMOS_MEM4G + 2, %al
    call cmos_read
    movzbl %al, %ebx
    shll $16, %ebx
    movb $CMOS_MEM4G + 1, %al
    call cmos_read
    movb %al, %bh
    movb $CMOS_MEM4G, %al
    call cmos_read
    movb %al, %bl                   # EBX = 64 KiB blocks above 4 GiB

    # The test: step 1 KiB / 64 KiB, or 4 bytes when asked for.
    movb $CMOS_POST_FLAGS, %al
    call cmos_read
    movl $1024, %ecx
    movl $0x10000, %edx
    testb $POST_FLAG_THOROUGH, %al
    jz 2f
    movl $4, %ecx
    movl $4, %edx
2:  pushl %edx
    call enter_unreal
    xorl %esi, %esi                 # conventional memory, EBDA included
    movl $0xA0000, %edi
    call mem_test_cells
    popl %ecx
    jc mem_bad
    movl $0x100000, %esi
    movl %ebp, %edi
    shll $10, %edi
    addl %esi, %edi                 # EDI = top of RAM below 4 GiB
    call mem_test_cells
    jc mem_bad
    call mem_test_alias
    jc mem_bad

    # Record the sizes in the EBDA (A's part: 0x00-0xFF) and report.
    pushw %es
    movw $EBDA_SEG, %ax
    movw %ax, %es
    xorw %di, %di
    xorw %ax, %ax
    movw $128, %cx
    rep stosw
    movb $EBDA_KB, %es:EBDA_SIZE_KB
    movl %ebp, %es:EBDA_EXT_KB
    movl %ebx, %es:EBDA_HIGH_BLOCKS
    popw %es
    movw $msg_memory, %si
    call print_str
    movl %ebx, %eax                 # total KiB: 1 MiB + extended + high
    shll $6, %eax
    addl %ebp, %eax
    addl $1024, %eax
    call print_dec
    movw $msg_kib_ok, %si
    call print_str
    ret

mem_bad:
    movl %esi, %edx                 # the failing address
    movb $POST_MEMORY, %al
    call post_code
    movw $msg_mem_bad, %si
    call print_str
    movl %edx, %eax
    call print_hex32
    movb $'\n', %al
    call putc
    jmp halt_forever

# mem_test_cells: test the dwords at ESI, ESI+ECX, ... below EDI through
# FS (flat). CF set on a failure, ESI = its address. Restores each dword.
mem_test_cells:
    cmpl %edi, %esi
    jae 2f
    movl %fs:(%esi), %edx           # keep the old contents
    movl $0x55AA55AA, %eax
1:  movl %eax, %fs:(%esi)
    cmpl %fs:(%esi), %eax
    jne 3f
    notl %eax
    cmpl $0x55AA55AA, %eax
    jne 1b
    movl %edx, %fs:(%esi)
    addl %ecx, %esi
    jmp mem_test_cells
2:  clc
    ret
3:  movl %edx, %fs:(%esi)
    stc
    ret

# mem_test_alias: write each MiB boundary in [1 MiB, EDI) with its own
# address, then read them all back. CF set on a failure, ESI = address.
mem_test_alias:
    movl $0x100000, %esi
1:  cmpl %edi, %esi
    jae 2f
    movl %esi, %fs:(%esi)
    addl $0x100000, %esi
    jmp 1b
2:  movl $0x100000, %esi
3:  cmpl %edi, %esi
    jae 4f
    cmpl %fs:(%esi), %esi
    jne 5f
    addl $0x100000, %esi
    jmp 3b
4:  clc
    ret
5:  stc
    ret

# enter_unreal: open A20 (port 0x92) and give FS a 4 GiB limit with base 0:
# load it in protected mode, return to real mode (the limit stays).
# Interrupts must be off. Clobbers EAX.
.global enter_unreal
enter_unreal:
    inb $SYSCTL_A, %al
    orb $0x02, %al
    andb $0xFE, %al                 # never the reset bit
    outb %al, $SYSCTL_A
    lgdtl %cs:unreal_gdt_ptr
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    jmp 1f
1:  pushw %bx
    movw $0x08, %bx
    movw %bx, %fs
    andb $0xFE, %al
    movl %eax, %cr0
    jmp 2f
2:  xorw %bx, %bx
    movw %bx, %fs
    popw %bx
    ret

    .balign 8
unreal_gdt:
    .quad 0
    .quad 0x00CF92000000FFFF        # flat 4 GiB data, writable
unreal_gdt_ptr:
    .word 15
    .long ROM_LOW_BASE + unreal_gdt

msg_memory:     .asciz "Memory: "
msg_kib_ok:     .asciz " KiB ok\n"
msg_mem_bad:    .asciz "\nPOST error 07: memory test failed at 0x"
