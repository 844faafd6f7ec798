//! Name normalisation: how names (reporters, services) are matched and indexed.

/// Normalizes a name for matching: Unicode NFC (so "Zoë" typed with a combining diaeresis is
/// the "Zoë" of the archive), lowercase, runs of whitespace collapsed to one space, surrounding
/// whitespace trimmed, control characters (including NUL) removed.
///
/// ```
/// assert_eq!(morgue_model::normalize("  Qiao\t\nLONG "), "qiao long");
/// assert_eq!(morgue_model::normalize("Zoe\u{308}"), morgue_model::normalize("Zo\u{eb}"));
/// ```
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in nfc(name).chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if !c.is_control() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The name in Unicode Normalization Form C (composed), borrowed when it already is (the
/// usual case, checked quickly).
fn nfc(name: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if is_nfc_quick(name.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(name.nfc().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalize("Qiao Long"), "qiao long");
        assert_eq!(normalize("  QIAO \t\n  LONG  "), "qiao long");
        assert_eq!(normalize("Qi\0ao\u{7}"), "qiao");
        assert_eq!(normalize("ÉLODIE Ärger"), "élodie ärger");
        assert_eq!(normalize("İ"), "i\u{307}");
        assert_eq!(normalize("a\u{a0}b"), "a b");
        assert_eq!(normalize(" \t "), "");
        assert_eq!(normalize("\0"), "");
        assert!(!normalize("x\0y\u{1}").contains('\0'));
    }
}
