//! Blob ids and hex prefixes of them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The id of a blob: the blake3 hash of its uncompressed bytes.
///
/// Displays as 64 lowercase hex characters and parses from 64 hex characters (either case).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobId([u8; 32]);

impl BlobId {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(*blake3::hash(bytes).as_bytes())
    }

    /// From the 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> BlobId {
        BlobId(bytes)
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From a stored key, when it is exactly 32 bytes long.
    pub(crate) fn from_key(key: &[u8]) -> Option<BlobId> {
        <[u8; 32]>::try_from(key).ok().map(BlobId)
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({self})")
    }
}

impl FromStr for BlobId {
    type Err = Error;

    /// Parses 64 hex characters (upper or lower case); anything else is [`Error::InvalidId`].
    fn from_str(s: &str) -> Result<Self> {
        let prefix = Prefix::parse(s)?;
        match (prefix.half, <[u8; 32]>::try_from(prefix.bytes.as_slice())) {
            (None, Ok(bytes)) => Ok(BlobId(bytes)),
            _ => Err(Error::InvalidId {
                prefix: s.to_owned(),
            }),
        }
    }
}

/// The shortest prefix [`crate::Store::resolve`] accepts, in hex characters.
pub const MIN_PREFIX_LEN: usize = 4;

/// A validated hex prefix of an id: 4 to 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prefix {
    /// The prefix in lowercase.
    pub(crate) text: String,
    /// The whole bytes it names.
    pub(crate) bytes: Vec<u8>,
    /// The trailing half byte of an odd-length prefix.
    pub(crate) half: Option<u8>,
}

impl Prefix {
    /// Validates `s`: 4 to 64 ASCII hex digits, either case.
    pub(crate) fn parse(s: &str) -> Result<Prefix> {
        let invalid = || Error::InvalidId {
            prefix: s.to_owned(),
        };
        if !(MIN_PREFIX_LEN..=64).contains(&s.len()) {
            return Err(invalid());
        }
        let mut nibbles = Vec::with_capacity(s.len());
        for c in s.bytes() {
            let n = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(invalid()),
            };
            nibbles.push(n);
        }
        let pairs = nibbles.chunks_exact(2);
        let half = pairs.remainder().first().copied();
        let bytes = pairs.map(|p| (p[0] << 4) | p[1]).collect();
        Ok(Prefix {
            text: s.to_ascii_lowercase(),
            bytes,
            half,
        })
    }

    /// Whether `key` starts with this prefix.
    pub(crate) fn matches(&self, key: &[u8]) -> bool {
        if !key.starts_with(&self.bytes) {
            return false;
        }
        match self.half {
            None => true,
            Some(h) => key.get(self.bytes.len()).is_some_and(|b| b >> 4 == h),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change of hash function or of what is hashed must not slip through.
    #[test]
    fn pinned_digest() {
        assert_eq!(
            BlobId::of(b"morgue").to_string(),
            PINNED_MORGUE_DIGEST,
            "blake3(b\"morgue\") changed"
        );
        assert_eq!(
            BlobId::of(b"").to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    const PINNED_MORGUE_DIGEST: &str =
        "abe96b27047c26fa265c9babf6e601d5d59a2783a8d3e816caafd5bfbc7f4386";

    #[test]
    fn display_and_parse_round_trip() {
        let id = BlobId::of(b"some bytes");
        let text = id.to_string();
        assert_eq!(text.len(), 64);
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_eq!(text.parse::<BlobId>().unwrap(), id);
        assert_eq!(text.to_ascii_uppercase().parse::<BlobId>().unwrap(), id);
        assert_eq!(format!("{id:?}"), format!("BlobId({text})"));
        assert_eq!(BlobId::from_bytes(*id.as_bytes()), id);
    }

    #[test]
    fn parse_rejects_non_ids() {
        let id = BlobId::of(b"x").to_string();
        for bad in [
            "",
            "abcd",
            &id[..63],
            &format!("{id}0"),
            &id.replace('a', "g"),
        ] {
            if bad == id {
                continue;
            }
            let err = bad.parse::<BlobId>().unwrap_err();
            assert!(
                matches!(err, Error::InvalidId { ref prefix } if prefix == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn prefix_parsing() {
        let p = Prefix::parse("3FA9c").unwrap();
        assert_eq!(p.text, "3fa9c");
        assert_eq!(p.bytes, vec![0x3f, 0xa9]);
        assert_eq!(p.half, Some(0xc));
        assert!(p.matches(&[0x3f, 0xa9, 0xc0, 1]));
        assert!(p.matches(&[0x3f, 0xa9, 0xcf]));
        assert!(!p.matches(&[0x3f, 0xa9, 0xd0]));
        assert!(!p.matches(&[0x3f, 0xa9]));
        assert!(!p.matches(&[0x3f, 0xa8, 0xc0]));

        let even = Prefix::parse("00ff").unwrap();
        assert_eq!(
            (even.bytes.as_slice(), even.half),
            (&[0x00, 0xff][..], None)
        );
        assert!(even.matches(&[0, 0xff, 7]));

        for bad in ["abc", "", "abcg", "ab cd", "ünïcode", &"a".repeat(65)] {
            assert!(
                matches!(Prefix::parse(bad), Err(Error::InvalidId { ref prefix }) if prefix == bad),
                "{bad:?}"
            );
        }
        assert!(Prefix::parse(&"A".repeat(64)).is_ok());
    }
}
