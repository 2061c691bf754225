//! Directory entries (section "Linked Directories"): an 8-byte header
//! (`inode`, `rec_len`, `name_len`, `file_type`) then the name, padded to 4
//! bytes; `rec_len` chains to the next entry and the last one in a block
//! reaches the block's end.

use super::{le16, le32, put16, put32};
use super::{FT_BLKDEV, FT_CHRDEV, FT_DIR, FT_FIFO, FT_REG_FILE, FT_SOCK, FT_SYMLINK, FT_UNKNOWN};
use super::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};

pub const DIR_ENTRY_HEADER_SIZE: usize = 8;
pub const MAX_NAME_LEN: usize = 255;

/// `struct ext2_dir_entry_2` without the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DirEntryHeader {
    /// 0 marks an unused entry.
    pub inode: u32,
    /// Bytes from this entry to the next.
    pub rec_len: u16,
    pub name_len: u8,
    /// `FT_*` (with the `filetype` feature).
    pub file_type: u8,
}

impl DirEntryHeader {
    pub fn parse(b: &[u8; DIR_ENTRY_HEADER_SIZE]) -> Self {
        DirEntryHeader {
            inode: le32(b, 0),
            rec_len: le16(b, 4),
            name_len: b[6],
            file_type: b[7],
        }
    }

    pub fn write(&self, b: &mut [u8; DIR_ENTRY_HEADER_SIZE]) {
        put32(b, 0, self.inode);
        put16(b, 4, self.rec_len);
        b[6] = self.name_len;
        b[7] = self.file_type;
    }

    /// The smallest `rec_len` for a name of `name_len` bytes
    /// (`EXT2_DIR_REC_LEN`): header plus name, rounded up to 4.
    pub const fn min_rec_len(name_len: usize) -> usize {
        (DIR_ENTRY_HEADER_SIZE + name_len + 3) & !3
    }
}

/// The directory-entry type code for an inode mode.
pub fn file_type_for_mode(mode: u16) -> u8 {
    match mode & S_IFMT {
        S_IFREG => FT_REG_FILE,
        S_IFDIR => FT_DIR,
        S_IFCHR => FT_CHRDEV,
        S_IFBLK => FT_BLKDEV,
        S_IFIFO => FT_FIFO,
        S_IFSOCK => FT_SOCK,
        S_IFLNK => FT_SYMLINK,
        _ => FT_UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_entry_header_round_trips_through_bytes() {
        let h = DirEntryHeader {
            inode: 11,
            rec_len: 20,
            name_len: 10,
            file_type: FT_DIR,
        };
        let mut b = [0u8; DIR_ENTRY_HEADER_SIZE];
        h.write(&mut b);
        assert_eq!(b, [11, 0, 0, 0, 20, 0, 10, 2]);
        assert_eq!(DirEntryHeader::parse(&b), h);
    }

    #[test]
    fn min_rec_len_pads_names_to_four_bytes() {
        assert_eq!(DirEntryHeader::min_rec_len(1), 12);
        assert_eq!(DirEntryHeader::min_rec_len(4), 12);
        assert_eq!(DirEntryHeader::min_rec_len(5), 16);
        assert_eq!(DirEntryHeader::min_rec_len(255), 264);
    }

    #[test]
    fn file_types_follow_the_mode() {
        assert_eq!(file_type_for_mode(S_IFLNK | 0o777), FT_SYMLINK);
        assert_eq!(file_type_for_mode(S_IFCHR), FT_CHRDEV);
        assert_eq!(file_type_for_mode(0), FT_UNKNOWN);
    }
}
