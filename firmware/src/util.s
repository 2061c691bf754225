# Serial-console output used by POST and the services: everything the BIOS
# prints goes to COM1 (int 10h teletype included).
#
# All routines preserve every register and the flags except where noted,
# and address strings through CS (they live in the ROM).

.section .text, "ax"
.code16

# serial_putc: write AL to COM1, waiting (boundedly) for the transmitter.
.global serial_putc
serial_putc:
    pushw %ax
    pushw %cx
    pushw %dx
    movb %al, %ah
    movw $COM1 + UART_LSR, %dx
    movw $0xFFFF, %cx
1:  inb %dx, %al
    testb $LSR_THRE, %al
    jnz 2f
    loop 1b
2:  movw $COM1 + UART_THR, %dx
    movb %ah, %al
    outb %al, %dx
    popw %dx
    popw %cx
    popw %ax
    ret

# putc: like serial_putc, but "\n" becomes "\r\n".
.global putc
putc:
    cmpb $'\n', %al
    jne 1f
    pushw %ax
    movb $'\r', %al
    call serial_putc
    popw %ax
1:  jmp serial_putc

# print_str: write the NUL-terminated string at CS:SI.
.global print_str
print_str:
    pushw %ax
    pushw %si
1:  movb %cs:(%si), %al
    testb %al, %al
    jz 2f
    call putc
    incw %si
    jmp 1b
2:  popw %si
    popw %ax
    ret

# print_hex4: write the low nibble of AL as a hex digit.
print_hex4:
    pushw %ax
    andb $0x0F, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 1f
    addb $'A' - '9' - 1, %al
1:  call serial_putc
    popw %ax
    ret

# print_hex8: write AL as two hex digits.
.global print_hex8
print_hex8:
    pushw %ax
    pushw %ax
    shrb $4, %al
    call print_hex4
    popw %ax
    call print_hex4
    popw %ax
    ret

# print_hex16: write AX as four hex digits.
.global print_hex16
print_hex16:
    xchgb %al, %ah
    call print_hex8
    xchgb %al, %ah
    jmp print_hex8

# print_hex32: write EAX as eight hex digits.
.global print_hex32
print_hex32:
    rorl $16, %eax
    call print_hex16
    rorl $16, %eax
    jmp print_hex16

# print_dec: write EAX as an unsigned decimal number.
.global print_dec
print_dec:
    pushal
    movl $10, %ebx
    xorw %cx, %cx
1:  xorl %edx, %edx
    divl %ebx
    pushw %dx
    incw %cx
    testl %eax, %eax
    jnz 1b
2:  popw %ax
    addb $'0', %al
    call serial_putc
    loop 2b
    popal
    ret

# post_code: write AL to the POST code port.
.global post_code
post_code:
    outb %al, $POST_PORT
    ret
