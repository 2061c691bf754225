//! Names on the ext2 root (Linux's `fs/ext2/namei.c` with the path walk
//! of `fs/namei.c`): lookup following symbolic links (ELOOP after
//! [`MAX_SYMLINKS`]), and the operations that change the tree.

use ::alloc::string::String;
use ::alloc::vec::Vec;

use ondisk::ext2::{Inode, ROOT_INO, S_IFDIR, S_IFLNK, S_IFMT};

use super::{Ext2, ROOT_DEV, with_fs};
use crate::fs::file::Stat;
use crate::kernel::errno::{
    EEXIST, EINVAL, EISDIR, ELOOP, EMLINK, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EROFS,
    KResult,
};

/// Symbolic links followed in one lookup before ELOOP (Linux's 40).
pub const MAX_SYMLINKS: u32 = 40;

/// `stat` of an ext2 inode.
pub fn stat_of(ino: u32, inode: &Inode) -> Stat {
    Stat {
        dev: ROOT_DEV,
        ino: u64::from(ino),
        nlink: u64::from(inode.links_count()),
        mode: u32::from(inode.mode()),
        uid: inode.uid(),
        gid: inode.gid(),
        rdev: inode
            .device()
            .map_or(0, |(ma, mi)| u64::from((ma << 8) | (mi & 0xff))),
        size: inode.size() as i64,
        blksize: 1024,
        blocks: i64::from(inode.blocks),
        atime: i64::from(inode.atime),
        mtime: i64::from(inode.mtime),
        ctime: i64::from(inode.ctime),
    }
}

/// `MAY_READ`, `MAY_WRITE`, `MAY_EXEC` (Linux's `inode_permission`).
pub const MAY_READ: u32 = 4;
pub const MAY_WRITE: u32 = 2;
pub const MAY_EXEC: u32 = 1;

/// Whether the current task may access a file of `mode`, `uid`, `gid`
/// as `mask` asks: the owner's, the group's or the others' bits; root
/// passes (Linux's `generic_permission` without capabilities).
pub fn permission(mode: u32, uid: u32, gid: u32, mask: u32) -> KResult<()> {
    let cred = crate::kernel::task::current().cred;
    if cred.euid == 0 {
        return Ok(());
    }
    let bits = if cred.euid == uid {
        mode >> 6
    } else if cred.egid == gid {
        mode >> 3
    } else {
        mode
    } & 7;
    if bits & mask == mask {
        Ok(())
    } else {
        Err(crate::kernel::errno::EACCES)
    }
}

fn may(inode: &Inode, mask: u32) -> KResult<()> {
    permission(u32::from(inode.mode), inode.uid(), inode.gid(), mask)
}

fn is_dir(i: &Inode) -> bool {
    i.mode & S_IFMT == S_IFDIR
}

/// Joins and normalises `base` + `rel` (as `namei::normalize`).
fn join(base: &str, rel: &str) -> String {
    crate::fs::namei::normalize(base, rel)
}

impl Ext2 {
    /// The target of symbolic link `inode`.
    pub fn read_link(&mut self, ino: u32, inode: &mut Inode) -> KResult<Vec<u8>> {
        if inode.is_fast_symlink(self.bs as u32) {
            let bytes = inode.inline_bytes();
            let n = (inode.size() as usize).min(bytes.len());
            return Ok(bytes[..n].to_vec());
        }
        let mut buf = ::alloc::vec![0u8; inode.size() as usize];
        let n = self.read_data(ino, inode, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Looks up absolute `path`, following symbolic links in the middle
    /// and, if `follow`, at the end.
    pub fn walk(&mut self, path: &str, follow: bool) -> KResult<(u32, Inode)> {
        let mut path = String::from(path);
        let mut links = 0;
        'restart: loop {
            let mut ino = ROOT_INO;
            let mut inode = self.read_inode(ino)?;
            let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
            for (i, part) in parts.iter().enumerate() {
                if !is_dir(&inode) {
                    return Err(ENOTDIR);
                }
                if part.len() > 255 {
                    return Err(ENAMETOOLONG);
                }
                may(&inode, MAY_EXEC)?;
                let found = self
                    .find_entry(ino, &mut inode, part.as_bytes())?
                    .ok_or(ENOENT)?;
                let child = self.read_inode(found.ino)?;
                let last = i + 1 == parts.len();
                if child.mode & S_IFMT == S_IFLNK && (!last || follow) {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(ELOOP);
                    }
                    let mut child = child;
                    let target = self.read_link(found.ino, &mut child)?;
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let mut dir = String::new();
                    for p in &parts[..i] {
                        dir.push('/');
                        dir.push_str(p);
                    }
                    let mut next = join(if dir.is_empty() { "/" } else { &dir }, &target);
                    for p in &parts[i + 1..] {
                        next.push('/');
                        next.push_str(p);
                    }
                    path = join("/", &next);
                    continue 'restart;
                }
                ino = found.ino;
                inode = child;
            }
            return Ok((ino, inode));
        }
    }

    /// The directory holding the last component of `path`, and that name.
    fn parent_of<'p>(&mut self, path: &'p str) -> KResult<(u32, Inode, &'p str)> {
        let path = path.trim_end_matches('/');
        let (dir, name) = path.rsplit_once('/').ok_or(EINVAL)?;
        if name.is_empty() || name == "." || name == ".." {
            return Err(if path.is_empty() { EEXIST } else { EINVAL });
        }
        if name.len() > 255 {
            return Err(ENAMETOOLONG);
        }
        let (ino, inode) = self.walk(if dir.is_empty() { "/" } else { dir }, true)?;
        if !is_dir(&inode) {
            return Err(ENOTDIR);
        }
        may(&inode, MAY_WRITE | MAY_EXEC)?;
        Ok((ino, inode, name))
    }

    fn check_rw(&self) -> KResult<()> {
        if self.rw { Ok(()) } else { Err(EROFS) }
    }

    /// A new inode with `mode`, linked as `name` in `dir`.
    fn new_node(
        &mut self,
        dir_ino: u32,
        dir: &mut Inode,
        name: &str,
        mode: u16,
        uid: u32,
        gid: u32,
    ) -> KResult<(u32, Inode)> {
        let is_dir = mode & S_IFMT == S_IFDIR;
        let ino = self.alloc_inode(self.group_of(dir_ino), is_dir)?;
        self.clear_inode_slot(ino)?;
        let t = super::now();
        let mut inode = Inode {
            mode,
            uid,
            gid,
            atime: t,
            ctime: t,
            mtime: t,
            links_count: 1,
            ..Inode::default()
        };
        if is_dir {
            let blk = self.bmap(ino, &mut inode, 0, true)?;
            self.init_dir_block(blk, ino, dir_ino)?;
            inode.set_size(self.bs as u64);
            inode.links_count = 2;
            dir.links_count += 1;
        }
        self.write_inode(ino, &inode)?;
        let ft = self.dirent_type(mode);
        self.add_entry(dir_ino, dir, name.as_bytes(), ino, ft)?;
        self.write_inode(dir_ino, dir)?;
        Ok((ino, inode))
    }

    /// Creates `path` with `mode` (file type bits included).
    pub fn create(&mut self, path: &str, mode: u16, uid: u32, gid: u32) -> KResult<(u32, Inode)> {
        self.check_rw()?;
        let (dir_ino, mut dir, name) = self.parent_of(path)?;
        if self
            .find_entry(dir_ino, &mut dir, name.as_bytes())?
            .is_some()
        {
            return Err(EEXIST);
        }
        self.new_node(dir_ino, &mut dir, name, mode, uid, gid)
    }

    /// A symbolic link at `path` to `target`: fast (in `i_block`) when it
    /// fits, else in a data block.
    pub fn symlink(&mut self, target: &[u8], path: &str, uid: u32, gid: u32) -> KResult<()> {
        if target.is_empty() {
            return Err(ENOENT);
        }
        if target.len() >= self.bs {
            return Err(ENAMETOOLONG);
        }
        let (ino, mut inode) = self.create(path, S_IFLNK | 0o777, uid, gid)?;
        if target.len() < ondisk::ext2::N_BLOCKS * 4 {
            inode.set_inline_bytes(target);
            inode.set_size(target.len() as u64);
        } else {
            self.write_data(ino, &mut inode, 0, target)?;
        }
        self.write_inode(ino, &inode)
    }

    /// Drops one link of `ino`; frees it when none are left and nobody
    /// has it open (else it becomes an orphan, freed at the last close).
    fn drop_link(&mut self, ino: u32, inode: &mut Inode) -> KResult<()> {
        inode.links_count = inode.links_count.saturating_sub(1);
        if is_dir(inode) {
            inode.links_count = 0;
        }
        inode.ctime = super::now();
        if inode.links_count == 0 {
            if let Some(entry) = self.open.get_mut(&ino) {
                entry.1 = true;
            } else {
                return self.free_node(ino, inode);
            }
        }
        self.write_inode(ino, inode)
    }

    /// Releases an inode with no links: its blocks, then the inode.
    pub fn free_node(&mut self, ino: u32, inode: &mut Inode) -> KResult<()> {
        let dir = is_dir(inode);
        let fast_link = inode.mode & S_IFMT == S_IFLNK && inode.is_fast_symlink(self.bs as u32);
        if !fast_link && !inode.is_device() {
            self.truncate(ino, inode, 0)?;
        }
        inode.links_count = 0;
        inode.dtime = super::now();
        self.write_inode(ino, inode)?;
        self.free_inode(ino, dir)
    }

    /// `unlink` (`rmdir` if `dir`).
    pub fn unlink(&mut self, path: &str, rmdir: bool) -> KResult<()> {
        self.check_rw()?;
        let (dir_ino, mut dir, name) = self.parent_of(path)?;
        let found = self
            .find_entry(dir_ino, &mut dir, name.as_bytes())?
            .ok_or(ENOENT)?;
        let mut child = self.read_inode(found.ino)?;
        if rmdir {
            if !is_dir(&child) {
                return Err(ENOTDIR);
            }
            if found.ino == ROOT_INO {
                return Err(crate::kernel::errno::EBUSY);
            }
            if !self.dir_is_empty(found.ino, &mut child)? {
                return Err(ENOTEMPTY);
            }
        } else if is_dir(&child) {
            return Err(EISDIR);
        }
        self.remove_entry(&mut dir, &found)?;
        if rmdir {
            dir.links_count = dir.links_count.saturating_sub(1);
        }
        self.write_inode(dir_ino, &dir)?;
        self.drop_link(found.ino, &mut child)
    }

    /// `link`: a new name `new` for the inode at `old`.
    pub fn link(&mut self, old: &str, new: &str, follow: bool) -> KResult<()> {
        self.check_rw()?;
        let (ino, mut inode) = self.walk(old, follow)?;
        if is_dir(&inode) {
            return Err(EPERM);
        }
        if inode.links_count >= 32000 {
            return Err(EMLINK);
        }
        let (dir_ino, mut dir, name) = self.parent_of(new)?;
        if self
            .find_entry(dir_ino, &mut dir, name.as_bytes())?
            .is_some()
        {
            return Err(EEXIST);
        }
        let ft = self.dirent_type(inode.mode);
        self.add_entry(dir_ino, &mut dir, name.as_bytes(), ino, ft)?;
        self.write_inode(dir_ino, &dir)?;
        inode.links_count += 1;
        inode.ctime = super::now();
        self.write_inode(ino, &inode)
    }

    /// Whether directory `ancestor` is `ino` or above it.
    fn is_ancestor(&mut self, ancestor: u32, mut ino: u32) -> KResult<bool> {
        for _ in 0..4096 {
            if ino == ancestor {
                return Ok(true);
            }
            if ino == ROOT_INO {
                return Ok(false);
            }
            let mut inode = self.read_inode(ino)?;
            ino = self.find_entry(ino, &mut inode, b"..")?.ok_or(ENOENT)?.ino;
        }
        Ok(false)
    }

    /// `rename`: moves `old` to `new`, atomically replacing what `new`
    /// named (the entry is retargeted in place, never absent).
    pub fn rename(&mut self, old: &str, new: &str, noreplace: bool) -> KResult<()> {
        self.check_rw()?;
        let (odir_ino, mut odir, oname) = self.parent_of(old)?;
        let ofound = self
            .find_entry(odir_ino, &mut odir, oname.as_bytes())?
            .ok_or(ENOENT)?;
        let mut src = self.read_inode(ofound.ino)?;
        let src_dir = is_dir(&src);
        let (ndir_ino, mut ndir, nname) = self.parent_of(new)?;
        if src_dir && self.is_ancestor(ofound.ino, ndir_ino)? {
            return Err(EINVAL);
        }
        let ft = self.dirent_type(src.mode);
        match self.find_entry(ndir_ino, &mut ndir, nname.as_bytes())? {
            Some(nfound) => {
                if noreplace {
                    return Err(EEXIST);
                }
                if nfound.ino == ofound.ino {
                    return Ok(());
                }
                let mut victim = self.read_inode(nfound.ino)?;
                if is_dir(&victim) {
                    if !src_dir {
                        return Err(EISDIR);
                    }
                    if !self.dir_is_empty(nfound.ino, &mut victim)? {
                        return Err(ENOTEMPTY);
                    }
                } else if src_dir {
                    return Err(ENOTDIR);
                }
                self.retarget_entry(&nfound, ofound.ino, ft)?;
                if is_dir(&victim) {
                    ndir.links_count = ndir.links_count.saturating_sub(1);
                }
                self.drop_link(nfound.ino, &mut victim)?;
            }
            None => {
                self.add_entry(ndir_ino, &mut ndir, nname.as_bytes(), ofound.ino, ft)?;
            }
        }
        if src_dir && odir_ino != ndir_ino {
            ndir.links_count += 1;
        }
        self.write_inode(ndir_ino, &ndir)?;
        // The old name: re-read the old directory, which may be the new one.
        let mut odir = self.read_inode(odir_ino)?;
        let ofound = self
            .find_entry(odir_ino, &mut odir, oname.as_bytes())?
            .ok_or(ENOENT)?;
        self.remove_entry(&mut odir, &ofound)?;
        if src_dir && odir_ino != ndir_ino {
            odir.links_count = odir.links_count.saturating_sub(1);
            let dotdot = self
                .find_entry(ofound.ino, &mut src, b"..")?
                .ok_or(ENOENT)?;
            let dft = self.dirent_type(S_IFDIR);
            self.retarget_entry(&dotdot, ndir_ino, dft)?;
        }
        self.write_inode(odir_ino, &odir)?;
        src.ctime = super::now();
        self.write_inode(ofound.ino, &src)
    }
}

/// Looks `path` (absolute, normalised) up; follows a final symbolic link
/// if `follow`.
pub fn lookup(path: &str, follow: bool) -> KResult<(u32, Inode)> {
    with_fs(|fs| fs.walk(path, follow))
}

/// The target of a symbolic link.
pub fn readlink(ino: u32, inode: &Inode) -> KResult<Vec<u8>> {
    let mut inode = *inode;
    with_fs(|fs| fs.read_link(ino, &mut inode))
}
