//! What a caller sees of the shared tree: its own keys ([`Key`]), read through a [`View`] as
//! [`Value`]s, and, while it upgrades a format-1 archive, the trees format 1 left ([`Legacy`]).
//! No type of the storage engine appears here.

use std::fmt;
use std::ops::{Bound, Deref, RangeBounds};

use crate::error::{Error, Result};
use crate::id::BlobId;

/// The first byte of a caller's key: a lowercase tag. The store keeps its own keys under
/// uppercase tags.
const CALLER_TAGS: std::ops::RangeInclusive<u8> = b'a'..=b'z';
/// The first key past every caller key (`b'z' + 1`).
const CALLER_END: &[u8] = b"{";

/// A caller's key in the shared tree: checked to start with a lowercase tag (b'a'..=b'z'), so
/// that no caller writes over the store's own keys. Given to [`crate::Writer::put`] and
/// [`crate::Writer::delete`].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(Vec<u8>);

impl Key {
    /// `bytes` as a caller key; [`Error::ForeignKey`] when they do not start with a lowercase
    /// tag.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Key> {
        let bytes = bytes.into();
        if bytes.first().is_some_and(|b| CALLER_TAGS.contains(b)) {
            Ok(Key(bytes))
        } else {
            Err(Error::ForeignKey { key: bytes })
        }
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.0.escape_ascii())
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<Vec<u8>> for Key {
    type Error = Error;
    fn try_from(bytes: Vec<u8>) -> Result<Key> {
        Key::new(bytes)
    }
}

impl TryFrom<&[u8]> for Key {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Key> {
        Key::new(bytes)
    }
}

/// Bytes read from the tree (a key or a value): cheap to clone, read as a `&[u8]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Value(sled::IVec);

impl Deref for Value {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({})", self.0.escape_ascii())
    }
}

/// A read view of a tree, taken with [`crate::Store::view`] (the callers' keys of the shared
/// tree) or [`Legacy::tree`] (a tree of format 1). Reads see every commit made before them.
///
/// Drop it before [`crate::Store::close`]: it keeps the database open.
#[derive(Clone)]
pub struct View {
    tree: sled::Tree,
    /// Whether only the callers' keys are visible (the shared tree).
    callers_only: bool,
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("View")
            .field("callers_only", &self.callers_only)
            .finish_non_exhaustive()
    }
}

impl View {
    /// The view of the callers' keys of the shared tree.
    pub(crate) fn callers(tree: sled::Tree) -> View {
        View {
            tree,
            callers_only: true,
        }
    }

    /// The view of a whole tree.
    pub(crate) fn whole(tree: sled::Tree) -> View {
        View {
            tree,
            callers_only: false,
        }
    }

    fn visible(&self, key: &[u8]) -> bool {
        !self.callers_only || key.first().is_some_and(|b| CALLER_TAGS.contains(b))
    }

    /// The value of `key`, if any. In the shared tree, a key that is not a caller's has none.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        let key = key.as_ref();
        if !self.visible(key) {
            return Ok(None);
        }
        Ok(self
            .tree
            .get(key)
            .map_err(crate::dir::engine_error)?
            .map(Value))
    }

    /// Every key starting with `prefix` and its value, in key order (either way: the
    /// iterator is double-ended).
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        let prefix = prefix.as_ref();
        if prefix.is_empty() && self.callers_only {
            // Every caller key, and nothing else.
            self.range([*CALLER_TAGS.start()]..)
        } else if self.visible(prefix) {
            Iter::new(self.tree.scan_prefix(prefix))
        } else {
            Iter::empty()
        }
    }

    /// Every key in `range` and its value, in key order (either way). In the shared tree the
    /// range is cut to the callers' keys.
    pub fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter {
        let own = |b: Bound<&K>| match b {
            Bound::Included(k) => Bound::Included(k.as_ref().to_vec()),
            Bound::Excluded(k) => Bound::Excluded(k.as_ref().to_vec()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut lo = own(range.start_bound());
        let mut hi = own(range.end_bound());
        if self.callers_only {
            let first = vec![*CALLER_TAGS.start()];
            lo = match lo {
                Bound::Included(k) | Bound::Excluded(k) if k < first => Bound::Included(first),
                Bound::Unbounded => Bound::Included(first),
                other => other,
            };
            hi = match hi {
                Bound::Included(k) | Bound::Excluded(k) if k.as_slice() >= CALLER_END => {
                    Bound::Excluded(CALLER_END.to_vec())
                }
                Bound::Unbounded => Bound::Excluded(CALLER_END.to_vec()),
                other => other,
            };
        }
        // sled panics on a range whose start is past its end: such a range is empty.
        let empty = match (&lo, &hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        if empty {
            return Iter::empty();
        }
        Iter::new(self.tree.range::<Vec<u8>, _>((lo, hi)))
    }
}

/// The keys and values a [`View`] walks: `Result<(key, value)>`, in key order, double-ended.
pub struct Iter {
    inner: Option<sled::Iter>,
}

impl fmt::Debug for Iter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl Iter {
    fn new(inner: sled::Iter) -> Iter {
        Iter { inner: Some(inner) }
    }

    fn empty() -> Iter {
        Iter { inner: None }
    }
}

fn pair(kv: sled::Result<(sled::IVec, sled::IVec)>) -> Result<(Value, Value)> {
    kv.map(|(k, v)| (Value(k), Value(v)))
        .map_err(crate::dir::engine_error)
}

impl Iterator for Iter {
    type Item = Result<(Value, Value)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.as_mut()?.next().map(pair)
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.as_mut()?.next_back().map(pair)
    }
}

/// What a format-1 archive holds besides the shared tree, read by the caller's upgrade
/// ([`crate::Store::open_upgrading`]): its trees, and its bodies by id.
pub struct Legacy {
    db: crate::dir::Database,
}

impl fmt::Debug for Legacy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Legacy").finish_non_exhaustive()
    }
}

impl Legacy {
    pub(crate) fn new(db: crate::dir::Database) -> Legacy {
        Legacy { db }
    }

    /// The format-1 tree `name` (empty when the archive has none), read only.
    pub fn tree(&self, name: &str) -> Result<View> {
        let tree = self
            .db
            .sled()
            .open_tree(name)
            .map_err(crate::dir::engine_error)?;
        Ok(View::whole(tree))
    }

    /// The format-1 body `id`, decoded and re-hashed ([`Error::Corrupted`] when it does not
    /// match), or `None`.
    pub fn blob(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        crate::migrate::v1_blob(&self.db, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn keys(iter: impl Iterator<Item = Result<(Value, Value)>>) -> Vec<Vec<u8>> {
        iter.map(|kv| kv.unwrap().0.to_vec()).collect()
    }

    #[test]
    fn keys_of_the_store_are_refused_and_hidden() {
        for bad in [&b""[..], b"S", b"B\0\0\0\0", b"{", b"\xff"] {
            assert!(
                matches!(Key::new(bad), Err(Error::ForeignKey { ref key }) if key == bad),
                "{bad:?}"
            );
        }
        assert_eq!(Key::new(b"a".to_vec()).unwrap().as_bytes(), b"a");
        assert_eq!(Key::new(b"z\xff".to_vec()).unwrap().as_bytes(), b"z\xff");

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put(b"a body").unwrap();
        let mut w = store.writer();
        for k in [&b"a1"[..], b"m", b"r\0", b"r\x01", b"z\xff"] {
            w.put(Key::new(k).unwrap(), k.to_vec());
        }
        w.commit().unwrap();
        let view = store.view();
        // The store's own keys (`S`, `B`, `G`, …) are there, but not in the view.
        assert!(store.tree().get("S").unwrap().is_some());
        assert_eq!(view.get("S").unwrap(), None);
        assert_eq!(view.scan_prefix("B").count(), 0);
        assert_eq!(
            keys(view.scan_prefix(b"")),
            [&b"a1"[..], b"m", b"r\0", b"r\x01", b"z\xff"]
        );
        // Ranges are cut to the callers' keys, either way.
        assert_eq!(keys(view.range::<&[u8], _>(..)).len(), 5);
        assert_eq!(keys(view.range(&b"A"[..]..&b"n"[..])), [&b"a1"[..], b"m"]);
        assert_eq!(
            keys(view.range(&b"r"[..]..).rev()),
            [&b"z\xff"[..], b"r\x01", b"r\0"]
        );
        assert_eq!(view.range(&b"n"[..]..&b"m"[..]).count(), 0);
        assert_eq!(view.get("m").unwrap().as_deref(), Some(&b"m"[..]));
    }
}
