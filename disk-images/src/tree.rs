//! The root file system's contents in memory, before they become ext2:
//! directories, files, symbolic links, device nodes and hard links (two
//! names for one node). Built from a host directory, then the recipe's
//! entries are applied on top.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ondisk::ext2::MAX_NAME_LEN;

use crate::recipe::{Entry, EntryKind, Source};
use crate::Error;

/// Index of a node in a [`Tree`].
pub type NodeId = usize;

/// Where a regular file's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileData {
    Bytes(Vec<u8>),
    /// Read from the host when the image is written.
    Host(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Children by name, sorted so images are reproducible.
    Dir(BTreeMap<Vec<u8>, NodeId>),
    File(FileData),
    Symlink(Vec<u8>),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One inode-to-be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// Permission bits (0o7777).
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
}

/// A directory tree; node 0 is the root directory.
#[derive(Clone, Debug)]
pub struct Tree {
    nodes: Vec<Node>,
}

/// `lost+found` is made by mkfs itself (inode 11, as mke2fs does).
pub const LOST_AND_FOUND: &[u8] = b"lost+found";

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub const ROOT: NodeId = 0;

    /// An empty root directory, mode 0755.
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                kind: NodeKind::Dir(BTreeMap::new()),
                perm: 0o755,
                uid: 0,
                gid: 0,
            }],
        }
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The children of a directory (empty for anything else).
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = (&[u8], NodeId)> {
        let map = match &self.nodes[id].kind {
            NodeKind::Dir(children) => Some(children),
            _ => None,
        };
        map.into_iter()
            .flatten()
            .map(|(name, &child)| (name.as_slice(), child))
    }

    /// Copies a host directory in: directories 0755, files 0644 or 0755
    /// (if the host file is executable by anyone), symbolic links as they
    /// are, host hard links as hard links; everything owned by root.
    pub fn from_host_dir(dir: &Path) -> Result<Tree, Error> {
        let mut tree = Tree::new();
        let mut seen = HashMap::new();
        tree.import_dir(Tree::ROOT, dir, &mut seen)?;
        Ok(tree)
    }

    fn import_dir(
        &mut self,
        parent: NodeId,
        dir: &Path,
        seen: &mut HashMap<(u64, u64), NodeId>,
    ) -> Result<(), Error> {
        let mut items = fs::read_dir(dir)
            .map_err(Error::io(dir))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::io(dir))?;
        items.sort_by_key(|e| e.file_name());
        for item in items {
            let path = item.path();
            let name = item.file_name().as_bytes().to_vec();
            check_name(&name, &path.display().to_string())?;
            if parent == Tree::ROOT && name == LOST_AND_FOUND {
                return Err(Error::Tree(format!(
                    "{}: mkfs makes /lost+found itself",
                    path.display()
                )));
            }
            let meta = fs::symlink_metadata(&path).map_err(Error::io(&path))?;
            let ft = meta.file_type();
            if !ft.is_dir() && meta.nlink() > 1 {
                if let Some(&id) = seen.get(&(meta.dev(), meta.ino())) {
                    self.link(parent, name, id);
                    continue;
                }
            }
            let kind = if ft.is_dir() {
                NodeKind::Dir(BTreeMap::new())
            } else if ft.is_file() {
                NodeKind::File(FileData::Host(path.clone()))
            } else if ft.is_symlink() {
                let target = fs::read_link(&path).map_err(Error::io(&path))?;
                NodeKind::Symlink(target.as_os_str().as_bytes().to_vec())
            } else {
                return Err(Error::Tree(format!(
                    "{}: only directories, regular files and symbolic links can be copied \
                     from the host (declare devices in the recipe)",
                    path.display()
                )));
            };
            let perm = match &kind {
                NodeKind::Dir(_) => 0o755,
                NodeKind::Symlink(_) => 0o777,
                _ if meta.mode() & 0o111 != 0 => 0o755,
                _ => 0o644,
            };
            let is_dir = ft.is_dir();
            let id = self.add(parent, name, kind, perm);
            if is_dir {
                self.import_dir(id, &path, seen)?;
            } else if meta.nlink() > 1 {
                seen.insert((meta.dev(), meta.ino()), id);
            }
        }
        Ok(())
    }

    fn add(&mut self, parent: NodeId, name: Vec<u8>, kind: NodeKind, perm: u16) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind,
            perm,
            uid: 0,
            gid: 0,
        });
        self.link(parent, name, id);
        id
    }

    fn link(&mut self, parent: NodeId, name: Vec<u8>, id: NodeId) {
        if let NodeKind::Dir(children) = &mut self.nodes[parent].kind {
            children.insert(name, id);
        }
    }

    /// The node at an absolute path, without following symbolic links.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        let mut id = Tree::ROOT;
        for name in path.split('/').filter(|n| !n.is_empty()) {
            match &self.nodes[id].kind {
                NodeKind::Dir(children) => id = *children.get(name.as_bytes())?,
                _ => return None,
            }
        }
        Some(id)
    }

    /// The directory that will hold `path`'s last component, made (0755,
    /// root-owned) where missing, and that component.
    fn parent_of(&mut self, path: &str) -> Result<(NodeId, Vec<u8>), Error> {
        let names: Vec<&str> = path.split('/').filter(|n| !n.is_empty()).collect();
        let Some((last, dirs)) = names.split_last() else {
            return Err(Error::Tree(format!("{path:?}: not a path below /")));
        };
        let mut id = Tree::ROOT;
        for name in dirs {
            check_name(name.as_bytes(), path)?;
            let existing = match &self.nodes[id].kind {
                NodeKind::Dir(children) => children.get(name.as_bytes()).copied(),
                _ => unreachable!("only directories are descended into"),
            };
            id = match existing {
                Some(child) if matches!(self.nodes[child].kind, NodeKind::Dir(_)) => child,
                Some(_) => {
                    return Err(Error::Tree(format!("{path}: {name} is not a directory")));
                }
                None => self.add(
                    id,
                    name.as_bytes().to_vec(),
                    NodeKind::Dir(BTreeMap::new()),
                    0o755,
                ),
            };
        }
        check_name(last.as_bytes(), path)?;
        if id == Tree::ROOT && last.as_bytes() == LOST_AND_FOUND {
            return Err(Error::Tree(format!(
                "{path}: mkfs makes /lost+found itself"
            )));
        }
        Ok((id, last.as_bytes().to_vec()))
    }

    /// Applies one recipe entry. `inputs` resolves `@name` sources.
    pub fn apply(&mut self, entry: &Entry, inputs: &HashMap<String, PathBuf>) -> Result<(), Error> {
        let path = entry.path.as_str();
        let (parent, name) = self.parent_of(path)?;
        let existing = self.lookup(path);
        let existing_is_dir =
            existing.is_some_and(|id| matches!(self.nodes[id].kind, NodeKind::Dir(_)));
        let kind = match &entry.kind {
            EntryKind::Dir => {
                let id = match existing {
                    Some(id) if existing_is_dir => id,
                    Some(_) => {
                        return Err(Error::Tree(format!(
                            "{path}: exists and is not a directory"
                        )))
                    }
                    None => self.add(parent, name, NodeKind::Dir(BTreeMap::new()), 0o755),
                };
                let node = &mut self.nodes[id];
                node.perm = entry.mode.unwrap_or(node.perm);
                node.uid = entry.uid;
                node.gid = entry.gid;
                return Ok(());
            }
            EntryKind::HardLink(target) => {
                let id = self.lookup(target).ok_or_else(|| {
                    Error::Tree(format!("{path}: hard-link target {target} does not exist"))
                })?;
                if matches!(self.nodes[id].kind, NodeKind::Dir(_)) {
                    return Err(Error::Tree(format!(
                        "{path}: cannot hard-link directory {target}"
                    )));
                }
                if existing_is_dir {
                    return Err(Error::Tree(format!("{path}: a directory is in the way")));
                }
                self.link(parent, name, id);
                return Ok(());
            }
            EntryKind::File(source) => NodeKind::File(FileData::Host(resolve(source, inputs)?)),
            EntryKind::Inline(bytes) => NodeKind::File(FileData::Bytes(bytes.clone())),
            EntryKind::Symlink(target) => NodeKind::Symlink(target.as_bytes().to_vec()),
            EntryKind::CharDevice { major, minor } => NodeKind::CharDevice {
                major: *major,
                minor: *minor,
            },
            EntryKind::BlockDevice { major, minor } => NodeKind::BlockDevice {
                major: *major,
                minor: *minor,
            },
            EntryKind::Fifo => NodeKind::Fifo,
        };
        if existing_is_dir {
            return Err(Error::Tree(format!("{path}: a directory is in the way")));
        }
        let default_perm = match kind {
            NodeKind::Symlink(_) => 0o777,
            NodeKind::CharDevice { .. } | NodeKind::BlockDevice { .. } => 0o600,
            _ => 0o644,
        };
        let id = self.add(parent, name, kind, entry.mode.unwrap_or(default_perm));
        self.nodes[id].uid = entry.uid;
        self.nodes[id].gid = entry.gid;
        Ok(())
    }
}

/// The host file a source names: an input's path, or the recipe's path.
pub fn resolve(source: &Source, inputs: &HashMap<String, PathBuf>) -> Result<PathBuf, Error> {
    match source {
        Source::Input(name) => input_path(inputs, name)
            .cloned()
            .ok_or_else(|| Error::MissingInput(name.clone())),
        Source::Path(path) => Ok(path.clone()),
    }
}

/// Input `name`, whether the caller's map spells it `name` or `@name`.
pub fn input_path<'a>(inputs: &'a HashMap<String, PathBuf>, name: &str) -> Option<&'a PathBuf> {
    inputs.get(name).or_else(|| inputs.get(&format!("@{name}")))
}

/// A file name ext2 can store: 1..=255 bytes, no `/` or NUL, not `.`/`..`.
fn check_name(name: &[u8], context: &str) -> Result<(), Error> {
    if name.len() > MAX_NAME_LEN {
        return Err(Error::Tree(format!(
            "{context}: name is {} bytes, ext2 allows {MAX_NAME_LEN}",
            name.len()
        )));
    }
    if name.is_empty() || name == b"." || name == b".." || name.contains(&0) || name.contains(&b'/')
    {
        return Err(Error::Tree(format!("{context}: invalid file name")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: EntryKind) -> Entry {
        Entry {
            path: path.to_string(),
            kind,
            mode: None,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn entries_create_missing_parents() {
        let mut tree = Tree::new();
        let file = entry("/a/b/c", EntryKind::Inline(b"x".to_vec()));
        tree.apply(&file, &HashMap::new()).unwrap();
        let b = tree.lookup("/a/b").unwrap();
        assert!(matches!(tree.node(b).kind, NodeKind::Dir(_)));
        assert_eq!(tree.node(b).perm, 0o755);
        let c = tree.lookup("/a/b/c").unwrap();
        assert_eq!(
            tree.node(c).kind,
            NodeKind::File(FileData::Bytes(b"x".to_vec()))
        );
        assert_eq!(tree.node(c).perm, 0o644);
    }

    #[test]
    fn hard_link_names_the_same_node() {
        let mut tree = Tree::new();
        let none = HashMap::new();
        tree.apply(&entry("/f", EntryKind::Inline(vec![])), &none)
            .unwrap();
        tree.apply(&entry("/d/g", EntryKind::HardLink("/f".into())), &none)
            .unwrap();
        assert_eq!(tree.lookup("/f"), tree.lookup("/d/g"));
    }

    #[test]
    fn hard_link_to_a_directory_is_refused() {
        let mut tree = Tree::new();
        let none = HashMap::new();
        tree.apply(&entry("/d", EntryKind::Dir), &none).unwrap();
        let err = tree
            .apply(&entry("/e", EntryKind::HardLink("/d".into())), &none)
            .unwrap_err();
        assert!(
            err.to_string().contains("cannot hard-link directory"),
            "{err}"
        );
    }

    #[test]
    fn missing_input_is_named() {
        let mut tree = Tree::new();
        let kernel = entry(
            "/boot/kernel",
            EntryKind::File(Source::Input("kernel".into())),
        );
        let err = tree.apply(&kernel, &HashMap::new()).unwrap_err();
        assert!(
            matches!(err, Error::MissingInput(ref n) if n == "kernel"),
            "{err}"
        );
    }

    #[test]
    fn inputs_may_be_keyed_with_or_without_the_at_sign() {
        let mut tree = Tree::new();
        let kernel = entry(
            "/boot/kernel",
            EntryKind::File(Source::Input("kernel".into())),
        );
        let inputs = HashMap::from([("@kernel".to_string(), PathBuf::from("/k"))]);
        tree.apply(&kernel, &inputs).unwrap();
        let id = tree.lookup("/boot/kernel").unwrap();
        assert_eq!(
            tree.node(id).kind,
            NodeKind::File(FileData::Host("/k".into()))
        );
    }

    #[test]
    fn too_long_name_is_refused() {
        let mut tree = Tree::new();
        let path = format!("/{}", "n".repeat(256));
        let err = tree
            .apply(&entry(&path, EntryKind::Dir), &HashMap::new())
            .unwrap_err();
        assert!(err.to_string().contains("256 bytes"), "{err}");
    }

    #[test]
    fn lost_and_found_is_reserved() {
        let mut tree = Tree::new();
        let err = tree
            .apply(&entry("/lost+found", EntryKind::Dir), &HashMap::new())
            .unwrap_err();
        assert!(err.to_string().contains("lost+found"), "{err}");
    }
}
