//! morgue's analyzer: how a title, a body and a query become terms.
//!
//! 1. Unicode word segmentation (UAX #29, the `unicode-segmentation` crate); runs of anything
//!    but letters, digits and marks separate words. The Tibetan tsheg and shad separate too.
//! 2. Words of scripts written with spaces (Latin, Greek, Cyrillic, Arabic and so Uyghur,
//!    Hebrew, Devanagari, Tibetan syllables, ...) are one term each, lowercased and folded:
//!    Latin, Greek and Cyrillic letters lose their diacritics (`Vávra` -> `vavra`, Vietnamese
//!    `Nguyễn` -> `nguyen`, `đ` -> `d`), and a few letters are spelled out (`ß` -> `ss`,
//!    `æ` -> `ae`, `ø` -> `o`, `ł` -> `l`). No stemming, no stop words.
//! 3. Runs of characters of the scripts written without spaces between words — Han,
//!    Hiragana, Katakana, Hangul (Korean attaches particles to words), and Thai, Lao, Khmer
//!    and Myanmar — become overlapping bigrams of characters (`水电站` -> `水电`, `电站`), as
//!    Lucene's CJKAnalyzer does; a run of one character is one term (a unigram). A query
//!    string of two or more such characters is a phrase of its bigrams, so it finds exactly
//!    the texts that contain the string.
//!
//! Every term has a position (one per term, bigrams included), for phrases.

use unicode_segmentation::UnicodeSegmentation;

/// Words longer than this (in bytes, folded) are not indexed: no one searches for them, and
/// tantivy refuses terms of 64 KiB.
pub const MAX_TERM_BYTES: usize = 200;

/// One term of a text: its folded text, where it came from (byte offsets) and its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as indexed.
    pub text: String,
    /// Byte offset of its first character in the analyzed text.
    pub from: usize,
    /// Byte offset just past its last character.
    pub to: usize,
    /// Its position (0, 1, 2, ...).
    pub position: usize,
}

/// The scripts cut into bigrams.
pub(crate) fn is_bigram_char(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF        // Thai, Lao
        | 0x1000..=0x109F      // Myanmar
        | 0x1780..=0x17FF      // Khmer
        | 0x19E0..=0x19FF      // Khmer symbols
        | 0x1100..=0x11FF      // Hangul Jamo
        | 0x2E80..=0x2FDF      // CJK radicals, Kangxi radicals
        | 0x3005..=0x3007      // 々 〆 〇
        | 0x3021..=0x3029      // Hangzhou numerals
        | 0x3031..=0x3035      // kana repeat marks
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3130..=0x318F      // Hangul compatibility Jamo
        | 0x31F0..=0x31FF      // Katakana phonetic extensions
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xA960..=0xA97F      // Hangul Jamo extended A
        | 0xA9E0..=0xA9FF      // Myanmar extended B
        | 0xAA60..=0xAA7F      // Myanmar extended A
        | 0xAC00..=0xD7FF      // Hangul syllables, Jamo extended B
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFF66..=0xFFDC      // halfwidth Katakana, Hangul
        | 0x1B000..=0x1B16F    // kana supplement, extended
        | 0x20000..=0x3FFFF    // CJK extensions B and later
    )
}

/// Characters that separate words even inside one UAX #29 word: Tibetan tsheg, shad and
/// their kin.
fn is_separator(c: char) -> bool {
    matches!(c as u32, 0x0F04..=0x0F14)
}

/// Whether a character is part of a word (a letter, a digit, or a mark on one).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Combining marks of the common blocks (enough to keep vowel signs inside words).
fn is_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0670 | 0x06D6..=0x06ED | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957
        | 0x0962 | 0x0963 | 0x0981..=0x0983 | 0x09BC..=0x09D7 | 0x0E31 | 0x0E34..=0x0E3A
        | 0x0E47..=0x0E4E | 0x0EB1 | 0x0EB4..=0x0EBC | 0x0EC8..=0x0ECE | 0x0F18 | 0x0F19
        | 0x0F35 | 0x0F37 | 0x0F39 | 0x0F3E | 0x0F3F | 0x0F71..=0x0F84 | 0x0F86 | 0x0F87
        | 0x0F8D..=0x0FBC | 0x0FC6 | 0x102B..=0x103E | 0x1056..=0x1059 | 0x105E..=0x1060
        | 0x1062..=0x1064 | 0x1067..=0x106D | 0x1071..=0x1074 | 0x1082..=0x108D | 0x108F
        | 0x109A..=0x109D | 0x17B4..=0x17D3 | 0x17DD | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF
        | 0x200C | 0x200D | 0x20D0..=0x20FF | 0x302A..=0x302F | 0x3099 | 0x309A
        | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F
    )
}

/// Lowercases and folds one character into `out` (see the module documentation).
pub(crate) fn fold_char(c: char, out: &mut String) {
    for l in c.to_lowercase() {
        match l {
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'ø' => out.push('o'),
            'đ' | 'ð' => out.push('d'),
            'ł' => out.push('l'),
            'ı' => out.push('i'),
            'þ' => out.push_str("th"),
            // Latin, Greek, Cyrillic (and their extended blocks): drop the diacritics.
            l if (l as u32) < 0x0530 || (0x1E00..=0x1FFF).contains(&(l as u32)) => {
                unicode_normalization::char::decompose_canonical(l, |d| {
                    if !(0x0300..=0x036F).contains(&(d as u32)) {
                        out.push(d);
                    }
                });
            }
            l => out.push(l),
        }
    }
}

/// The folded form of a word.
pub(crate) fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// Analyzes `text` into its terms, in order.
pub fn analyze(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    analyze_into(text, &mut |t| out.push(t));
    out
}

/// A run of bigram characters being gathered: (offset, char), contiguous in the text.
struct Run(Vec<(usize, char)>);

impl Run {
    fn flush(&mut self, position: &mut usize, emit: &mut dyn FnMut(Term)) {
        match self.0.len() {
            0 => {}
            1 => {
                let (at, c) = self.0[0];
                let mut text = String::new();
                fold_char(c, &mut text);
                emit(Term {
                    text,
                    from: at,
                    to: at + c.len_utf8(),
                    position: *position,
                });
                *position += 1;
            }
            _ => {
                for pair in self.0.windows(2) {
                    let ((a, ca), (b, cb)) = (pair[0], pair[1]);
                    let mut text = String::new();
                    fold_char(ca, &mut text);
                    fold_char(cb, &mut text);
                    emit(Term {
                        text,
                        from: a,
                        to: b + cb.len_utf8(),
                        position: *position,
                    });
                    *position += 1;
                }
            }
        }
        self.0.clear();
    }

    fn end(&self) -> Option<usize> {
        self.0.last().map(|&(at, c)| at + c.len_utf8())
    }
}

/// Analyzes `text`, handing each term to `emit` in order.
pub fn analyze_into(text: &str, emit: &mut dyn FnMut(Term)) {
    analyze_lent(text, &mut |t, from, to, position| {
        emit(Term {
            text: t.to_string(),
            from,
            to,
            position,
        });
    });
}

/// [`analyze_into`] lending each term's text (term, from, to, position) instead of handing
/// over a `String`: the indexer copies it into a buffer it reuses.
///
/// The text is cut at ASCII white space, where UAX #29 always puts a word boundary whatever
/// comes before or after. A piece of ASCII characters only (most of most news) is cut into
/// its runs of letters and digits, lowercased, without segmentation (UAX #29 never breaks
/// between two ASCII letters or digits, and the analysis splits at every other character);
/// any other piece goes through the whole analysis ([`analyze_piece`]). The terms are those
/// of `analyze_piece` over the whole text (tested).
pub(crate) fn analyze_lent(text: &str, emit: &mut dyn FnMut(&str, usize, usize, usize)) {
    let bytes = text.as_bytes();
    let mut position = 0;
    let mut word = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut ascii = true;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            ascii &= bytes[i].is_ascii();
            i += 1;
        }
        if !ascii {
            analyze_piece(text, start..i, &mut position, &mut |t| {
                emit(&t.text, t.from, t.to, t.position);
            });
            continue;
        }
        let mut j = start;
        while j < i {
            if !bytes[j].is_ascii_alphanumeric() {
                j += 1;
                continue;
            }
            let from = j;
            while j < i && bytes[j].is_ascii_alphanumeric() {
                j += 1;
            }
            if j - from <= MAX_TERM_BYTES {
                word.clear();
                word.extend(
                    bytes[from..j]
                        .iter()
                        .map(|b| b.to_ascii_lowercase() as char),
                );
                emit(&word, from, j, position);
                position += 1;
            }
        }
    }
}

/// The whole analysis of `text[range]` (offsets in `text`), positions counted on from
/// `position`: UAX #29 words, split further at what is not a word character, folded, and
/// runs of bigram characters cut into bigrams.
pub(crate) fn analyze_piece(
    text: &str,
    range: std::ops::Range<usize>,
    position: &mut usize,
    emit: &mut dyn FnMut(Term),
) {
    let mut run = Run(Vec::new());
    let base = range.start;
    for (start, segment) in text[range].split_word_bound_indices() {
        let start = base + start;
        // Pieces of the segment: words of one kind, split at separators and non-word chars.
        let mut word_from: Option<usize> = None;
        for (i, c) in segment.char_indices() {
            let at = start + i;
            if is_bigram_char(c) || (is_mark(c) && word_from.is_none() && run.end() == Some(at)) {
                if let Some(from) = word_from.take() {
                    emit_word(text, from, at, position, emit);
                }
                if run.end().is_some_and(|end| end != at) {
                    run.flush(position, emit);
                }
                run.0.push((at, c));
            } else if is_word_char(c) && !is_separator(c) {
                if word_from.is_none() {
                    run.flush(position, emit);
                    word_from = Some(at);
                }
            } else {
                if let Some(from) = word_from.take() {
                    emit_word(text, from, at, position, emit);
                }
                run.flush(position, emit);
            }
        }
        if let Some(from) = word_from {
            emit_word(text, from, start + segment.len(), position, emit);
        }
    }
    run.flush(position, emit);
}

fn emit_word(text: &str, from: usize, to: usize, position: &mut usize, emit: &mut dyn FnMut(Term)) {
    let folded = fold(&text[from..to]);
    if folded.is_empty() || folded.len() > MAX_TERM_BYTES {
        return;
    }
    emit(Term {
        text: folded,
        from,
        to,
        position: *position,
    });
    *position += 1;
}
