//! Fixtures written for morgue (no corpus text).

use proptest::prelude::*;

use super::*;
use crate::analyze::analyze;

fn terms(text: &str) -> Vec<String> {
    analyze(text).into_iter().map(|t| t.text).collect()
}

#[test]
fn ascii_words_are_lowercased_and_overlong_ones_skipped_without_a_position() {
    let long = "x".repeat(crate::analyze::MAX_TERM_BYTES + 1);
    let text = format!("OPEC's {long} Quota-2024, café");
    let got: Vec<(String, usize)> = analyze(&text)
        .into_iter()
        .map(|t| (t.text, t.position))
        .collect();
    let want = [
        ("opec", 0),
        ("s", 1),
        ("quota", 2),
        ("2024", 3),
        ("cafe", 4),
    ];
    let want: Vec<(String, usize)> = want.iter().map(|(t, p)| (t.to_string(), *p)).collect();
    assert_eq!(got, want);
}

/// A tokenizer reused for a shorter text gives only that text's tokens.
#[test]
fn a_reused_tokenizer_forgets_the_previous_text() {
    let mut tokenizer = MorgueTokenizer::default();
    let mut first = Vec::new();
    let mut stream = tokenizer.token_stream("Oil prices rose sharply today");
    while stream.advance() {
        first.push(stream.token().text.clone());
    }
    assert_eq!(first.len(), 5);
    let mut second = Vec::new();
    let mut stream = tokenizer.token_stream("水电 Dam");
    while stream.advance() {
        second.push((stream.token().text.clone(), stream.token().offset_from));
    }
    assert_eq!(second, [("水电".to_string(), 0), ("dam".to_string(), 7)]);
}

/// An index of `(title, body)` fixtures, seq = position in the list.
fn index(docs: &[(&str, &str)]) -> (tempfile::TempDir, TextIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = TextIndex::open_writable(&dir.path().join("text")).unwrap();
    for (seq, (title, body)) in docs.iter().enumerate() {
        index.add(seq as u64, title, body).unwrap();
    }
    index.commit(docs.len() as u64).unwrap();
    (dir, index)
}

fn seqs(index: &TextIndex, query: &str) -> Vec<u64> {
    let q = TextQuery::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut s: Vec<u64> = index
        .search(&q, None)
        .unwrap()
        .iter()
        .map(|f| f.seq)
        .collect();
    s.sort_unstable();
    s
}

const DOCS: &[(&str, &str)] = &[
    // 0: English, accents
    (
        "Strike at the port",
        "Dockworkers led by Jiří Vávra walked out over interest rates and pay.",
    ),
    // 1: English
    (
        "Mortgage rates",
        "Interest rates on a mortgage rose; the cartel met in Vienna.",
    ),
    // 2: Chinese
    (
        "水电站建设",
        "当局宣布在澜沧江上修建新的水电站，村民被迫搬迁。",
    ),
    // 3: Korean with particles
    (
        "북한 소식",
        "대통령이 평양에서 연설했다. 주민들은 식량을 요구했다.",
    ),
    // 4: Japanese
    (
        "ニュース",
        "東京でデモが行われた。参加者はカタカナとひらがなを使った。",
    ),
    // 5: Tibetan
    ("བོད་ཀྱི་གནས་ཚུལ།", "ཏཱ་ལའི་བླ་མ་མཆོག་གིས་གསུང་བཤད་གནང་།"),
    // 6: Uyghur (Arabic script)
    (
        "ئۇيغۇر خەۋەرلىرى",
        "ئۈرۈمچىدە نامايىش بولدى ۋە ساقچىلار كەلدى",
    ),
    // 7: Vietnamese
    (
        "Tin tức",
        "Ông Nguyễn Văn Đức bị bắt tại Hà Nội vì viết blog.",
    ),
    // 8: OPEC, no accents
    (
        "OPEC meets",
        "The oil cartel OPEC agreed on a quota; Vavra was not there.",
    ),
];

#[test]
fn words_are_folded_and_lowercased() {
    assert_eq!(terms("Vávra VÁVRA vavra"), ["vavra", "vavra", "vavra"]);
    assert_eq!(terms("Nguyễn Văn Đức"), ["nguyen", "van", "duc"]);
    assert_eq!(terms("Straße Łódź Øresund"), ["strasse", "lodz", "oresund"]);
    // Decomposed input folds like composed input.
    assert_eq!(terms("Va\u{301}vra"), ["vavra"]);
    // No stemming.
    assert_eq!(terms("rates rated"), ["rates", "rated"]);
}

#[test]
fn cjk_runs_become_bigrams_and_a_lone_char_a_unigram() {
    assert_eq!(terms("水电站"), ["水电", "电站"]);
    assert_eq!(terms("水"), ["水"]);
    assert_eq!(terms("在 水 里"), ["在", "水", "里"]);
    // Mixed scripts: the run ends at the Latin word.
    assert_eq!(terms("OPEC石油会议"), ["opec", "石油", "油会", "会议"]);
    // Korean words keep their particles in the text; bigrams find the stem.
    assert_eq!(terms("대통령이"), ["대통", "통령", "령이"]);
    let positions: Vec<usize> = analyze("水电站 大坝").iter().map(|t| t.position).collect();
    assert_eq!(positions, [0, 1, 2]);
}

#[test]
fn tibetan_splits_on_the_tsheg_and_uyghur_on_spaces() {
    assert_eq!(terms("བླ་མ་མཆོག"), ["བླ", "མ", "མཆོག"]);
    assert_eq!(terms("ئۈرۈمچىدە نامايىش"), ["ئۈرۈمچىدە", "نامايىش"]);
}

#[test]
fn thai_is_cut_into_bigrams() {
    // "ข่าว" (news): consonants with their vowel and tone marks.
    let t = terms("ข่าวไทย");
    assert!(t.len() >= 2, "{t:?}");
    assert!(
        t.iter()
            .all(|x| x.chars().count() <= 2 || x.contains('\u{0E48}')),
        "{t:?}"
    );
}

#[test]
fn offsets_point_at_the_words() {
    let text = "Jiří Vávra, 水电站";
    let v: Vec<&str> = analyze(text).iter().map(|t| &text[t.from..t.to]).collect();
    assert_eq!(v, ["Jiří", "Vávra", "水电", "电站"]);
}

#[test]
fn words_are_anded() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "interest rates"), [0, 1]);
    assert_eq!(seqs(&i, "interest mortgage"), [1]);
    assert_eq!(seqs(&i, "interest nowhere"), Vec::<u64>::new());
}

#[test]
fn accented_names_match_either_way() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "Vavra"), [0, 8]);
    assert_eq!(seqs(&i, "vávra"), [0, 8]);
    assert_eq!(seqs(&i, "VÁVRA jiri"), [0]);
}

#[test]
fn vietnamese_with_and_without_diacritics() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "Nguyễn Đức"), [7]);
    assert_eq!(seqs(&i, "nguyen duc"), [7]);
    assert_eq!(seqs(&i, "\"Hà Nội\""), [7]);
}

#[test]
fn phrases_need_the_words_in_order() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "\"interest rates\""), [0, 1]);
    assert_eq!(seqs(&i, "\"rates interest\""), Vec::<u64>::new());
    assert_eq!(seqs(&i, "\"oil cartel\""), [8]);
}

#[test]
fn or_and_exclusion() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "opec OR mortgage"), [1, 8]);
    assert_eq!(seqs(&i, "cartel -opec"), [1]);
    assert_eq!(seqs(&i, "\"interest rates\" -mortgage"), [0]);
    assert_eq!(seqs(&i, "cartel -\"oil cartel\""), [1]);
    assert_eq!(seqs(&i, "rates OR quota cartel"), [1, 8]);
}

#[test]
fn prefixes() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "mortg*"), [1]);
    assert_eq!(seqs(&i, "dock*"), [0]);
    assert_eq!(seqs(&i, "\"interest ra\"*"), [0, 1]);
}

#[test]
fn fields() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "title:strike"), [0]);
    assert_eq!(seqs(&i, "body:strike"), Vec::<u64>::new());
    assert_eq!(seqs(&i, "title:mortgage"), [1]);
    assert_eq!(seqs(&i, "body:mortgage"), [1]);
    assert_eq!(seqs(&i, "title:\"mortgage rates\""), [1]);
    assert_eq!(seqs(&i, "cartel -title:opec"), [1]);
}

#[test]
fn chinese_japanese_korean() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "水电站"), [2]);
    assert_eq!(seqs(&i, "水电"), [2]);
    assert_eq!(seqs(&i, "村民搬迁"), Vec::<u64>::new(), "not contiguous");
    assert_eq!(seqs(&i, "村民 搬迁"), [2]);
    // Korean: the word without its particle.
    assert_eq!(seqs(&i, "대통령"), [3]);
    assert_eq!(seqs(&i, "평양"), [3]);
    assert_eq!(seqs(&i, "식량"), [3]);
    assert_eq!(seqs(&i, "東京"), [4]);
    assert_eq!(seqs(&i, "カタカナ"), [4]);
    assert_eq!(seqs(&i, "ひらがな"), [4]);
}

#[test]
fn tibetan_and_uyghur() {
    let (_d, i) = index(DOCS);
    assert_eq!(seqs(&i, "བླ་མ"), [5]);
    assert_eq!(seqs(&i, "མཆོག"), [5]);
    assert_eq!(seqs(&i, "نامايىش"), [6]);
    assert_eq!(seqs(&i, "ئۈرۈمچىدە"), [6]);
}

#[test]
fn deletes_by_seq_and_covered_survives_reopening() {
    let (d, i) = index(DOCS);
    i.delete(8).unwrap();
    i.commit(9).unwrap();
    assert_eq!(seqs(&i, "vavra"), [0]);
    assert_eq!(i.len().unwrap(), 8);
    drop(i);
    let i = TextIndex::open(&d.path().join("text")).unwrap();
    assert_eq!(i.covered().unwrap(), Some(9));
    assert_eq!(i.seqs().unwrap(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(matches!(i.add(9, "a", "b"), Err(Error::ReadOnly { .. })));
}

#[test]
fn a_missing_index_is_a_typed_error() {
    let d = tempfile::tempdir().unwrap();
    assert!(matches!(
        TextIndex::open(&d.path().join("text")),
        Err(Error::Missing { .. })
    ));
    let i = TextIndex::open_writable(&d.path().join("text")).unwrap();
    assert_eq!(i.covered().unwrap(), None);
}

#[test]
fn merge_leaves_one_segment() {
    let (_d, i) = index(&DOCS[..3]);
    i.add(3, "more", "more words").unwrap();
    i.commit(4).unwrap();
    i.delete(0).unwrap();
    i.commit(4).unwrap();
    assert!(i.segments().unwrap() >= 2);
    i.merge().unwrap();
    assert_eq!(i.segments().unwrap(), 1);
    assert_eq!(i.seqs().unwrap(), [1, 2, 3]);
    assert_eq!(i.covered().unwrap(), Some(4));
    // The merged segments' files are gone: one segment's postings are left on disk.
    let postings = std::fs::read_dir(i.dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("idx".as_ref()))
        .count();
    assert_eq!(postings, 1);
}

#[test]
fn merge_plan_keeps_the_large_segments_and_merges_the_small_ones() {
    // (live, deleted) per segment; the positions merged.
    type Case = (&'static [(u32, u32)], &'static [usize]);
    let cases: &[Case] = &[
        (&[], &[]),
        (&[(10, 0)], &[]),
        // One segment is rewritten alone only to drop its deleted documents.
        (&[(10, 1)], &[0]),
        (&[(0, 3)], &[0]),
        // Equal segments are merged.
        (&[(10, 0), (10, 0)], &[0, 1]),
        // A large one is kept; the two small ones together are more than a quarter of the
        // next: merged.
        (&[(100, 0), (10, 0), (10, 0)], &[1, 2]),
        (&[(10, 0), (100, 0), (10, 0)], &[0, 2]),
        // A staircase (each at least 4 times all smaller ones): nothing to do.
        (&[(100, 0), (20, 0), (5, 0)], &[]),
        (&[(5, 0), (100, 0), (20, 0)], &[]),
        // Just under the ratio: everything.
        (&[(99, 0), (20, 0), (5, 0)], &[0, 1, 2]),
        // A deleted document in the large segment: it is rewritten, with all smaller ones.
        (&[(100, 1), (1, 0)], &[0, 1]),
        // In a small one: that one and the smaller ones, not the large one.
        (&[(1000, 0), (100, 1), (10, 0)], &[1, 2]),
    ];
    for (segments, merged) in cases {
        assert_eq!(merge_plan(segments), *merged, "{segments:?}");
    }
}

proptest! {
    /// After the merge a plan asks for, the plan asks for nothing, and there are at most
    /// 1 + log4(documents) segments.
    #[test]
    fn a_merge_leaves_nothing_to_merge(
        segments in proptest::collection::vec((1u32..1_000_000, 0u32..3), 0..40)
    ) {
        let segments: Vec<(u32, u32)> = segments
            .into_iter()
            .map(|(live, d)| (live, u32::from(d == 0)))
            .collect();
        let merged = merge_plan(&segments);
        prop_assert!(merged.windows(2).all(|w| w[0] < w[1]));
        let mut after: Vec<(u32, u32)> = segments
            .iter()
            .enumerate()
            .filter(|(i, _)| !merged.contains(i))
            .map(|(_, s)| *s)
            .collect();
        let sum: u32 = merged.iter().map(|&i| segments[i].0).sum();
        if sum > 0 {
            after.push((sum, 0));
        }
        prop_assert!(merge_plan(&after).is_empty(), "{:?} -> {:?}", segments, after);
        let docs: u32 = after.iter().map(|s| s.0).sum();
        let most = 1 + (f64::from(docs.max(1))).log(4.0).floor() as usize + 1;
        prop_assert!(after.len() <= most, "{:?}", after);
    }
}

#[test]
fn merge_keeps_a_large_segment_and_merges_the_small_ones_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let i = TextIndex::open_writable(&dir.path().join("text")).unwrap();
    for seq in 0..40 {
        i.add(seq, "old story", &format!("body number{seq}"))
            .unwrap();
    }
    i.commit(40).unwrap();
    let segment_ids = || -> Vec<_> {
        i.segment_metas()
            .unwrap()
            .iter()
            .map(tantivy::SegmentMeta::id)
            .collect()
    };
    // One segment of 40, whatever the indexing threads made of them.
    let ids = segment_ids();
    if ids.len() > 1 {
        i.writer().unwrap().merge(&ids).wait().unwrap();
    }
    let large = segment_ids();
    assert_eq!(large.len(), 1);
    // Two small imports (of 5 documents each, so no segment of theirs is 4 times the
    // others): their segments are merged into one, the large one (4 times them) left alone.
    for seq in 40..50 {
        i.add(seq, "new story", "body").unwrap();
        if seq % 5 == 4 {
            i.commit(seq + 1).unwrap();
        }
    }
    assert!(i.segments().unwrap() >= 3);
    i.merge().unwrap();
    let metas = i.segment_metas().unwrap();
    assert_eq!(metas.len(), 2);
    assert!(
        metas
            .iter()
            .any(|m| m.id() == large[0] && m.num_docs() == 40)
    );
    assert_eq!(i.seqs().unwrap(), (0..50).collect::<Vec<_>>());
    let q = TextQuery::parse("story").unwrap();
    assert_eq!(i.search(&q, None).unwrap().len(), 50);
    // A removed article in the large segment: everything is rewritten, the article's words
    // are gone from the disk.
    i.delete(7).unwrap();
    i.commit(50).unwrap();
    i.merge().unwrap();
    assert_eq!(i.segments().unwrap(), 1);
    let metas = i.segment_metas().unwrap();
    assert_eq!((metas[0].num_docs(), metas[0].num_deleted_docs()), (49, 0));
    let q = TextQuery::parse("number7").unwrap();
    assert!(i.search(&q, None).unwrap().is_empty());
}

#[test]
fn search_sees_each_commit_and_merge_made_after_the_reader() {
    let (_d, i) = index(&DOCS[..3]);
    let q = TextQuery::parse("more").unwrap();
    assert!(i.search(&q, None).unwrap().is_empty());
    i.add(3, "more", "more words").unwrap();
    i.commit(4).unwrap();
    assert_eq!(i.len().unwrap(), 4);
    assert_eq!(i.search(&q, None).unwrap()[0].seq, 3);
    i.delete(3).unwrap();
    i.commit(4).unwrap();
    assert!(i.search(&q, None).unwrap().is_empty());
    i.merge().unwrap();
    assert_eq!(i.seqs().unwrap(), [0, 1, 2]);
}

#[test]
fn clear_empties() {
    let (_d, i) = index(DOCS);
    i.clear().unwrap();
    i.add(0, "x", "only").unwrap();
    i.commit(1).unwrap();
    assert_eq!(i.seqs().unwrap(), [0]);
}

#[test]
fn bm25_ranks_the_denser_match_first() {
    let (_d, i) = index(&[
        (
            "one",
            "coffee and much else besides, tea, sugar, cocoa and rubber",
        ),
        ("coffee", "coffee coffee prices"),
    ]);
    let hits = i
        .search(&TextQuery::parse("coffee").unwrap(), None)
        .unwrap();
    assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [1, 0]);
    assert!(hits[0].score > hits[1].score);
    let one = i
        .search(&TextQuery::parse("coffee").unwrap(), Some(1))
        .unwrap();
    assert_eq!(one.len(), 1);
}

#[test]
fn parse_errors_say_what_is_wrong() {
    let e = |q: &str| TextQuery::parse(q).unwrap_err();
    assert_eq!(e(""), QueryError::Empty);
    assert_eq!(e("   "), QueryError::Empty);
    assert_eq!(e("\"open"), QueryError::UnclosedQuote { at: 1 });
    assert_eq!(e("a \"b c"), QueryError::UnclosedQuote { at: 3 });
    assert_eq!(e("OR a"), QueryError::DanglingOr { at: 1 });
    assert_eq!(e("a OR"), QueryError::DanglingOr { at: 3 });
    assert_eq!(e("a OR OR b"), QueryError::DanglingOr { at: 6 });
    assert_eq!(e("-a OR b"), QueryError::ExcludedAlternative { at: 4 });
    assert_eq!(e("a OR -b"), QueryError::ExcludedAlternative { at: 6 });
    assert_eq!(e("-a"), QueryError::OnlyExclusions);
    assert!(matches!(e("a -"), QueryError::Dangling { at: 3, .. }));
    assert!(matches!(e("title: a"), QueryError::Dangling { at: 1, .. }));
    assert!(matches!(e("*"), QueryError::Dangling { at: 1, .. }));
    assert!(matches!(e("a !!"), QueryError::NoTerms { at: 3, .. }));
    assert_eq!(
        e("\"open").to_string(),
        "the quote at character 1 is not closed"
    );
}

#[test]
fn parse_shapes() {
    let q = TextQuery::parse("a OR b -c title:\"d e\" f*").unwrap();
    assert_eq!(q.groups.len(), 3);
    assert_eq!(q.groups[0].len(), 2);
    assert_eq!(q.excluded.len(), 1);
    assert_eq!(q.groups[1][0].scope, Scope::Title);
    assert_eq!(q.groups[1][0].terms, ["d", "e"]);
    assert!(q.groups[2][0].prefix);
    // Lowercase "or" is a word; other colons are text.
    let q = TextQuery::parse("a or b").unwrap();
    assert_eq!(q.groups.len(), 3);
    let q = TextQuery::parse("10:30").unwrap();
    assert_eq!(q.groups[0][0].terms, ["10", "30"]);
}

#[test]
fn snippets_mark_the_words() {
    let q = TextQuery::parse("\"interest rates\" vavra -pay").unwrap();
    let s = snippet(&q, DOCS[0].1, 200);
    assert_eq!(
        s.marked("[", "]"),
        "Dockworkers led by Jiří [Vávra] walked out over [interest] [rates] and pay."
    );
    // Cut around the match, whitespace collapsed.
    let body = format!(
        "{} the needle\n\n  is here {}",
        "word ".repeat(100),
        "tail ".repeat(100)
    );
    let s = snippet(&TextQuery::parse("needle").unwrap(), &body, 40);
    assert!(
        s.text.starts_with('…') && s.text.ends_with('…'),
        "{}",
        s.text
    );
    assert!(
        s.marked("[", "]").contains("the [needle] is here"),
        "{}",
        s.text
    );
    assert!(s.text.chars().count() <= 42);
    // CJK: the bigrams merge into one mark.
    let s = snippet(&TextQuery::parse("水电站").unwrap(), DOCS[2].1, 100);
    assert!(
        s.marked("[", "]").contains("新的[水电站]，"),
        "{}",
        s.marked("[", "]")
    );
    // Prefixes are marked; no match: the start of the body.
    let s = snippet(&TextQuery::parse("dock*").unwrap(), DOCS[0].1, 100);
    assert!(s.marked("<", ">").starts_with("<Dockworkers>"));
    let s = snippet(&TextQuery::parse("strike").unwrap(), DOCS[0].1, 11);
    assert_eq!(s.marked("[", "]"), "Dockworkers…");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn parsing_never_panics(q in "\\PC{0,40}") {
        let _ = TextQuery::parse(&q);
    }

    #[test]
    fn parsing_syntax_soup_never_panics(q in "[a-z水 \"*:()OR-]{0,30}|(title|body|-|OR| |\"|\\*|:|x)*") {
        if let Ok(parsed) = TextQuery::parse(&q) {
            prop_assert!(!parsed.groups.is_empty());
            prop_assert!(parsed.groups.iter().flatten().all(|a| !a.terms.is_empty()));
        }
    }

    #[test]
    fn the_ascii_fast_path_gives_the_terms_of_the_whole_analysis(
        text in "([a-zA-Z0-9 .,:'_\\-\n\t\r]|[éÉßøđẞİı水电站대통령かナ]|\u{0301}|\u{200D}|\u{00AD}|་|ئۇيغۇر|\\PC){0,60}"
    ) {
        let mut reference = Vec::new();
        crate::analyze::analyze_piece(&text, 0..text.len(), &mut 0, &mut |t| reference.push(t));
        prop_assert_eq!(analyze(&text), reference);
    }

    #[test]
    fn analysis_offsets_are_char_boundaries(text in "\\PC{0,60}") {
        for t in analyze(&text) {
            prop_assert!(text.is_char_boundary(t.from) && text.is_char_boundary(t.to));
            prop_assert!(t.from < t.to);
        }
    }

    #[test]
    fn a_word_of_a_text_finds_it(words in proptest::collection::vec("[a-zA-Zéü水电站대통령]{1,8}", 1..6), pick in 0usize..6) {
        let body = words.join(" ");
        let word = &words[pick % words.len()];
        let q = TextQuery::parse(&format!("\"{word}\"")).unwrap();
        let (_d, i) = index(&[("", &body)]);
        prop_assert_eq!(i.search(&q, None).unwrap().len(), 1);
        let s = snippet(&q, &body, 1000);
        prop_assert!(!s.marks.is_empty());
    }
}

/// tantivy 0.27's phrase scorer asserts (in debug builds) that an exclusion never seeks
/// behind it, and its `Exclude` does exactly that when the excluded phrase's first match comes
/// after the first included document. Seen in CI as a flaky `or_and_exclusion` (segment layout
/// decided which scorer was excluded); here the layout is fixed: one segment, the plain
/// `cartel` first, the phrase after it.
#[test]
fn excluding_a_phrase_that_matches_later_in_the_segment() {
    let docs: &[(&str, &str)] = &[
        ("Quota", "The cartel kept its quota."),
        ("Oil", "The oil cartel met in Vienna."),
        ("Oil again", "An oil cartel again."),
        ("Other", "The cartel said nothing."),
    ];
    let (_d, i) = index(docs);
    assert_eq!(seqs(&i, "cartel -body:\"oil cartel\""), [0, 3]);
    assert_eq!(seqs(&i, "cartel -title:\"oil again\""), [0, 1, 3]);
    assert_eq!(seqs(&i, "cartel -\"oil cartel\""), [0, 3]);
    assert_eq!(seqs(&i, "cartel -\"oil ca\"*"), [0, 3]);
}

#[test]
fn the_best_n_are_every_hit_truncated() {
    // Three segments (a commit each), scores that tie (identical documents) and that differ
    // (how often the word occurs, how long the body is).
    let dir = tempfile::tempdir().unwrap();
    let index = TextIndex::open_writable(&dir.path().join("text")).unwrap();
    let mut seq = 0;
    for segment in 0..3 {
        for i in 0..40u64 {
            let body = match i % 4 {
                0 => "oil".to_string(),
                1 => "oil oil price".to_string(),
                2 => format!("oil {}", "filler ".repeat(i as usize)),
                _ => "price of grain".to_string(),
            };
            index.add(seq, &format!("story {segment}"), &body).unwrap();
            seq += 1;
        }
        index.commit(seq).unwrap();
    }
    assert!(index.segments().unwrap() >= 2);
    for query in ["oil", "price", "oil OR grain", "story", "nothing"] {
        let q = TextQuery::parse(query).unwrap();
        let all = index.search(&q, None).unwrap();
        for n in [0, 1, 2, 7, 30, 59, 60, 61, 200] {
            let best = index.search(&q, Some(n)).unwrap();
            assert_eq!(best, all[..n.min(all.len())], "{query} best {n}");
        }
    }
}

#[test]
fn the_best_n_of_long_postings_are_every_hit_truncated() {
    // Postings of thousands of documents, in blocks of 128 that the best-n search may skip by
    // their maximum score: long runs of identical documents (ties, broken by the higher seq
    // across blocks), scores that differ, and deleted documents.
    let dir = tempfile::tempdir().unwrap();
    let index = TextIndex::open_writable(&dir.path().join("text")).unwrap();
    let mut seq = 0;
    for i in 0..4_000u64 {
        let body = if i % 500 < 300 {
            "oil".to_string()
        } else {
            format!(
                "oil {}{}",
                "oil ".repeat((i % 7) as usize),
                "filler ".repeat((i % 13) as usize)
            )
        };
        let title = if i % 3 == 0 { "oil story" } else { "story" };
        index.add(seq, title, &body).unwrap();
        seq += 1;
    }
    index.commit(seq).unwrap();
    for deleted in (0..seq).step_by(37) {
        index.delete(deleted).unwrap();
    }
    index.commit(seq).unwrap();
    for query in [
        "oil",
        "story",
        "oil OR filler",
        "title:oil",
        "oil story",
        "oil -filler",
    ] {
        let q = TextQuery::parse(query).unwrap();
        let all = index.search(&q, None).unwrap();
        assert!(all.len() > 1_000, "{query}: {} hits", all.len());
        assert!(
            all.iter().all(|f| f.seq % 37 != 0),
            "{query}: a deleted hit"
        );
        for n in [1, 5, 50, 299, 300, 301, 1_000] {
            let best = index.search(&q, Some(n)).unwrap();
            assert_eq!(best, all[..n.min(all.len())], "{query} best {n}");
        }
    }
}

/// Segments of the given document counts, as tantivy's writer lists them to its merge policy.
fn segment_metas(docs: &[u32]) -> Vec<tantivy::index::SegmentMeta> {
    let index = tantivy::Index::create_in_ram(tantivy::schema::Schema::builder().build());
    docs.iter()
        .map(|&n| index.new_segment_meta(tantivy::index::SegmentId::generate_random(), n))
        .collect()
}

/// No background merge takes more than its bound of documents, or a segment larger than an
/// eighth of it, and every merge merges two segments or more.
#[test]
fn background_merges_stay_within_their_bound() {
    use tantivy::indexer::MergePolicy as _;
    let policy = BoundedMerges::new(1_000);
    // Thirty segments of one size (one level, all merged at once by the policy it bounds),
    // a few large ones, and a level of small ones.
    let mut docs = vec![120; 30];
    docs.extend([125, 126, 500, 5_000]);
    docs.extend([10; 9]);
    let metas = segment_metas(&docs);
    let merges = policy.compute_merge_candidates(&metas);
    assert!(!merges.is_empty(), "nothing merged");
    let size = |id: &tantivy::index::SegmentId| {
        metas
            .iter()
            .find(|m| m.id() == *id)
            .map(|m| u64::from(m.num_docs()))
            .unwrap()
    };
    let mut seen = std::collections::HashSet::new();
    let mut merged = 0;
    for merge in &merges {
        assert!(merge.0.len() >= 2, "a merge of one segment");
        let total: u64 = merge.0.iter().map(size).sum();
        assert!(total <= 1_000, "a merge of {total} documents");
        for id in &merge.0 {
            assert!(size(id) <= 125, "a segment of {} merged", size(id));
            assert!(seen.insert(*id), "a segment in two merges");
        }
        merged += merge.0.len();
    }
    // Eight segments of 120 fit a merge of 1,000: the thirty make three merges and a rest
    // of six (with 125: seven), merged too; the nine small ones make their own.
    assert!(merged >= 30, "only {merged} segments merged");

    // The same segments under tantivy's own policy: one merge of all thirty (3,600 documents).
    let unbounded = tantivy::indexer::LogMergePolicy::default().compute_merge_candidates(&metas);
    assert!(
        unbounded
            .iter()
            .any(|m| m.0.iter().map(size).sum::<u64>() > 1_000)
    );
}

/// A writable index merges in the background under that bound.
#[test]
fn the_writer_merges_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let index = TextIndex::open_writable(dir.path()).unwrap();
    let policy = format!("{:?}", index.writer().unwrap().get_merge_policy());
    assert!(policy.starts_with("BoundedMerges"), "{policy}");
    assert!(
        policy.contains(&format!("max_docs: {MAX_BACKGROUND_MERGE_DOCS}")),
        "{policy}"
    );
}
