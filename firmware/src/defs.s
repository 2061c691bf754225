# Constants shared by every part of the BIOS: I/O ports, BIOS data area
# offsets (segment 0x40), memory layout and POST codes.

# ---- I/O ports -----------------------------------------------------------
.equ PIC1_CMD,      0x20
.equ PIC1_DATA,     0x21
.equ PIC2_CMD,      0xA0
.equ PIC2_DATA,     0xA1
.equ PIT_CH0,       0x40
.equ PIT_CMD,       0x43
.equ KBC_DATA,      0x60
.equ KBC_CMD,       0x64
.equ PORT_B,        0x61
.equ CMOS_INDEX,    0x70
.equ CMOS_DATA,     0x71
.equ POST_PORT,     0x80
.equ SYSCTL_A,      0x92
.equ COM1,          0x3F8
.equ COM2,          0x2F8
.equ ATA0_BASE,     0x1F0
.equ ATA0_CTRL,     0x3F6
.equ ATA1_BASE,     0x170
.equ ATA1_CTRL,     0x376
.equ DEBUG_PORT,    0xE9

# UART register offsets from the base port.
.equ UART_THR,      0
.equ UART_RBR,      0
.equ UART_DLL,      0
.equ UART_IER,      1
.equ UART_DLM,      1
.equ UART_FCR,      2
.equ UART_IIR,      2
.equ UART_LCR,      3
.equ UART_MCR,      4
.equ UART_LSR,      5
.equ UART_SCR,      7
.equ LSR_DR,        0x01
.equ LSR_THRE,      0x20

# ---- BIOS data area, segment 0x40 ----------------------------------------
.equ BDA_SEG,           0x40
.equ BDA_COM_PORTS,     0x00    # 4 words
.equ BDA_LPT_PORTS,     0x08    # 3 words
.equ BDA_EBDA_SEG,      0x0E    # word
.equ BDA_EQUIPMENT,     0x10    # word
.equ BDA_MEM_KB,        0x13    # word: conventional memory in KiB
.equ BDA_KBD_FLAGS,     0x17    # byte
.equ BDA_KBD_HEAD,      0x1A    # word: offset into segment 0x40
.equ BDA_KBD_TAIL,      0x1C    # word
.equ BDA_KBD_BUF,       0x1E    # 16 words
.equ BDA_VIDEO_MODE,    0x49    # byte
.equ BDA_VIDEO_COLS,    0x4A    # word
.equ BDA_CURSOR_POS,    0x50    # 8 words (page 0 first): row << 8 | col
.equ BDA_CURSOR_SHAPE,  0x60    # word
.equ BDA_ACTIVE_PAGE,   0x62    # byte
.equ BDA_TICKS,         0x6C    # dword: timer ticks since midnight
.equ BDA_MIDNIGHT,      0x70    # byte: day rolled over
.equ BDA_RESET_FLAG,    0x72    # word: 0x1234 = warm boot
.equ BDA_DISK_STATUS,   0x74    # byte: last int 13h status
.equ BDA_NUM_DISKS,     0x75    # byte: hard disks
.equ BDA_KBD_START,     0x80    # word
.equ BDA_KBD_END,       0x82    # word
.equ BDA_VIDEO_ROWS,    0x84    # byte: rows - 1

# Timer ticks per day (18.2065 Hz * 86400 s).
.equ TICKS_PER_DAY,     0x1800B0

# ---- Memory layout ---------------------------------------------------------
.equ EBDA_KB,           1               # EBDA size in KiB
.equ EBDA_SEG,          0x9FC0          # 639 KiB: just below 640 KiB
.equ STACK_SEG,         0x0000
.equ STACK_TOP,         0x7000          # POST stack, below the boot sector
.equ BOOT_SEG,          0x0000
.equ BOOT_OFF,          0x7C00          # where the boot sector is loaded

# ---- POST codes (port 0x80) ------------------------------------------------
.equ POST_START,        0x01
.equ POST_CPU_OK,       0x02
.equ POST_ROM_OK,       0x03
.equ POST_SERIAL_OK,    0x04
