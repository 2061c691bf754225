# int 16h: the keyboard is COM1's receiver (the serial console).
#
# Bytes received on COM1 become keystrokes: AL = the byte, AH = the scan
# code (set 1, US layout) of the key that types it, from kbd_scan_codes:
# letters, digits, punctuation, Space, Enter (CR and LF, 1Ch), Backspace
# (BS, and DEL which terminals send for it: AL = 08h), Tab, Esc, Ctrl-
# letters; other bytes get scan code 0. Escape sequences (arrow keys) are
# passed through byte by byte. Keystrokes wait in the BIOS keyboard buffer
# (BDA 0x1E-0x3D, head 0x1A, tail 0x1C: 15 keys).
#
#   00h/10h read a key: waits for one, AX = key. The wait polls the UART
#           (no hlt: COM1's receive interrupt is off, so with no timer
#           running nothing would wake the CPU).
#   01h/11h key available? ZF = 1 if not, else ZF = 0 and AX = the key,
#           which stays in the buffer.
#   02h/12h shift flags: AL = BDA 0x17 (0: no modifiers over serial),
#           12h also AH = 0.
#   03h typematic rate: accepted, nothing to set.
#   05h store CX as a keystroke: AL = 0, or 1 when the buffer is full.
# Other functions return with the registers unchanged.

.equ KBD_BUF_START, 0x1E
.equ KBD_BUF_END,   0x3E
.equ I16_FLAGS,     10          # FLAGS in the frame (BP, BX, DS, IP, CS)
.equ FLAG_ZF,       0x40

.section .text, "ax"
.code16

.global int16_handler
int16_handler:
    sti
    pushw %ds
    pushw %bx
    pushw %bp
    movw %sp, %bp
    pushw $BDA_SEG
    popw %ds
    call kbd_check_ptrs
    cmpb $0x00, %ah
    je i16_read
    cmpb $0x10, %ah
    je i16_read
    cmpb $0x01, %ah
    je i16_status
    cmpb $0x11, %ah
    je i16_status
    cmpb $0x02, %ah
    je i16_flags
    cmpb $0x12, %ah
    je i16_flags
    cmpb $0x05, %ah
    je i16_store
i16_ret:
    popw %bp
    popw %bx
    popw %ds
    iret

# kbd_check_ptrs: a head or tail outside the buffer (BDA not set up):
# empty the buffer.
kbd_check_ptrs:
    pushw %ax
    movw BDA_KBD_HEAD, %ax
    cmpw $KBD_BUF_START, %ax
    jb 1f
    cmpw $KBD_BUF_END, %ax
    jae 1f
    testb $1, %al
    jz 2f
1:  movw $KBD_BUF_START, BDA_KBD_HEAD
    movw $KBD_BUF_START, BDA_KBD_TAIL
2:  movw BDA_KBD_TAIL, %ax
    cmpw $KBD_BUF_START, %ax
    jb 1b
    cmpw $KBD_BUF_END, %ax
    jae 1b
    testb $1, %al
    jnz 1b
    popw %ax
    ret

# kbd_push: put AX into the buffer. CF set if it is full.
kbd_push:
    pushw %bx
    pushw %si
    movw BDA_KBD_TAIL, %bx
    leaw 2(%bx), %si
    cmpw $KBD_BUF_END, %si
    jb 1f
    movw $KBD_BUF_START, %si
1:  cmpw BDA_KBD_HEAD, %si
    je 2f
    movw %ax, (%bx)
    movw %si, BDA_KBD_TAIL
    clc
    jmp 3f
2:  stc
3:  popw %si
    popw %bx
    ret

# kbd_poll: move a byte waiting in COM1's receiver into the buffer.
kbd_poll:
    pushw %ax
    pushw %bx
    pushw %dx
    movw $COM1 + UART_LSR, %dx
    inb %dx, %al
    testb $LSR_DR, %al
    jz 1f
    movw $COM1 + UART_RBR, %dx
    inb %dx, %al
    andw $0x7F, %ax                 # 7-bit ASCII; AH = 0
    movw %ax, %bx
    movb %cs:kbd_scan_codes(%bx), %ah
    cmpb $0x7F, %al                 # DEL: Backspace
    jne 2f
    movb $0x08, %al
2:  call kbd_push
1:  popw %dx
    popw %bx
    popw %ax
    ret

i16_read:
1:  call kbd_poll
    movw BDA_KBD_HEAD, %bx
    cmpw BDA_KBD_TAIL, %bx
    je 1b
    movw (%bx), %ax
    addw $2, %bx
    cmpw $KBD_BUF_END, %bx
    jb 2f
    movw $KBD_BUF_START, %bx
2:  movw %bx, BDA_KBD_HEAD
    jmp i16_ret

i16_status:
    call kbd_poll
    movw BDA_KBD_HEAD, %bx
    cmpw BDA_KBD_TAIL, %bx
    je 1f
    movw (%bx), %ax
    andw $~FLAG_ZF, I16_FLAGS(%bp)
    jmp i16_ret
1:  orw $FLAG_ZF, I16_FLAGS(%bp)
    jmp i16_ret

i16_flags:
    cmpb $0x12, %ah
    jne 1f
    xorb %ah, %ah
1:  movb BDA_KBD_FLAGS, %al
    jmp i16_ret

i16_store:
    pushw %ax
    movw %cx, %ax
    call kbd_push
    popw %ax
    movb $0, %al
    jnc i16_ret
    movb $1, %al
    jmp i16_ret

# Scan codes of the keys that type each 7-bit character.
kbd_scan_codes:
    .byte 0x00, 0x1E, 0x30, 0x2E, 0x20, 0x12, 0x21, 0x22, 0x0E, 0x0F, 0x1C, 0x25, 0x26, 0x1C, 0x31, 0x18
    .byte 0x19, 0x10, 0x13, 0x1F, 0x14, 0x16, 0x2F, 0x11, 0x2D, 0x15, 0x2C, 0x01, 0x00, 0x00, 0x00, 0x00
    .byte 0x39, 0x02, 0x28, 0x04, 0x05, 0x06, 0x08, 0x28, 0x0A, 0x0B, 0x09, 0x0D, 0x33, 0x0C, 0x34, 0x35
    .byte 0x0B, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x27, 0x27, 0x33, 0x0D, 0x34, 0x35
    .byte 0x03, 0x1E, 0x30, 0x2E, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32, 0x31, 0x18
    .byte 0x19, 0x10, 0x13, 0x1F, 0x14, 0x16, 0x2F, 0x11, 0x2D, 0x15, 0x2C, 0x1A, 0x2B, 0x1B, 0x07, 0x0C
    .byte 0x29, 0x1E, 0x30, 0x2E, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32, 0x31, 0x18
    .byte 0x19, 0x10, 0x13, 0x1F, 0x14, 0x16, 0x2F, 0x11, 0x2D, 0x15, 0x2C, 0x1A, 0x2B, 0x1B, 0x29, 0x0E
