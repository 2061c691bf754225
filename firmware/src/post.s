# Power-on self test (skeleton: serial console and banner).

.section .text, "ax"
.code16

.global post
post:
    movb $POST_START, %al
    call post_code
    # COM1: 115200 baud, 8N1, FIFOs on.
    movw $COM1 + UART_LCR, %dx
    movb $0x80, %al
    outb %al, %dx
    movw $COM1 + UART_DLL, %dx
    movb $1, %al
    outb %al, %dx
    movw $COM1 + UART_DLM, %dx
    movb $0, %al
    outb %al, %dx
    movw $COM1 + UART_LCR, %dx
    movb $0x03, %al
    outb %al, %dx
    movw $COM1 + UART_FCR, %dx
    movb $0x07, %al
    outb %al, %dx
    movb $POST_SERIAL_OK, %al
    call post_code
    movw $banner, %si
    call print_str
    ret

banner: .asciz "POST 1.0\n"

.section .text, "ax"
.code16
.global int19_entry
int19_entry:
    cli
    hlt
