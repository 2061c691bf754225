# int 10h: video services on the serial console (there is no display
# adapter: COM1 is the screen). Characters go to COM1 unchanged, so a CR
# LF pair from the caller arrives as CR LF. A virtual 80x25 text screen
# (mode 3) is tracked in the BIOS data area so the queries boot loaders
# make answer sensibly:
#
#   00h set mode: any mode is accepted and becomes mode 3 (80x25 text);
#       cursors go home, page 0. AL = 30h (Phoenix: text mode set).
#   01h cursor shape (CX) kept in BDA 0x60.
#   02h/03h set/get the cursor of page BH (BDA 0x50, DH = row, DL = col);
#       03h also returns CX = cursor shape.
#   05h select page.
#   08h read character: AX = 0720h (a blank, grey on black).
#   09h/0Ah write AL CX times (the cursor does not move).
#   0Eh teletype AL: CR -> column 0, LF -> next row, BS -> one column
#       left (not past column 0), BEL -> no move, others advance with a
#       wrap after column 79; rows stop at 24 (the screen "scrolls").
#   0Fh: AH = 80 columns, AL = 3, BH = active page.
#   13h write string ES:BP, CX characters at DH/DL of page BH; AL bit 0
#       leaves the cursor after the string, bit 1 = character/attribute
#       pairs.
# Everything else (scrolling 06h/07h, palettes, 12h EGA information,
# 1Ah display combination, VBE) returns with the registers unchanged,
# which callers read as "no EGA/VGA".

.equ TTY_COLS,      80
.equ TTY_ROWS,      25
.equ TTY_MODE,      3
.equ TTY_SHAPE,     0x0607

.section .text, "ax"
.code16

.global int10_handler
int10_handler:
    sti
    cld
    pushw %ds
    pushw $BDA_SEG
    popw %ds
    cmpb $0x0E, %ah
    je i10_teletype
    cmpb $0x00, %ah
    je i10_set_mode
    cmpb $0x01, %ah
    je i10_shape
    cmpb $0x02, %ah
    je i10_set_cursor
    cmpb $0x03, %ah
    je i10_get_cursor
    cmpb $0x05, %ah
    je i10_page
    cmpb $0x08, %ah
    je i10_read_char
    cmpb $0x09, %ah
    je i10_write_char
    cmpb $0x0A, %ah
    je i10_write_char
    cmpb $0x0F, %ah
    je i10_get_mode
    cmpb $0x13, %ah
    je i10_write_string
i10_ret:
    popw %ds
    iret

i10_teletype:
    call i10_putc
    jmp i10_ret

# i10_cursor: SI = offset in the BDA of page BH's cursor.
i10_cursor:
    movzbw %bh, %si
    andw $7, %si
    shlw $1, %si
    addw $BDA_CURSOR_POS, %si
    ret

# i10_putc: teletype AL on page BH (DS = BDA). Preserves all registers.
i10_putc:
    pushw %dx
    pushw %si
    call serial_putc
    call i10_cursor
    movw (%si), %dx
    cmpb $'\r', %al
    je 1f
    cmpb $'\n', %al
    je 2f
    cmpb $0x08, %al
    je 3f
    cmpb $0x07, %al
    je 4f
    incb %dl
    cmpb $TTY_COLS, %dl
    jb 4f
1:  movb $0, %dl
    cmpb $'\r', %al
    je 4f
2:  incb %dh
    cmpb $TTY_ROWS, %dh
    jb 4f
    movb $TTY_ROWS - 1, %dh
    jmp 4f
3:  testb %dl, %dl
    jz 4f
    decb %dl
4:  movw %dx, (%si)
    popw %si
    popw %dx
    ret

i10_set_mode:
    pushw %cx
    pushw %di
    pushw %es
    movb $TTY_MODE, BDA_VIDEO_MODE
    movw $TTY_COLS, BDA_VIDEO_COLS
    movb $TTY_ROWS - 1, BDA_VIDEO_ROWS
    movb $0, BDA_ACTIVE_PAGE
    movw $TTY_SHAPE, BDA_CURSOR_SHAPE
    pushw %ds
    popw %es
    movw $BDA_CURSOR_POS, %di
    movw $8, %cx
    xorw %ax, %ax
    rep stosw
    movb $0x30, %al
    popw %es
    popw %di
    popw %cx
    jmp i10_ret

i10_shape:
    movw %cx, BDA_CURSOR_SHAPE
    jmp i10_ret

i10_set_cursor:
    pushw %si
    call i10_cursor
    movw %dx, (%si)
    popw %si
    jmp i10_ret

i10_get_cursor:
    pushw %si
    call i10_cursor
    movw (%si), %dx
    movw BDA_CURSOR_SHAPE, %cx
    xorw %ax, %ax
    popw %si
    jmp i10_ret

i10_page:
    andb $7, %al
    movb %al, BDA_ACTIVE_PAGE
    jmp i10_ret

i10_read_char:
    movw $0x0720, %ax
    jmp i10_ret

i10_write_char:
    pushw %cx
    jcxz 2f
1:  call serial_putc
    loop 1b
2:  popw %cx
    jmp i10_ret

i10_get_mode:
    movb BDA_ACTIVE_PAGE, %bh
    movb $TTY_COLS, %ah
    movb $TTY_MODE, %al
    jmp i10_ret

i10_write_string:
    pushw %ax
    pushw %cx
    pushw %si
    pushw %di
    pushw %bp
    call i10_cursor
    pushw (%si)                     # the cursor before, for AL bit 0 = 0
    movw %dx, (%si)
    movb %al, %ah                   # AH = mode bits
    jcxz 2f
1:  movb %es:(%bp), %al
    incw %bp
    testb $2, %ah
    jz 3f
    incw %bp                        # skip the attribute
3:  call i10_putc
    loop 1b
2:  popw %di
    testb $1, %ah
    jnz 4f
    movw %di, (%si)
4:  popw %bp
    popw %di
    popw %si
    popw %cx
    popw %ax
    jmp i10_ret
