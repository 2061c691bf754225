pub const PART_LINUX: u8 = 0x83;
pub struct PartitionEntry { pub bootable: bool, pub kind: u8, pub first_lba: u32, pub sectors: u32 }
pub fn parse_table(s: &[u8; 512]) -> Result<[PartitionEntry; 4], ()> {
    if s[510] != 0x55 || s[511] != 0xAA { return Err(()); }
    let e = |i: usize| { let b = &s[446 + 16 * i..462 + 16 * i]; PartitionEntry { bootable: b[0] == 0x80, kind: b[4], first_lba: u32::from_le_bytes([b[8], b[9], b[10], b[11]]), sectors: u32::from_le_bytes([b[12], b[13], b[14], b[15]]) } };
    Ok([e(0), e(1), e(2), e(3)])
}
