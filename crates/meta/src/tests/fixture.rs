//! The archive written by format version 1 is upgraded at open and reads back identically.
//!
//! The fixture in `crates/meta/tests/fixtures/v1` was written by [`write_fixture`]:
//! `MORGUE_WRITE_FIXTURE=crates/meta/tests/fixtures/v1 cargo test -p morgue-meta --lib
//! write_fixture -- --ignored` (from the workspace root, into a missing directory).

use std::path::{Path, PathBuf};

use super::day;
use crate::{Archive, ArticleDate, BlobId, DateOrigin, Draft, MergePolicy, Query, Record};

fn drafts() -> Vec<Draft> {
    vec![
        Draft {
            body: "Fixture one. Reported by Jane Roe for the Example Desk.".into(),
            record: Record {
                title: "Fixture one".into(),
                reporters: vec!["Jane Roe".into(), "John DOE".into()],
                translators: vec!["T. Ranslator".into()],
                editors: vec!["E. Ditor".into()],
                writers: vec!["W. Riter".into()],
                services: vec!["Example Desk".into()],
                outlet: "Example Outlet".into(),
                date: Some(ArticleDate {
                    day: day(2017, 6, 20),
                    time: Some(45_296),
                    precision: crate::DatePrecision::Day,
                }),
                date_origin: Some(DateOrigin::Given),
                url: "https://example.invalid/one".into(),
                image: "one-062017.jpg".into(),
                caption: "A caption.".into(),
                tags: vec!["alpha".into(), "beta".into()],
                source_id: "src-1".into(),
                origin: "fixture.jsonl".into(),
                imported_at: Some(1_700_000_000),
                extra: [("lang".to_string(), "\"en\"".to_string())]
                    .into_iter()
                    .collect(),
                original: None,
            },
            original: None,
        },
        Draft {
            body: "Fixture two, without a time of day.".into(),
            record: Record {
                title: "Fixture two".into(),
                reporters: vec!["jane  roe".into()],
                services: vec!["Other Desk".into()],
                date: Some(ArticleDate::from_day(day(1999, 12, 31))),
                date_origin: Some(DateOrigin::Inferred),
                imported_at: Some(1_700_000_001),
                ..Record::default()
            },
            original: None,
        },
        Draft {
            body: "Fixture three, undated.".into(),
            record: Record {
                imported_at: Some(1_700_000_002),
                ..Record::default()
            },
            original: None,
        },
    ]
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
#[ignore = "writes the fixture; run by hand when a new format version is released"]
fn write_fixture() {
    let dir = PathBuf::from(std::env::var_os("MORGUE_WRITE_FIXTURE").unwrap());
    assert!(!dir.exists(), "{} exists", dir.display());
    let archive = Archive::open(&dir).unwrap();
    archive.add_batch(drafts(), MergePolicy::FillEmpty).unwrap();
    archive.flush().unwrap();
    drop(archive);
    // The lock file is recreated at open.
    std::fs::remove_file(dir.join("LOCK")).unwrap();
}

/// A copy of the fixture in a fresh temporary directory, or `None` when the fixture is absent.
fn copy_fixture() -> Option<(tempfile::TempDir, PathBuf)> {
    let src = fixture();
    if !src.exists() {
        eprintln!("no fixture at {}: skipped", src.display());
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    copy_dir(&src, &dir);
    Some((tmp, dir))
}

/// Everything format 1 held, read back through the upgraded archive.
fn check_upgraded(archive: &Archive) {
    for d in drafts() {
        let id = BlobId::of(d.body.as_bytes());
        assert_eq!(archive.record(&id).unwrap(), Some(d.record));
        assert_eq!(archive.body(&id).unwrap().unwrap(), d.body.as_bytes());
    }
    let q = Query {
        reporter: Some("Jane Roe".into()),
        ..Query::default()
    };
    let titles: Vec<String> = archive
        .query(&q)
        .unwrap()
        .map(|h| h.unwrap().record.title)
        .collect();
    assert_eq!(titles, ["Fixture one", "Fixture two"]);
    let all: Vec<String> = archive
        .query(&Query::default())
        .unwrap()
        .map(|h| h.unwrap().record.title)
        .collect();
    assert_eq!(all, ["Fixture one", "Fixture two", ""]);
    let q = Query {
        service: Some("example desk".into()),
        since: Some(day(2017, 1, 1)),
        ..Query::default()
    };
    assert_eq!(archive.query(&q).unwrap().count(), 1);
    let facets = |f: Vec<crate::Facet>| -> Vec<(String, u64)> {
        f.into_iter().map(|f| (f.name, f.count)).collect()
    };
    assert_eq!(
        facets(archive.reporters().unwrap()),
        [("Jane Roe".to_string(), 2), ("John DOE".to_string(), 1)]
    );
    assert_eq!(
        facets(archive.services().unwrap()),
        [
            ("Example Desk".to_string(), 1),
            ("Other Desk".to_string(), 1)
        ]
    );
    let mut ids: Vec<BlobId> = archive.iter().map(|r| r.unwrap().0).collect();
    ids.sort();
    let mut want: Vec<BlobId> = drafts()
        .iter()
        .map(|d| BlobId::of(d.body.as_bytes()))
        .collect();
    want.sort();
    assert_eq!(ids, want);
    let report = archive.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.articles, report.index_entries), (3, 3 + 3 + 2));
    let stats = archive.stats().unwrap();
    assert_eq!(stats.per_year, [(1999, 1), (2017, 1)]);
    assert_eq!(stats.articles, 3);
    let raw: usize = drafts().iter().map(|d| d.body.len()).sum();
    assert_eq!(stats.raw_bytes, raw as u64);
}

/// The sled database of the closed archive at `dir`, opened directly: in the directory the
/// `SLED` pointer file names, else in the archive directory (docs/format.md).
fn sled_of(dir: &Path) -> sled::Db {
    let at = match std::fs::read_to_string(dir.join("SLED")) {
        Ok(name) => dir.join(name.trim_end()),
        Err(_) => dir.to_path_buf(),
    };
    sled::open(at).unwrap()
}

/// The format version in the header of the archive at `dir`.
fn header_version(dir: &Path) -> u32 {
    let header = std::fs::read(dir.join("MORGUE")).unwrap();
    u32::from_be_bytes(header[header.len() - 4..].try_into().unwrap())
}

fn tree_names(dir: &Path) -> Vec<String> {
    sled_of(dir)
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

#[test]
fn version_1_fixture_is_upgraded_and_reads_back() {
    let Some((_tmp, dir)) = copy_fixture() else {
        return;
    };
    {
        let archive = Archive::open(&dir).unwrap();
        assert_eq!(archive.upgraded_from(), Some(1));
        check_upgraded(&archive);
    }
    let names = tree_names(&dir);
    for v1 in crate::v1::TREES {
        assert!(!names.iter().any(|n| n == v1), "{v1} left: {names:?}");
    }
    let archive = Archive::open(&dir).unwrap();
    assert_eq!(archive.upgraded_from(), None);
    assert_eq!(header_version(&dir), 2);
    check_upgraded(&archive);
}

#[test]
fn an_interrupted_upgrade_is_redone() {
    let Some((_tmp, dir)) = copy_fixture() else {
        return;
    };
    // A crash before the header changed: half-written format-2 keys in the `morgue` tree.
    {
        let db = sled_of(&dir);
        assert_eq!(header_version(&dir), 1);
        let tree = db.open_tree("morgue").unwrap();
        tree.insert(b"m", &b"garbage"[..]).unwrap();
        tree.insert(b"r\0\0\0\0", &b"garbage"[..]).unwrap();
        tree.insert(b"S", &b"garbage"[..]).unwrap();
        db.flush().unwrap();
    }
    // ... and body files the store had begun (if it keeps bodies in files of its own).
    let packs = dir.join("packs");
    std::fs::create_dir_all(&packs).unwrap();
    std::fs::write(packs.join("00000000.pack"), b"half a pack file").unwrap();
    std::fs::write(packs.join("00000001.pack"), b"another").unwrap();
    {
        let archive = Archive::open(&dir).unwrap();
        assert_eq!(archive.upgraded_from(), Some(1));
        check_upgraded(&archive);
    }
    // A crash after the header changed, before the format-1 trees were dropped.
    {
        let db = sled_of(&dir);
        let old = db.open_tree(crate::v1::RECORDS_TREE).unwrap();
        old.insert(b"left over", &b"x"[..]).unwrap();
        db.flush().unwrap();
    }
    let archive = Archive::open(&dir).unwrap();
    assert_eq!(archive.upgraded_from(), None);
    check_upgraded(&archive);
    drop(archive);
    assert!(
        !tree_names(&dir)
            .iter()
            .any(|n| n == crate::v1::RECORDS_TREE)
    );
}

/// Writes a format-1 archive by hand (header, `blobs` with raw values, `meta:records`,
/// `meta:facets`) holding `articles`; returns its facets: (tag, first spelling, count).
fn write_v1(dir: &Path, articles: &[(String, Record)]) -> Vec<(u8, String, u64)> {
    std::fs::create_dir_all(dir).unwrap();
    let mut header = b"\x89morgue\n".to_vec();
    header.extend_from_slice(&1u32.to_be_bytes());
    std::fs::write(dir.join("MORGUE"), header).unwrap();
    let db = sled_of(dir);
    assert_eq!(header_version(dir), 1);
    let blobs = db.open_tree("blobs").unwrap();
    let records = db.open_tree(crate::v1::RECORDS_TREE).unwrap();
    let facets = db.open_tree(crate::v1::FACETS_TREE).unwrap();
    let mut spellings: std::collections::BTreeMap<Vec<u8>, (u64, String)> =
        std::collections::BTreeMap::new();
    for (body, record) in articles {
        let id = BlobId::of(body.as_bytes());
        // Format-1 blob value: [01][codec 00 raw][raw length u32 BE][bytes].
        let mut value = vec![1, 0];
        value.extend_from_slice(&(body.len() as u32).to_be_bytes());
        value.extend_from_slice(body.as_bytes());
        blobs.insert(id.as_bytes(), value).unwrap();
        records
            .insert(
                id.as_bytes(),
                crate::codec::encode(record, body.len() as u64),
            )
            .unwrap();
        for (tag, names) in [(1u8, &record.reporters), (2, &record.services)] {
            let mut seen = Vec::new();
            for n in names {
                let norm = crate::normalize(n);
                if norm.is_empty() || seen.contains(&norm) {
                    continue;
                }
                let mut key = vec![tag];
                key.extend_from_slice(norm.as_bytes());
                spellings.entry(key).or_insert((0, n.clone())).0 += 1;
                seen.push(norm);
            }
        }
    }
    let mut out = Vec::new();
    for (key, (count, first)) in spellings {
        let mut value = vec![1];
        value.extend_from_slice(&count.to_be_bytes());
        value.extend_from_slice(first.as_bytes());
        facets.insert(&key[..], value).unwrap();
        out.push((key[0], first, count));
    }
    db.flush().unwrap();
    out
}

#[test]
fn a_generated_format_1_archive_upgrades_whole() {
    let reporters = ["Ann Lee", "ANN  lee", "Bob", "Chen Wei", ""];
    let services = ["Mandarin", "Khmer", "MANDARIN", "Uyghur"];
    let articles: Vec<(String, Record)> = (0..2600u32)
        .map(|i| {
            let date = (i % 7 != 0).then(|| ArticleDate {
                day: day(2000 + (i % 20) as i32, 1 + i % 12, 1 + i % 28),
                time: (i % 3 == 0).then_some(i * 13 % 86_400),
                precision: crate::DatePrecision::Day,
            });
            let record = Record {
                title: format!("Title {i}"),
                reporters: (0..i % 3)
                    .map(|k| reporters[((i + k) % 5) as usize].to_string())
                    .collect(),
                services: vec![services[(i % 4) as usize].to_string()],
                date,
                date_origin: date.map(|_| DateOrigin::Parsed),
                imported_at: (i % 5 != 0).then_some(1_600_000_000 + i64::from(i)),
                ..Record::default()
            };
            (format!("Body of generated article {i}."), record)
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    let v1_facets = write_v1(&dir, &articles);
    let a = Archive::open(&dir).unwrap();
    assert_eq!(a.upgraded_from(), Some(1));
    for (body, record) in &articles {
        let id = BlobId::of(body.as_bytes());
        assert_eq!(a.record(&id).unwrap().as_ref(), Some(record));
        assert_eq!(a.body(&id).unwrap().unwrap(), body.as_bytes());
    }
    let report = a.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.articles, 2600);
    // Facets: the same names, counts and first spellings as format 1 had.
    let facets = |list: Vec<crate::Facet>, tag: u8| -> Vec<(u8, String, u64)> {
        list.into_iter().map(|f| (tag, f.name, f.count)).collect()
    };
    let mut now = facets(a.reporters().unwrap(), 1);
    now.extend(facets(a.services().unwrap(), 2));
    now.sort();
    let mut before = v1_facets;
    before.sort();
    assert_eq!(now, before);
    assert!(before.iter().any(|(_, name, _)| name == "ANN  lee"));
    // Queries: what the records say, newest first (ties: id order, the upgrade's seq order).
    let q = Query {
        reporter: Some("ann lee".into()),
        service: Some("mandarin".into()),
        since: Some(day(2005, 1, 1)),
        ..Query::default()
    };
    let mut want: Vec<(u64, BlobId)> = articles
        .iter()
        .filter(|(_, r)| {
            r.reporters.iter().any(|n| crate::normalize(n) == "ann lee")
                && r.services.iter().any(|n| crate::normalize(n) == "mandarin")
                && r.date.is_some_and(|d| d.day >= day(2005, 1, 1))
        })
        .map(|(b, r)| (crate::keys::date_key(r.date), BlobId::of(b.as_bytes())))
        .collect();
    want.sort_by(|x, y| y.cmp(x));
    let got: Vec<BlobId> = a.query(&q).unwrap().map(|h| h.unwrap().id).collect();
    assert!(!want.is_empty());
    assert_eq!(got, want.into_iter().map(|(_, id)| id).collect::<Vec<_>>());
    drop(a);
    assert!(
        !tree_names(&dir)
            .iter()
            .any(|n| crate::v1::TREES.contains(&n.as_str()))
    );
}
