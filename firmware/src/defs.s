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

# ---- CMOS (MC146818) registers ------------------------------------------
.equ CMOS_SECONDS,      0x00
.equ CMOS_MINUTES,      0x02
.equ CMOS_HOURS,        0x04
.equ CMOS_DAY,          0x07
.equ CMOS_MONTH,        0x08
.equ CMOS_YEAR,         0x09
.equ CMOS_REG_A,        0x0A
.equ CMOS_REG_B,        0x0B
.equ CMOS_REG_C,        0x0C
.equ CMOS_EQUIPMENT,    0x14
.equ CMOS_EXT_MEM_LO,   0x30    # extended memory (KiB above 1 MiB), as POST found it
.equ CMOS_EXT_MEM_HI,   0x31
.equ CMOS_CENTURY,      0x32
.equ CMOS_MEM16M_LO,    0x34    # 64 KiB blocks between 16 MiB and 4 GiB
.equ CMOS_MEM16M_HI,    0x35
.equ CMOS_BOOT_3RD,     0x38    # bits 7:4 third boot device
.equ CMOS_BOOT_ORDER,   0x3D    # bits 3:0 first, 7:4 second boot device
.equ CMOS_MEM4G,        0x5B    # 3 bytes: 64 KiB blocks above 4 GiB
# Our own NVRAM byte (unused by QEMU/SeaBIOS and by our CMOS model):
# bit 0 = 1 asks POST for the thorough memory test (every dword).
.equ CMOS_POST_FLAGS,   0x5F
.equ POST_FLAG_THOROUGH, 0x01
.equ CMOS_B_SET,        0x80
.equ CMOS_A_UIP,        0x80
.equ CMOS_A_DEFAULT,    0x26    # 32768 Hz time base, 1024 Hz periodic rate
.equ CMOS_B_DEFAULT,    0x02    # 24-hour, BCD, no interrupts
.equ BOOT_DEV_HARD_DISK, 2

# ---- EBDA layout (segment EBDA_SEG); helper A owns 0x000-0x0FF -----------
.equ EBDA_SIZE_KB,      0x00    # byte: EBDA size in KiB (the standard first byte)
.equ EBDA_E820_COUNT,   0x10    # word: number of E820 entries
.equ EBDA_EXT_KB,       0x12    # dword: KiB between 1 MiB and the top of low RAM
.equ EBDA_HIGH_BLOCKS,  0x16    # dword: 64 KiB blocks above 4 GiB
.equ EBDA_E820,         0x20    # E820 entries, 20 bytes each
.equ E820_MAX,          10      # 0x20 + 10 * 20 = 0xE8 < 0x100
.equ E820_ENTRY_SIZE,   20
.equ E820_RAM,          1
.equ E820_RESERVED,     2
.equ SMAP,              0x534D4150      # 'SMAP'

# ---- Memory map --------------------------------------------------------------
.equ ROM_LOW_BASE,      0xF0000         # the BIOS ROM below 1 MiB
.equ ROM_HIGH_BASE,     0xFFFF0000      # its copy at the top of 4 GiB
.equ ROM_SIZE,          0x10000
.equ BASE_MEM_KB,       639             # conventional memory below the EBDA

# ---- POST codes (port 0x80) ------------------------------------------------
# Each step writes its code when it starts; a failing step stops with its
# code as the last one written and a "POST error XX: ..." line.
.equ POST_START,        0x01
.equ POST_SERIAL,       0x02    # UARTs initialised
.equ POST_CPU,          0x03    # register and flag test
.equ POST_ROM,          0x04    # ROM checksum
.equ POST_PIC,          0x05    # 8259A pair: vectors 08h and 70h
.equ POST_PIT,          0x06    # 8254 channel 0 at 18.2 Hz
.equ POST_MEMORY,       0x07    # sizing from CMOS and the memory test
.equ POST_IVT,          0x08    # interrupt vector table
.equ POST_BDA,          0x09    # BIOS data area, EBDA, RTC
.equ POST_ATA,          0x0A    # ATA detection (ata_detect)
.equ POST_E820,         0x0B    # the E820 memory map
.equ POST_BOOT,         0x0C    # int 19h: bootstrap

# Size of one default-handler stub (sys.s: push imm8; jmp rel16).
.equ UNEXPECTED_STUB_SIZE, 5
