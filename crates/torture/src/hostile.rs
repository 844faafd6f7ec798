//! Hostile inputs: a directory of everything an importer can be handed by mistake or malice,
//! with what morgue must make of each, and the check of one `morgue import` over all of it.
//!
//! Every input is one of: **good** (must be stored, byte-exact), **bad** (must be reported on
//! stderr as `error: PATH[:LINE]: REASON`, nothing stored), **either** (a judgement call, such
//! as UTF-16 text or `"title": 5`: stored or reported, never silently dropped), or **maybe**
//! (the articles of a truncated stream before the damage: stored or not, but never wrong).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read as _, Write};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use morgue_parquet::samples::Expect;
use morgue_store::BlobId;
use serde_json::json;

use crate::process::{Morgue, PeakRss, text};
use crate::rng::Rng;

/// Sizes of the big inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Bytes of the single long JSON Lines line (above morgue's 64 MiB article cap).
    pub long_line: u64,
    /// Bytes the zstd bombs decompress to.
    pub bomb: u64,
}

impl Sizes {
    /// The sizes of the issue: a 200 MB line, bombs of 8 GiB.
    pub const FULL: Sizes = Sizes {
        long_line: 200_000_000,
        bomb: 8 << 30,
    };
    /// Sizes for a test run (with a debug build): still above the 64 MiB cap everywhere (a
    /// 70 MiB line, bombs of 160 MiB), but quick.
    pub const SMALL: Sizes = Sizes {
        long_line: 70 << 20,
        bomb: 160 << 20,
    };
}

/// An article that must be stored.
#[derive(Debug, Clone)]
pub struct Good {
    /// Where it comes from (file name, `:line` for JSON Lines).
    pub source: String,
    /// Its body as morgue must store it.
    pub body: String,
}

impl Good {
    /// Its id.
    pub fn id(&self) -> BlobId {
        BlobId::of(self.body.as_bytes())
    }
}

/// An input (or line) that must be reported.
#[derive(Debug, Clone)]
pub struct Bad {
    /// The name as it appears in the report: the file name (relative to the input
    /// directory, `/`-separated) and for JSON Lines `:LINE`.
    pub source: String,
    /// What is wrong with it, for the summary.
    pub what: &'static str,
}

/// An input where storing and reporting are both acceptable.
#[derive(Debug, Clone)]
pub struct Either {
    /// As [`Bad::source`].
    pub source: String,
    /// The body it has if morgue reads it.
    pub body: String,
    /// What is odd about it.
    pub what: &'static str,
}

/// The generated inputs and what must become of them.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The directory the inputs are in.
    pub dir: PathBuf,
    /// The arguments to give `morgue import`: the directory, and a missing file.
    pub args: Vec<PathBuf>,
    /// Articles that must be stored.
    pub good: Vec<Good>,
    /// Inputs that must be reported.
    pub bad: Vec<Bad>,
    /// Inputs either stored or reported.
    pub either: Vec<Either>,
    /// Bodies that may be stored (from before the damage of a truncated stream).
    pub maybe: Vec<String>,
    /// Whether the process can read a mode-000 file anyway (it runs as root): then
    /// `unreadable.txt` is a good article, not a failure.
    pub root_reads_anything: bool,
}

impl Plan {
    /// Inputs tried: good articles, bad inputs and judgement calls.
    pub fn inputs_tried(&self) -> usize {
        self.good.len() + self.bad.len() + self.either.len()
    }
}

/// Writes the hostile inputs into `dir/inputs` (which must not exist yet).
pub fn generate(dir: &Path, sizes: Sizes) -> io::Result<Plan> {
    let inputs = dir.join("inputs");
    fs::create_dir_all(&inputs)?;
    let mut g = Gen {
        rng: Rng::new(0x0405_711e),
        plan: Plan {
            dir: inputs.clone(),
            args: vec![inputs.clone(), dir.join("missing.txt")],
            ..Plan::default()
        },
        dir: inputs,
    };
    g.plan.bad.push(Bad {
        source: "missing.txt".into(),
        what: "a path that does not exist",
    });
    g.good_files()?;
    g.bad_files()?;
    g.json_files()?;
    g.jsonl_files(sizes)?;
    g.compressed(sizes)?;
    g.parquet_files()?;
    g.filesystem()?;
    Ok(g.plan)
}

struct Gen {
    rng: Rng,
    plan: Plan,
    dir: PathBuf,
}

impl Gen {
    /// A distinct body of a few paragraphs.
    fn body(&mut self, tag: &str) -> String {
        const WORDS: &[&str] = &[
            "the",
            "council",
            "met",
            "on",
            "tuesday",
            "river",
            "flooded",
            "market",
            "stalls",
            "residents",
            "said",
            "ministry",
            "of",
            "roads",
            "bridge",
            "closed",
            "señora",
            "café",
        ];
        let mut body = format!("This story ({tag}) was written for morgue's hostile-input test.");
        for _ in 0..self.rng.between(2, 4) {
            body.push_str("\n\n");
            let words = self.rng.between(12, 40);
            for w in 0..words {
                if w > 0 {
                    body.push(' ');
                }
                body.push_str(self.rng.pick::<&str>(WORDS));
            }
            body.push('.');
        }
        body
    }

    fn write(&self, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, bytes)?;
        Ok(path)
    }

    fn good(&mut self, source: impl Into<String>, body: String) {
        self.plan.good.push(Good {
            source: source.into(),
            body,
        });
    }

    fn bad(&mut self, source: impl Into<String>, what: &'static str) {
        self.plan.bad.push(Bad {
            source: source.into(),
            what,
        });
    }

    /// A JSON Lines line for a body.
    fn line(title: &str, body: &str) -> String {
        json!({ "title": title, "body": body }).to_string()
    }

    fn good_files(&mut self) -> io::Result<()> {
        let body = self.body("plain text");
        self.write(
            "good-1.txt",
            format!("A Plain Headline\n\n{body}\n").as_bytes(),
        )?;
        self.good("good-1.txt", body);

        let body = self.body("one JSON object");
        self.write(
            "good-2.json",
            json!({"title": "JSON", "body": body})
                .to_string()
                .as_bytes(),
        )?;
        self.good("good-2.json", body);

        let mut text = String::new();
        for n in 1..=3 {
            let body = self.body(&format!("JSON Lines {n}"));
            text.push_str(&Self::line("line", &body));
            text.push('\n');
            self.good(format!("good-3.jsonl:{n}"), body);
        }
        self.write("good-3.jsonl", text.as_bytes())?;

        // CRLF and a byte-order mark: stored with LF line ends.
        let body = self.body("CRLF with BOM");
        let crlf = format!(
            "\u{feff}Windows Headline\r\n\r\n{}\r\n",
            body.replace('\n', "\r\n")
        );
        self.write("crlf-bom.txt", crlf.as_bytes())?;
        self.good("crlf-bom.txt", body);

        // Found by walking into a subdirectory.
        let body = self.body("in a subdirectory");
        self.write(
            "sub/dir/nested.txt",
            format!("Nested\n\n{body}\n").as_bytes(),
        )?;
        self.good("sub/dir/nested.txt", body);

        // Not an input type: skipped with a note, neither stored nor an error.
        self.write("notes.md", b"# not an article\n")?;
        Ok(())
    }

    fn bad_files(&mut self) -> io::Result<()> {
        let mut binary = self.rng.bytes(4096);
        binary[10] = 0;
        binary[11] = 0xff;
        self.write("binary.txt", &binary)?;
        self.bad("binary.txt", "binary bytes");

        self.write(
            "invalid-utf8.txt",
            b"Headline\n\nCaf\xe9 au lait \xff\xfe costs more.\n",
        )?;
        self.bad("invalid-utf8.txt", "invalid UTF-8");

        self.write("empty.txt", b"")?;
        self.bad("empty.txt", "an empty file");
        self.write("whitespace.txt", b"  \n\t \r\n \n\n   ")?;
        self.bad("whitespace.txt", "whitespace only");
        self.write("empty.jsonl", b"")?;
        self.bad("empty.jsonl", "an empty JSON Lines file");

        // Files of other types under an accepted name: refused, never stored as text.
        self.write(
            "page.txt",
            b"<!DOCTYPE html>\n<html><head><title>Page</title></head><body>x</body></html>\n",
        )?;
        self.bad("page.txt", "HTML in a .txt file");
        // A CSV table: one good row, then a row short of a column, a row with a cell that is
        // not UTF-8, and an unterminated quote that runs to the end of the file.
        let body = self.body("CSV row");
        let mut table = format!(
            "title,body,author,date\n\"Rain, again\",\"{}\",Ann Lee,2019\nSun,It shone.\nX,bad \u{ff},C,2020\n",
            body.replace('"', "\"\"")
        )
        .into_bytes();
        // The \u{ff} above is the character ÿ (two bytes): make it one invalid byte.
        if let Some(at) = table.windows(2).position(|w| w == [0xC3, 0xBF]) {
            table.splice(at..at + 2, [0xFF]);
        }
        table.extend_from_slice(b"Y,\"never closed,D,2021\n");
        // An HTML bomb: a million nested elements, refused before parsing.
        self.write("bomb.html", "<div>".repeat(1_000_000).as_bytes())?;
        self.bad("bomb.html", "a million nested HTML elements");
        // A WARC file: a good page, then a record whose Content-Length runs past the end.
        let page_body = self.body("WARC response");
        let page = format!(
            "<!DOCTYPE html><html><head><title>A WARC page here</title></head><body><article><p>{}</p></article></body></html>",
            page_body.replace("\n\n", "</p><p>")
        );
        let http =
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{page}");
        let mut warc = format!(
            "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://example.org/a\r\n\
             Content-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n{http}\r\n\r\n",
            http.len()
        );
        let cut = warc.len();
        warc.push_str("WARC/1.0\r\nWARC-Type: response\r\nContent-Type: application/http\r\nContent-Length: 9999\r\n\r\nHTTP/1.1 200 OK\r\n");
        self.write("crawl.warc", warc.as_bytes())?;
        self.good("crawl.warc:0", page_body);
        self.bad(format!("crawl.warc:{cut}"), "a truncated WARC record");
        self.write("table.csv", &table)?;
        self.good("table.csv:2", body);
        let lines = 2 + self
            .plan
            .good
            .last()
            .map_or(0, |g| g.body.matches('\n').count());
        self.bad(
            format!("table.csv:{}", lines + 1),
            "a CSV row short of a column",
        );
        self.bad(
            format!("table.csv:{}", lines + 2),
            "a CSV cell that is not UTF-8",
        );
        self.bad(
            format!("table.csv:{}", lines + 3),
            "a CSV row with an unterminated quote",
        );
        self.write(
            "text.json",
            "Headline\n\nA line, {with} [brackets].\n"
                .repeat(20)
                .as_bytes(),
        )?;
        self.bad("text.json", "plain text in a .json file");
        self.write("fake.txt.gz", b"Headline\n\nNot gzip at all.\n")?;
        self.bad("fake.txt.gz", "a .gz file that is not gzip");

        // UTF-16 with a BOM: decoding it or refusing it are both fair.
        let body = self.body("UTF-16");
        let text = format!("UTF-16 Headline\n\n{body}\n");
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        self.write("utf16.txt", &utf16)?;
        self.plan.either.push(Either {
            source: "utf16.txt".into(),
            body,
            what: "UTF-16 text",
        });
        Ok(())
    }

    fn json_files(&mut self) -> io::Result<()> {
        let body = self.body("title is a number");
        self.write(
            "title-number.json",
            json!({"title": 5, "body": body}).to_string().as_bytes(),
        )?;
        self.plan.either.push(Either {
            source: "title-number.json".into(),
            body,
            what: "\"title\": 5",
        });
        // An `original` page (as `export --originals` writes it) that is not base64.
        let body = self.body("original not base64");
        self.write(
            "original-not-base64.json",
            json!({"title": "t", "body": body, "original": {"media_type": "text/html", "base64": "<html>!"}})
                .to_string()
                .as_bytes(),
        )?;
        self.plan.either.push(Either {
            source: "original-not-base64.json".into(),
            body,
            what: "\"original\" that is not base64",
        });
        self.write("numbers.json", b"[1, 2, 3]")?;
        self.bad("numbers.json", "an array of numbers");
        self.write("string.json", b"\"just a string\"")?;
        self.bad("string.json", "a JSON string");
        self.write("not-json.json", b"{ this is not json")?;
        self.bad("not-json.json", "broken JSON");
        let body_number = json!({"title": "t", "body": 12345}).to_string();
        self.write("body-number.json", body_number.as_bytes())?;
        self.bad("body-number.json", "\"body\": 12345");

        let depth = 100_000;
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        self.write("deep-array.json", deep.as_bytes())?;
        self.bad("deep-array.json", "arrays nested 100,000 deep");
        let deep = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        self.write("deep-object.json", deep.as_bytes())?;
        self.bad("deep-object.json", "objects nested 100,000 deep");
        Ok(())
    }

    fn jsonl_files(&mut self, sizes: Sizes) -> io::Result<()> {
        // Bad lines between good ones. Line 6 is blank: no article and no error.
        let mut lines: Vec<String> = Vec::new();
        let add_good = |g: &mut Gen, lines: &mut Vec<String>| {
            let n = lines.len() + 1;
            let body = g.body(&format!("mixed line {n}"));
            lines.push(Self::line("mixed", &body));
            g.good(format!("mixed.jsonl:{n}"), body);
        };
        add_good(self, &mut lines);
        for (text, what) in [
            ("this is not JSON", "a line that is not JSON"),
            ("[1, 2, 3]", "an array of numbers"),
        ] {
            lines.push(text.into());
            self.bad(format!("mixed.jsonl:{}", lines.len()), what);
        }
        add_good(self, &mut lines);
        lines.push(r#"{"title": "no body at all"}"#.into());
        self.bad(format!("mixed.jsonl:{}", lines.len()), "no body");
        lines.push(String::new());
        lines.push(r#"{"title": "empty", "body": ""}"#.into());
        self.bad(format!("mixed.jsonl:{}", lines.len()), "an empty body");
        add_good(self, &mut lines);
        let deep = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        lines.push(deep);
        self.bad(
            format!("mixed.jsonl:{}", lines.len()),
            "a line nested 100,000 deep",
        );
        lines.push(r#"{"title": "cut", "body": "unterminated"#.into());
        self.bad(
            format!("mixed.jsonl:{}", lines.len()),
            "an unterminated line",
        );
        add_good(self, &mut lines);
        let mut text = lines.join("\n");
        // The last line has no newline.
        let body = self.body("last line without newline");
        text.push('\n');
        text.push_str(&Self::line("last", &body));
        self.good(format!("mixed.jsonl:{}", lines.len() + 1), body);
        self.write("mixed.jsonl", text.as_bytes())?;

        // One line above the 64 MiB article cap, between two good lines.
        let path = self.dir.join("long-line.jsonl");
        let mut out = BufWriter::new(File::create(&path)?);
        let first = self.body("before the long line");
        writeln!(out, "{}", Self::line("before", &first))?;
        out.write_all(br#"{"title": "long", "body": ""#)?;
        io::copy(&mut io::repeat(b'a').take(sizes.long_line), &mut out)?;
        out.write_all(b"\"}\n")?;
        let last = self.body("after the long line");
        writeln!(out, "{}", Self::line("after", &last))?;
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        self.good("long-line.jsonl:1", first);
        self.bad("long-line.jsonl:2", "a line longer than 64 MiB");
        self.good("long-line.jsonl:3", last);
        Ok(())
    }

    fn compressed(&mut self, sizes: Sizes) -> io::Result<()> {
        let mut gz_text = String::new();
        for n in 1..=2 {
            let body = self.body(&format!("gzip line {n}"));
            gz_text.push_str(&Self::line("gz", &body));
            gz_text.push('\n');
            self.good(format!("good-4.jsonl.gz:{n}"), body);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(gz_text.as_bytes())?;
        self.write("good-4.jsonl.gz", &gz.finish()?)?;

        let body = self.body("zstd text");
        let zst = zstd::encode_all(format!("Zstd Headline\n\n{body}\n").as_bytes(), 3)?;
        self.write("good-5.txt.zst", &zst)?;
        self.good("good-5.txt.zst", body);

        // A stream cut in the middle: the lines before the cut may be stored, then an error.
        let mut text = String::new();
        for n in 1..=200 {
            let body = self.body(&format!("truncated stream line {n}"));
            text.push_str(&Self::line("cut", &body));
            text.push('\n');
            self.plan.maybe.push(body);
        }
        let zst = zstd::encode_all(text.as_bytes(), 3)?;
        self.write("truncated.jsonl.zst", &zst[..zst.len() / 2])?;
        self.bad("truncated.jsonl.zst", "a truncated zstd stream");
        let gz = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(text.as_bytes())?;
            gz.finish()?
        };
        self.write("truncated.jsonl.gz", &gz[..gz.len() / 2])?;
        self.bad("truncated.jsonl.gz", "a truncated gzip stream");
        self.write("garbage.txt.zst", b"this was never compressed")?;
        self.bad("garbage.txt.zst", "a .zst that is not zstd");

        // Bombs: small on disk, gigabytes of zeros inside.
        for name in ["bomb.jsonl.zst", "bomb.txt.zst", "bomb.json.zst"] {
            let path = self.dir.join(name);
            // Zeros: zstd turns each 128 KiB block into a 4-byte RLE block (1 GiB: 32 KiB).
            let mut encoder = zstd::Encoder::new(BufWriter::new(File::create(&path)?), 1)?;
            io::copy(&mut io::repeat(0).take(sizes.bomb), &mut encoder)?;
            encoder
                .finish()?
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?;
            self.bad(name, "a zstd bomb");
        }
        Ok(())
    }

    /// Parquet files (written by morgue-parquet's samples): truncated, without a body column,
    /// numbers for titles and for bodies, a timestamp out of range, a row group claiming a
    /// billion rows.
    fn parquet_files(&mut self) -> io::Result<()> {
        let samples = morgue_parquet::samples::hostile(&mut |tag| self.body(tag));
        for sample in samples {
            self.write(&format!("parquet/{}", sample.name), &sample.bytes)?;
            let name = format!("parquet/{}", sample.name);
            for expect in sample.expect {
                match expect {
                    Expect::Stored { row, body } => self.good(format!("{name}:{row}"), body),
                    Expect::Maybe { body, .. } => self.plan.maybe.push(body),
                    Expect::Reported { row: Some(row) } => {
                        self.bad(format!("{name}:{row}"), sample.what);
                    }
                    Expect::Reported { row: None } => self.bad(name.clone(), sample.what),
                }
            }
        }
        Ok(())
    }

    fn filesystem(&mut self) -> io::Result<()> {
        // Mode 000. As root, reads succeed anyway: then it is a good article.
        let body = self.body("mode 000");
        let path = self.write(
            "unreadable.txt",
            format!("Locked Away\n\n{body}\n").as_bytes(),
        )?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000))?;
        self.plan.root_reads_anything = File::open(&path).is_ok();
        if self.plan.root_reads_anything {
            self.good("unreadable.txt", body);
        } else {
            self.bad("unreadable.txt", "a file without read permission");
        }
        // A directory that cannot be listed fails even for root? No: root lists it too. A
        // broken symlink and a symlink loop fail for everyone.
        symlink(self.dir.join("nowhere.txt"), self.dir.join("dangling.txt"))?;
        self.bad("dangling.txt", "a symlink to nothing");
        symlink(self.dir.join("loop-b.txt"), self.dir.join("loop-a.txt"))?;
        symlink(self.dir.join("loop-a.txt"), self.dir.join("loop-b.txt"))?;
        self.bad("loop-a.txt", "a symlink loop");
        self.bad("loop-b.txt", "a symlink loop");
        fs::create_dir_all(self.dir.join("dirloop"))?;
        symlink("..", self.dir.join("dirloop/up"))?;
        self.bad("dirloop/up", "a directory symlink loop");

        // A name that is not UTF-8 still holds a good article.
        let body = self.body("non-UTF-8 file name");
        let name = std::ffi::OsStr::from_bytes(b"name-\xff\xfe-latin1.txt");
        fs::write(self.dir.join(name), format!("Odd Name\n\n{body}\n"))?;
        self.good("name-\u{fffd}\u{fffd}-latin1.txt", body);

        // A FIFO named like an input: reading it would block forever; it must be skipped.
        let fifo = self.dir.join("fifo.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !matches!(made, Ok(status) if status.success()) {
            return Err(io::Error::other("mkfifo failed"));
        }
        Ok(())
    }
}

/// What [`run`] saw: the plan, the import's exit, stderr and peak memory, and the checks.
#[derive(Debug)]
pub struct Run {
    /// The generated inputs.
    pub plan: Plan,
    /// The import's exit status.
    pub status: ExitStatus,
    /// The import's stderr.
    pub stderr: String,
    /// The import's peak resident set size, in bytes.
    pub peak_rss: u64,
    /// How long the import took.
    pub took: Duration,
    /// The ids `morgue list --all --format ids` gave afterwards.
    pub listed: Vec<BlobId>,
    /// The check of the import ([`check`]), with the problems of the checks that follow
    /// added: `list` or `verify` failing, a good article's `cat` not byte-exact.
    pub outcome: Outcome,
}

/// Generates the hostile inputs in `work_dir` ([`generate`]), imports them all at once into
/// `work_dir/archive` with `morgue`, and checks the result: [`check`], then `verify` clean and
/// `cat` of every good article byte-exact. An error means the run could not be done; what went
/// wrong with morgue is in [`Run::outcome`].
pub fn run(morgue: &Path, work_dir: &Path, sizes: Sizes) -> anyhow::Result<Run> {
    use anyhow::Context as _;

    let plan = generate(work_dir, sizes)
        .with_context(|| format!("generating hostile inputs in {}", work_dir.display()))?;
    let morgue = Morgue {
        bin: morgue.to_owned(),
        archive: work_dir.join("archive"),
    };
    let started = Instant::now();
    let mut import = morgue.command(["import"]);
    import.args(&plan.args);
    let child = import
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting morgue import")?;
    let rss = PeakRss::watch(&child);
    let output = child
        .wait_with_output()
        .context("waiting for morgue import")?;
    let peak_rss = rss.finish();
    let took = started.elapsed();
    let stderr = text(&output.stderr);

    let list = morgue.run(["list", "--all", "--format", "ids"])?;
    let listed: Vec<BlobId> = text(&list.stdout)
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    let mut outcome = check(&plan, output.status.code(), &stderr, &listed);
    if !list.status.success() {
        outcome
            .problems
            .push(format!("list failed: {}", text(&list.stderr)));
    }
    let verify = morgue.run(["verify"])?;
    if !verify.status.success() {
        outcome.problems.push(format!(
            "verify failed: {}{}",
            text(&verify.stdout),
            text(&verify.stderr)
        ));
    }
    for good in &plan.good {
        let out = morgue.run(["cat", &good.id().to_string()])?;
        if out.stdout != good.body.as_bytes() {
            outcome
                .problems
                .push(format!("cat of {} is not byte-exact", good.source));
        }
    }
    Ok(Run {
        plan,
        status: output.status,
        stderr,
        peak_rss,
        took,
        listed,
        outcome,
    })
}

/// What one import over the plan gave.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Problems found: a good article missing, a bad input not reported, ...
    pub problems: Vec<String>,
    /// For each judgement call: "stored" or "reported".
    pub either: BTreeMap<String, &'static str>,
    /// Articles of truncated streams that were stored.
    pub maybe_stored: usize,
    /// Error lines on stderr.
    pub error_lines: usize,
}

/// Checks one `morgue import` over `plan`: its exit code, its stderr, and the ids listed
/// afterwards (`morgue list --all --format ids`).
pub fn check(plan: &Plan, exit: Option<i32>, stderr: &str, listed: &[BlobId]) -> Outcome {
    let mut out = Outcome::default();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    out.error_lines = errors.len();
    if exit != Some(1) {
        out.problems
            .push(format!("import exited with {exit:?}, not 1"));
    }
    let listed: BTreeSet<BlobId> = listed.iter().copied().collect();
    let reported = |source: &str| errors.iter().any(|l| reports(l, source));

    for good in &plan.good {
        if !listed.contains(&good.id()) {
            out.problems
                .push(format!("good article {} was not stored", good.source));
        }
        if reported(&good.source) {
            out.problems.push(format!(
                "good article {} was reported as an error",
                good.source
            ));
        }
    }
    for bad in &plan.bad {
        if !reported(&bad.source) {
            out.problems.push(format!(
                "{} ({}) was not reported as `error: …{}: REASON`",
                bad.source, bad.what, bad.source
            ));
        }
    }
    for either in &plan.either {
        let stored = listed.contains(&BlobId::of(either.body.as_bytes()));
        let what = match (stored, reported(&either.source)) {
            (true, false) => "stored",
            (false, true) => "reported",
            (true, true) => {
                out.problems
                    .push(format!("{} was both stored and reported", either.source));
                "both"
            }
            (false, false) => {
                out.problems
                    .push(format!("{} was neither stored nor reported", either.source));
                "dropped"
            }
        };
        out.either
            .insert(format!("{} ({})", either.source, either.what), what);
    }
    let known: BTreeSet<BlobId> = plan
        .good
        .iter()
        .map(Good::id)
        .chain(plan.either.iter().map(|e| BlobId::of(e.body.as_bytes())))
        .collect();
    let maybe: BTreeSet<BlobId> = plan
        .maybe
        .iter()
        .map(|b| BlobId::of(b.as_bytes()))
        .collect();
    for id in &listed {
        if maybe.contains(id) {
            out.maybe_stored += 1;
        } else if !known.contains(id) {
            out.problems.push(format!(
                "the archive holds {id}, which no input should give"
            ));
        }
    }
    out
}

/// Whether an `error: ` line reports `source` (`name` or `name:LINE`, after a `/`). A source
/// without a line also matches a report of any of its lines.
fn reports(line: &str, source: &str) -> bool {
    let needle = format!("/{source}");
    let mut rest = line;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        if after.starts_with(": ") {
            return true;
        }
        let has_line =
            source.contains(".jsonl:") || source.contains(".json:") || source.contains(".parquet:");
        if let (false, Some(tail)) = (has_line, after.strip_prefix(':')) {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && tail[digits..].starts_with(": ") {
                return true;
            }
        }
        rest = &rest[at + 1..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn reports_matches_path_and_line_exactly() {
        let line = "error: /tmp/x/inputs/mixed.jsonl:2: expected value at line 1 column 1";
        assert!(reports(line, "mixed.jsonl:2"));
        assert!(!reports(line, "mixed.jsonl:20"));
        assert!(!reports(
            "error: /tmp/x/inputs/mixed.jsonl:20: bad",
            "mixed.jsonl:2"
        ));
        assert!(!reports(line, "ixed.jsonl:2"));
        assert!(reports(
            "error: /a/truncated.jsonl.zst:37: read error",
            "truncated.jsonl.zst"
        ));
        assert!(reports(
            "error: /a/binary.txt: invalid UTF-8 at byte 11",
            "binary.txt"
        ));
        assert!(!reports("error: /a/binary.txt.zst: no", "binary.txt"));
    }

    #[test]
    fn generates_every_kind_and_checks_an_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = Sizes {
            long_line: 1000,
            bomb: 1 << 20,
        };
        let plan = generate(dir.path(), sizes).unwrap();
        // Run as root, the mode-000 file is readable: a good article instead of a bad input.
        let root = usize::from(plan.root_reads_anything);
        // Parquet (morgue_parquet::samples::hostile): 3 good rows, 5 bad files or rows, 2 rows
        // before a lying footer; the web set (HTML bomb, truncated WARC, ...): 2 good, 4 bad.
        assert_eq!(plan.good.len(), 23 + root);
        assert_eq!(plan.bad.len(), 43 - root);
        assert_eq!(plan.either.len(), 3);
        assert_eq!(plan.maybe.len(), 202);
        assert_eq!(plan.inputs_tried(), 69);
        let bomb = fs::metadata(plan.dir.join("bomb.jsonl.zst")).unwrap().len();
        assert!(bomb < 4096, "a 1 MiB bomb takes {bomb} bytes");
        let ids: BTreeSet<BlobId> = plan.good.iter().map(Good::id).collect();
        assert_eq!(ids.len(), plan.good.len(), "good bodies are distinct");

        // A perfect run passes; a dropped article and a silent bad input are found.
        let mut stderr = String::new();
        for bad in &plan.bad {
            writeln!(
                stderr,
                "error: {}/{}: reason",
                plan.dir.display(),
                bad.source
            )
            .unwrap();
        }
        for either in &plan.either {
            writeln!(stderr, "error: /d/{}: reason", either.source).unwrap();
        }
        let listed: Vec<BlobId> = ids.iter().copied().collect();
        let outcome = check(&plan, Some(1), &stderr, &listed);
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert!(outcome.either.values().all(|v| *v == "reported"));

        let outcome = check(&plan, Some(0), "", &listed[1..]);
        assert!(outcome.problems.iter().any(|p| p.contains("exited")));
        assert!(
            outcome
                .problems
                .iter()
                .any(|p| p.contains("was not stored"))
        );
        assert!(outcome.problems.iter().any(|p| p.contains("binary.txt")));
    }
}
