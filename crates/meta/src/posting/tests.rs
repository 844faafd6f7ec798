//! Unit and property tests of the posting chunks.

use super::*;
use proptest::prelude::*;

type Db = BTreeMap<Vec<u8>, Vec<u8>>;

fn apply(db: &mut Db, staged: Staged) {
    let writes = staged.writes();
    let keys: BTreeSet<&Vec<u8>> = writes.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), writes.len(), "a key written twice");
    for (k, v) in writes {
        match v {
            Some(v) => db.insert(k, v),
            None => db.remove(&k),
        };
    }
}

/// Checks the chunk invariants and returns every name's entries.
fn check(db: &Db) -> BTreeMap<Vec<u8>, Vec<Pos>> {
    let mut out: BTreeMap<Vec<u8>, Vec<Pos>> = BTreeMap::new();
    let mut last: Option<(Vec<u8>, Pos)> = None;
    for (k, v) in db {
        let (prefix, start) = parse_key(k).unwrap();
        let entries = decode(v).unwrap();
        assert!(!entries.is_empty() && entries.len() <= MAX_ENTRIES);
        assert!(entries[0] >= start, "entry below its chunk start");
        if let Some((p, prev_last)) = &last
            && p == prefix
        {
            assert!(*prev_last < start, "chunks overlap");
        }
        last = Some((prefix.to_vec(), *entries.last().unwrap()));
        out.entry(prefix.to_vec()).or_default().extend(entries);
    }
    out
}

#[test]
fn pinned_bytes() {
    let entries = [(1u64 << 48, 5u32), (1 << 48, 7), ((1 << 48) + 1, 2)];
    let value = encode(&entries);
    // If this fails, the stored format changed: log it in docs/format.md.
    let expected: &[u8] = &[
        2, // version
        3, // count
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, // date key 2^48
        5,    // seq 5
        0, 4, // same date key, seq +2 (zigzag 4)
        1, 9, // date key +1, seq -5 (zigzag 9)
    ];
    assert_eq!(value, expected);
    assert_eq!(decode(&value).unwrap(), entries);
    let p = prefix(b'r', "qiao long");
    assert_eq!(p, b"xrqiao long\0");
    let k = key(&p, (1, 2));
    assert_eq!(&k[p.len()..], &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    assert_eq!(parse_key(&k), Some((&p[..], (1, 2))));
    assert_eq!(parse_prefix(&p), Some((b'r', "qiao long")));
    assert_eq!(parse_prefix(&prefix(b'd', "")), Some((b'd', "")));
    assert_eq!(parse_key(b"short"), None);
}

#[test]
fn decode_rejects_disorder_and_garbage() {
    assert_eq!(decode(&encode(&[])), Some(vec![]));
    let mut v = encode(&[(1, 1), (2, 2)]);
    v.push(0);
    assert_eq!(decode(&v), None, "trailing byte");
    // (1, 1) then delta (0, 0): a repeated entry.
    assert_eq!(decode(&[2, 2, 1, 1, 0, 0]), None);
    // seq going below zero.
    assert_eq!(decode(&[2, 2, 1, 1, 1, 5]), None);
    assert_eq!(
        decode(&[2, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        None,
        "huge count"
    );
    assert_eq!(decode(&[1, 0]), None, "version");
    assert_eq!(decode(&[]), None);
}

#[test]
fn splits_rekeys_and_deletes() {
    let mut db = Db::new();
    let p = prefix(b'd', "");
    // 1,000 ascending entries in one commit: two splits.
    let mut s = Staged::default();
    for i in 0..1000u32 {
        s.insert(&db, &p, (u64::from(i / 3) + 10, i)).unwrap();
    }
    apply(&mut db, s);
    let got = check(&db);
    assert_eq!(got[&p].len(), 1000);
    assert!(db.len() >= 2, "{}", db.len());
    // An entry below every chunk re-keys the first chunk.
    let mut s = Staged::default();
    s.insert(&db, &p, (1, 5000)).unwrap();
    apply(&mut db, s);
    let first = db.keys().next().unwrap();
    assert_eq!(parse_key(first).unwrap().1, (1, 5000));
    check(&db);
    // Removing everything deletes every chunk.
    let all = check(&db).remove(&p).unwrap();
    let mut s = Staged::default();
    for pos in &all {
        assert!(s.remove(&db, &p, *pos).unwrap());
    }
    assert!(!s.remove(&db, &p, (1, 5000)).unwrap());
    apply(&mut db, s);
    assert!(db.is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u64, u32),
    Remove(u8, usize),
    Commit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..3, 0u64..40, 0u32..3000).prop_map(|(n, d, s)| Op::Insert(n, d, s)),
        3 => (0u8..3, any::<usize>()).prop_map(|(n, i)| Op::Remove(n, i)),
        1 => Just(Op::Commit),
    ]
}

/// Applies writes (each key at most once) to `db`.
fn apply_writes(db: &mut Db, writes: Vec<(Vec<u8>, Option<Vec<u8>>)>) {
    let keys: BTreeSet<&Vec<u8>> = writes.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), writes.len(), "a key written twice");
    for (k, v) in writes {
        match v {
            Some(v) => db.insert(k, v),
            None => db.remove(&k),
        };
    }
}

#[test]
fn merge_adds_splits_rekeys_and_skips_present_entries() {
    let mut db = Db::new();
    let p = prefix(b'd', "");
    let other = prefix(b'e', "");
    let mut out = Vec::new();
    let adds: Vec<Pos> = (0..1000u32).map(|i| (u64::from(i / 3) + 10, i)).collect();
    merge_adds(&db, &p, &adds, &mut out).unwrap();
    merge_adds(&db, &other, &[(7, 7)], &mut out).unwrap();
    apply_writes(&mut db, out);
    let got = check(&db);
    assert_eq!(got[&p], adds);
    assert!(db.len() >= 3, "{}", db.len());
    // Below every chunk: the first chunk is re-keyed; present entries write nothing.
    let mut out = Vec::new();
    merge_adds(&db, &p, &[(1, 5000)], &mut out).unwrap();
    apply_writes(&mut db, out);
    assert_eq!(parse_key(db.keys().next().unwrap()).unwrap().1, (1, 5000));
    let mut out = Vec::new();
    merge_adds(&db, &p, &[(1, 5000), (10, 0), (343, 999)], &mut out).unwrap();
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(check(&db)[&other], vec![(7, 7)]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn merged_adds_match_a_model(
        commits in prop::collection::vec(
            (any::<bool>(), prop::collection::vec((0u8..2, 0u64..60, 0u32..4000), 0..1500)),
            1..6,
        ),
    ) {
        let names = [prefix(b'r', "a"), prefix(b'r', "ab")];
        let mut db = Db::new();
        let mut model: BTreeMap<Vec<u8>, BTreeSet<Pos>> = BTreeMap::new();
        for (bulk, adds) in commits {
            let mut per_name: BTreeMap<Vec<u8>, BTreeSet<Pos>> = BTreeMap::new();
            for (n, d, s) in adds {
                per_name.entry(names[n as usize].clone()).or_default().insert((d, s));
            }
            if bulk {
                let mut out = Vec::new();
                for (p, set) in &per_name {
                    let sorted: Vec<Pos> = set.iter().copied().collect();
                    merge_adds(&db, p, &sorted, &mut out).unwrap();
                }
                apply_writes(&mut db, out);
            } else {
                let mut staged = Staged::default();
                for (p, set) in &per_name {
                    for pos in set {
                        staged.insert(&db, p, *pos).unwrap();
                    }
                }
                apply(&mut db, staged);
            }
            for (p, set) in per_name {
                model.entry(p).or_default().extend(set);
            }
        }
        let got = check(&db);
        model.retain(|_, v| !v.is_empty());
        let want: BTreeMap<Vec<u8>, Vec<Pos>> =
            model.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn staged_chunks_match_a_model(ops in prop::collection::vec(op(), 1..2500)) {
        let names = [prefix(b'r', "a"), prefix(b'r', "ab"), prefix(b's', "a")];
        let mut db = Db::new();
        let mut model: BTreeMap<Vec<u8>, BTreeSet<Pos>> = BTreeMap::new();
        let mut staged = Staged::default();
        for op in ops {
            match op {
                Op::Insert(n, d, s) => {
                    let p = &names[n as usize];
                    staged.insert(&db, p, (d, s)).unwrap();
                    model.entry(p.clone()).or_default().insert((d, s));
                }
                Op::Remove(n, i) => {
                    let p = &names[n as usize];
                    let set = model.entry(p.clone()).or_default();
                    let pick = if set.is_empty() { None } else { set.iter().nth(i % set.len()).copied() };
                    let pos = pick.unwrap_or((99, 99));
                    prop_assert_eq!(staged.remove(&db, p, pos).unwrap(), pick.is_some());
                    set.remove(&pos);
                }
                Op::Commit => apply(&mut db, std::mem::take(&mut staged)),
            }
        }
        apply(&mut db, staged);
        let got = check(&db);
        model.retain(|_, v| !v.is_empty());
        let want: BTreeMap<Vec<u8>, Vec<Pos>> =
            model.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect();
        prop_assert_eq!(got, want);
    }
}
