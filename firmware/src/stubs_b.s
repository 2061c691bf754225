# TEMPORARY stand-ins for helper B's symbols (int10_handler, int13_handler,
# int16_handler, ata_detect) so this branch links on its own. They are NOT
# the services: this file is deleted when B's ata.s/int10.s/int13.s/int16.s
# are merged.

.section .text, "ax"
.code16

.global ata_detect
ata_detect:
    ret

# int 13h stand-in: every function fails with AH = 01h (invalid function).
.global int13_handler
int13_handler:
    movb $0x01, %ah
    pushw %bp
    movw %sp, %bp
    orw $1, 6(%bp)
    popw %bp
    iret

# int 10h stand-in: AH=0Eh teletype to the serial console, nothing else.
.global int10_handler
int10_handler:
    cmpb $0x0E, %ah
    jne 1f
    call putc
1:  iret

.global int16_handler
int16_handler:
    iret
