//! Parquet: `export --format parquet` read back by `import` (the round trip), by DuckDB and by
//! pyarrow, and a Hugging Face style file written by pyarrow imported with its metadata.
//!
//! DuckDB and pyarrow come from the Python environment `.ci/run` creates
//! (`$HOME/.cache/morgue-venv`, or the interpreter named by `$MORGUE_PYTHON`); without them those
//! tests print a notice and skip. The round trip on Reuters needs the shared corpus.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Env, bare_cmd, stderr, workspace_root};

/// Articles written for this test: several services (one with `/` and `=`), a year, a month, a
/// day, a date-time, no date, extra fields, list fields.
const FIXTURE: &str = r#"{"title": "Port Reopens", "body": "The port reopened on Thursday.\n\nShips came in.", "services": ["AC/DC=rock", "Wire"], "reporters": ["Ann Lee", "Bo Chan"], "date": "1987-02-26T15:01:01Z", "tags": ["ports", "ships"], "language": "en", "n": [1, 2]}
{"title": "Year Only", "body": "A story known by its year.", "service": "Wire", "date": "1987", "editors": ["Ed Ito"]}
{"title": "Month Only", "body": "A story known by its month.", "service": "Wire", "date": "1988-03", "translators": ["Tra Nslator"]}
{"title": "No Date", "body": "A story with no date and no service.", "url": "https://example.org/x", "outlet": "Daily"}
{"title": "Day", "body": "Café society, 中文 text, and a tab\there.", "service": "Mandarin", "date": "2017-06-20", "writers": ["W. Riter"], "source_id": "s-17"}
"#;

/// An archive holding examples/ and the fixture.
fn archive_with_fixture(env: &Env) -> PathBuf {
    env.import_examples();
    let fixture = env.dir.path().join("fixture.jsonl");
    std::fs::write(&fixture, FIXTURE).unwrap();
    let out = env.cmd().arg("import").arg(&fixture).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fixture
}

/// The JSON Lines export, its lines sorted (a Parquet round trip keeps the lines, not their
/// order: the import reads the partitions in name order).
fn sorted_export(archive: &Path) -> Vec<String> {
    let out = bare_cmd()
        .arg("--archive")
        .arg(archive)
        .arg("export")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn export_parquet(archive: &Path, dir: &Path, extra: &[&str]) {
    let out = bare_cmd()
        .arg("--archive")
        .arg(archive)
        .args(["export", "--format", "parquet"])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn round_trip(env: &Env, original: &Path) {
    let dataset = env.dir.path().join("dataset");
    export_parquet(original, &dataset, &[]);
    assert!(!env.dir.path().join("dataset.partial").exists());
    let copy = env.dir.path().join("copy");
    let out = bare_cmd()
        .arg("--archive")
        .arg(&copy)
        .arg("import")
        .arg(&dataset)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = sorted_export(original);
    let after = sorted_export(&copy);
    assert!(!before.is_empty());
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a, b);
    }
}

#[test]
fn parquet_export_imports_into_an_identical_archive() {
    let env = Env::new();
    archive_with_fixture(&env);
    round_trip(&env, &env.archive);
    // Hive partitions by first service and year, escaped; none is Hive's null partition.
    let dataset = env.dir.path().join("dataset");
    for dir in [
        "service=AC%2FDC%3Drock/year=1987",
        "service=Wire/year=1987",
        "service=Wire/year=1988",
        "service=__HIVE_DEFAULT_PARTITION__/year=__HIVE_DEFAULT_PARTITION__",
    ] {
        assert!(
            dataset.join(dir).join("part-0.parquet").is_file(),
            "{dir} missing"
        );
    }
}

#[test]
fn parquet_round_trip_on_reuters() {
    let corpus = std::env::var_os("MORGUE_CORPUS").map_or_else(
        || workspace_root().join("..").join("shared").join("corpus"),
        PathBuf::from,
    );
    let reuters = corpus.join("reuters-21578.jsonl.zst");
    if !reuters.is_file() {
        eprintln!(
            "notice: {} not found; skipping (set MORGUE_CORPUS)",
            reuters.display()
        );
        return;
    }
    let env = Env::new();
    let out = env.cmd().arg("import").arg(&reuters).output().unwrap();
    // One malformed date is a warning; nothing fails.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    round_trip(&env, &env.archive);
}

#[test]
fn export_filters_no_body_and_a_taken_destination() {
    let env = Env::new();
    archive_with_fixture(&env);
    let wire = env.dir.path().join("wire");
    export_parquet(
        &env.archive,
        &wire,
        &["--service", "wire", "--since", "1988", "--no-body"],
    );
    // One article: Month Only (1988-03); the metadata-only files are refused by import, naming
    // the file.
    let copy = env.dir.path().join("copy");
    let out = bare_cmd()
        .arg("--archive")
        .arg(&copy)
        .arg("import")
        .arg(&wire)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("service=Wire/year=1988/part-0.parquet: no body column"),
        "{err}"
    );
    assert!(
        !wire.join("service=Wire/year=1987").exists(),
        "--since 1988 exports no 1987 article"
    );

    // A destination that is taken is refused; nothing is changed.
    let out = env
        .cmd()
        .args(["export", "--format", "parquet"])
        .arg(&wire)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("exists and is not an empty directory"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["export", "--format", "parquet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("writes a directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_parquet_rows_and_files_are_named_by_file_and_row() {
    let env = Env::new();
    let dir = env.dir.path().join("bad");
    std::fs::create_dir(&dir).unwrap();
    let mut n = 0;
    for sample in morgue_parquet::samples::hostile(&mut |tag| {
        n += 1;
        format!("Body {n} for {tag}.")
    }) {
        std::fs::write(dir.join(sample.name), &sample.bytes).unwrap();
    }
    let out = env.cmd().arg("import").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for line in [
        "/body-number.parquet:1: field `body`: expected a string, found a number",
        "/body-number.parquet:2: field `body`: expected a string, found a number",
        "/no-body.parquet: no body column: none of the columns body, text, maintext, content, article (the file has title, url)",
        "/truncated.parquet: not a readable Parquet file: ",
        "/billion-rows.parquet: damaged Parquet file: ",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("error: ") && l.contains(line)),
            "no {line:?} in:\n{err}"
        );
    }
    assert!(
        err.contains("/timestamp-out-of-range.parquet:1: column `date`: timestamp 9223372036854775807 (microseconds) out of range; kept in extra"),
        "{err}"
    );
}

/// The Python interpreter with duckdb and pyarrow, or `None` (after a notice).
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("MORGUE_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/morgue-venv/bin/python"))
        })?;
    let works = Command::new(&candidate)
        .args(["-c", "import duckdb, pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        Some(candidate)
    } else {
        eprintln!(
            "notice: no Python with duckdb and pyarrow at {} (set MORGUE_PYTHON, or run .ci/run \
             once); skipping",
            candidate.display()
        );
        None
    }
}

fn run_python(python: &Path, script: &str, args: &[&Path]) -> Value {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const READ_EXPORT: &str = r#"
import json, sys
import duckdb, pyarrow.dataset as ds
root, wanted = sys.argv[1], sys.argv[2]
glob = root + "/**/*.parquet"
con = duckdb.connect()
rows = con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning = true)", [glob]).fetchone()[0]
per_service = dict(con.execute(
    "SELECT s, count(*) FROM (SELECT unnest(services) AS s FROM read_parquet(?)) GROUP BY s", [glob]).fetchall())
body = con.execute("SELECT body FROM read_parquet(?) WHERE id = ?", [glob, wanted]).fetchone()[0]
partition = con.execute(
    "SELECT DISTINCT service FROM read_parquet(?, hive_partitioning = true) WHERE id = ?", [glob, wanted]).fetchone()[0]
date_type = con.execute("SELECT typeof(date) FROM read_parquet(?) LIMIT 1", [glob]).fetchone()[0]
table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
pa_body = [b for i, b in zip(table.column("id").to_pylist(), table.column("body").to_pylist()) if i == wanted]
print(json.dumps({"rows": rows, "per_service": per_service, "body": body, "partition": partition,
                  "date_type": date_type, "pyarrow_rows": table.num_rows, "pyarrow_body": pa_body,
                  "pyarrow_services": str(table.schema.field("services").type)}))
"#;

#[test]
fn duckdb_and_pyarrow_read_the_export() {
    let Some(python) = python() else { return };
    let env = Env::new();
    archive_with_fixture(&env);
    let dataset = env.dir.path().join("dataset");
    export_parquet(&env.archive, &dataset, &[]);
    let id = env.id_of("Port Reopens");
    let result = run_python(&python, READ_EXPORT, &[&dataset, Path::new(&id)]);

    let total = env.list_json(&[]).len() as u64;
    assert_eq!(result["rows"], total);
    assert_eq!(result["pyarrow_rows"], total);
    let services: Vec<Value> =
        serde_json::from_str(&env.ok(&["services", "--format", "json"])).unwrap();
    assert!(!services.is_empty());
    for service in &services {
        let name = service["name"].as_str().unwrap();
        assert_eq!(
            result["per_service"][name], service["count"],
            "service {name}: {result}"
        );
    }
    let body = env.ok(&["cat", &id]);
    assert_eq!(result["body"].as_str(), Some(body.as_str()));
    assert_eq!(result["pyarrow_body"][0].as_str(), Some(body.as_str()));
    // The escaped partition value reads back unescaped.
    assert_eq!(result["partition"], "AC/DC=rock");
    assert_eq!(result["date_type"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(result["pyarrow_services"], "list<item: string>");
}

const WRITE_DATASET: &str = r#"
import sys, datetime
import pyarrow as pa, pyarrow.parquet as pq
utc = datetime.timezone.utc
table = pa.table({
    "text": ["First story, written for morgue's tests.", "Second story, written for morgue's tests."],
    "title": ["First", "Second"],
    "date": pa.array([datetime.datetime(2019, 3, 15, 8, 30, tzinfo=utc), None], pa.timestamp("ns", tz="UTC")),
    "url": ["https://example.org/1", "https://example.org/2"],
    "authors": pa.array([["Ann Lee", "Bo Chan"], []], pa.list_(pa.string())),
    "publication": ["Daily", "Weekly"],
    "score": [0.5, 1.5],
})
pq.write_table(table, sys.argv[1])
print("{}")
"#;

#[test]
fn a_dataset_written_by_pyarrow_imports_with_its_metadata() {
    let Some(python) = python() else { return };
    let env = Env::new();
    let dir = env.dir.path().join("hf/split=train");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("data-00000.parquet");
    run_python(&python, WRITE_DATASET, &[&file]);
    let out = env
        .cmd()
        .arg("import")
        .arg(env.dir.path().join("hf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = env.list_json(&[]);
    assert_eq!(listed.len(), 2);
    let first = listed.iter().find(|a| a["title"] == "First").unwrap();
    assert_eq!(first["date"], "2019-03-15T08:30:00Z");
    assert_eq!(
        first["reporters"],
        serde_json::json!(["Ann Lee", "Bo Chan"])
    );
    assert_eq!(first["url"], "https://example.org/1");
    assert_eq!(first["outlet"], "Daily");
    assert_eq!(first["extra"]["score"], 0.5);
    assert_eq!(first["extra"]["split"], "train");
    let second = listed.iter().find(|a| a["title"] == "Second").unwrap();
    assert_eq!(second["date"], Value::Null);
    assert_eq!(second["reporters"], serde_json::json!([]));
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        env.ok(&["cat", id]),
        "First story, written for morgue's tests."
    );
}
