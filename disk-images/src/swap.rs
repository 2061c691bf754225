//! The Linux swap-area header (`mkswap`, version 1; Linux
//! `include/linux/swap.h`, `union swap_header`): in the first page of the
//! partition, after 1024 bytes of boot-loader room, `version`,
//! `last_page`, `nr_badpages`, a UUID and a label; the last 10 bytes of the
//! page are the magic "SWAPSPACE2".

use crate::Error;

pub const PAGE_SIZE: usize = 4096;
pub const SWAP_MAGIC: &[u8; 10] = b"SWAPSPACE2";
/// mkswap refuses areas under 10 pages.
pub const MIN_PAGES: u64 = 10;

/// The header page for a swap area of `bytes`.
pub fn header(bytes: u64, uuid: [u8; 16]) -> Result<Vec<u8>, Error> {
    let pages = bytes / PAGE_SIZE as u64;
    if pages < MIN_PAGES {
        return Err(Error::Layout(format!(
            "swap of {bytes} bytes is under the {MIN_PAGES} pages Linux requires"
        )));
    }
    let last_page =
        u32::try_from(pages - 1).map_err(|_| Error::Layout("swap area too large".into()))?;
    let mut page = vec![0u8; PAGE_SIZE];
    page[1024..1028].copy_from_slice(&1u32.to_le_bytes()); // version
    page[1028..1032].copy_from_slice(&last_page.to_le_bytes());
    page[1036..1052].copy_from_slice(&uuid);
    page[1052..1056].copy_from_slice(b"swap");
    page[PAGE_SIZE - SWAP_MAGIC.len()..].copy_from_slice(SWAP_MAGIC);
    Ok(page)
}

/// Whether `page` (the first page of a partition) carries the magic.
pub fn has_signature(page: &[u8]) -> bool {
    page.len() >= PAGE_SIZE && &page[PAGE_SIZE - SWAP_MAGIC.len()..PAGE_SIZE] == SWAP_MAGIC
}
