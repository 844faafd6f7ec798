//! LEB128 varints (7 bits per byte, least significant group first, high bit = more follows) and
//! zigzag, as used inside record blocks and posting chunks.

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 varint from the front of `input`, advancing it. `None` when the
/// input ends inside the varint or the value does not fit 64 bits.
pub(crate) fn get(input: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        let bits = u64::from(b & 0x7f);
        if shift == 63 && bits > 1 {
            return None;
        }
        v |= bits << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Zigzag: 0, -1, 1, -2, 2 … -> 0, 1, 2, 3, 4 …
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bytes() {
        let mut out = Vec::new();
        put(&mut out, 0);
        put(&mut out, 127);
        put(&mut out, 128);
        put(&mut out, 300);
        assert_eq!(out, [0, 127, 0x80, 1, 0xac, 2]);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(unzigzag(3), -2);
        // Eleven continuation bytes, or a tenth byte above 1, do not fit 64 bits.
        assert_eq!(get(&mut &[0xff; 11][..]), None);
        assert_eq!(
            get(&mut &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2][..]),
            None
        );
        assert_eq!(get(&mut &[0x80][..]), None);
    }

    proptest! {
        #[test]
        fn round_trip(v: u64, z: i64) {
            let mut out = Vec::new();
            put(&mut out, v);
            let mut input = &out[..];
            prop_assert_eq!(get(&mut input), Some(v));
            prop_assert!(input.is_empty());
            prop_assert_eq!(unzigzag(zigzag(z)), z);
        }
    }
}
