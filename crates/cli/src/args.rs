//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::dates::Period;

/// An archive of news articles: import them, query them by reporter, service and date, and get
/// each body back exactly as stored.
#[derive(Debug, Parser)]
#[command(name = "morgue", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit status: 0 success, 1 an input or lookup failed (the rest was still \
                        done), 2 usage error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The archive directory [default: $MORGUE_ARCHIVE when set and not empty, else the
    /// platform data directory, e.g. ~/.local/share/morgue]
    // MORGUE_ARCHIVE is read by `Ctx::new`, not by clap: clap takes an empty variable for an
    // empty `--archive` and fails with "a value is required".
    #[arg(long, global = true, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: each stored id, each skipped file, every warning
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Wait up to SECONDS for another morgue process to release the archive (0: fail at once)
    /// [default: 5, 0 for import]
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub wait: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import articles from files, directories or standard input
    Import(ImportArgs),
    /// List articles, newest first
    List(ListArgs),
    /// Find articles by the words of their title and body, best first
    #[command(after_long_help = SEARCH_SYNTAX)]
    Search(SearchArgs),
    /// Print an article's metadata and body
    Show(ShowArgs),
    /// Print an article's body, byte for byte as stored
    Cat(CatArgs),
    /// List reporters with their article counts, most first
    Reporters(FacetArgs),
    /// List services with their article counts, most first
    Services(FacetArgs),
    /// Print figures: articles, bytes, compression, articles per service and year
    Stats(StatsArgs),
    /// Check every body against its id and every index entry both ways
    Verify,
    /// Rebuild the indexes (and the full-text index) from the records
    Reindex,
    /// Make the archive smaller: train dictionaries, recompress bodies, reclaim space
    Optimize(OptimizeArgs),
    /// Remove articles: record, index entries and body
    Rm(RmArgs),
    /// Export articles with their bodies as JSON Lines or Parquet, readable by `import`
    Export(ExportArgs),
    /// Serve the archive over HTTP, a JSON API and a web page (docs/serve.md), until stopped
    Serve(ServeArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print a man page (roff), or write them all with --dir
    Man(ManArgs),
}

/// The input format of `import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Detect from the file name and content
    Auto,
    /// RFA plain text: headline, image line, paragraphs, byline
    Rfa,
    /// Plain text: headline, then the body
    Text,
    /// A JSON object per file (or an array of them)
    Json,
    /// JSON Lines: one object per line
    Jsonl,
    /// Parquet: one article per row (files only, not standard input)
    Parquet,
    /// A table with a header row, comma-separated (tabs for .tsv/.tab or when the content says so)
    Csv,
    /// A table with a header row, tab-separated
    Tsv,
    /// An HTML page: its main text and metadata
    Html,
    /// A WARC web archive: each HTML page fetched with status 200
    Warc,
}

/// How `import` prints its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Lines on standard error
    Text,
    /// One JSON object on standard output
    Json,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories to import; `-` reads standard input. Directories are read
    /// recursively in name order; hidden files are skipped, and so are files other than .txt,
    /// .json, .jsonl, .ndjson, .csv, .tsv, .tab, .html, .htm, .xhtml and .warc (each also as .zst
    /// or .gz) and .parquet
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The input format
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub format: InputFormat,
    /// Set the service of every article imported (spaces trimmed and collapsed)
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    pub service: Option<String>,
    /// Set the reporter of every article imported (spaces trimmed and collapsed)
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    pub reporter: Option<String>,
    /// Set the date of every article imported (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = crate::dates::parse_day)]
    pub date: Option<chrono::NaiveDate>,
    /// Replace the metadata of articles already stored (default: only fill empty fields)
    #[arg(long)]
    pub overwrite: bool,
    /// Commit at most N articles at a time (default 20000). Fewer hold less in memory and
    /// import more slowly: at 10 million articles, 10000 kept an import under 512 MB, and at
    /// 1 million took 18% longer
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: Option<u32>,
    /// How to print the final summary
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = SummaryFormat::Text)]
    pub summary: SummaryFormat,
}

/// Output formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns that fit the terminal
    Table,
    /// One JSON array of objects
    Json,
    /// One JSON object per line
    Jsonl,
    /// Comma-separated values with a header row
    Csv,
    /// One full id per line
    Ids,
}

/// The filters of `list` and `search` (and of the server's `/api/articles` and `/api/search`).
#[derive(Debug, Args, Default, Clone)]
pub struct FilterArgs {
    /// Only articles by this reporter (case-insensitive)
    #[arg(long, value_name = "NAME")]
    pub reporter: Option<String>,
    /// Only articles of this service (case-insensitive)
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Only articles dated on or after the start of this period (YYYY, YYYY-MM or YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = Period::parse)]
    pub since: Option<Period>,
    /// Only articles dated on or before the end of this period (YYYY, YYYY-MM or YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = Period::parse)]
    pub until: Option<Period>,
}

impl FilterArgs {
    /// Refuses a period that ends before it starts.
    pub fn check(&self) -> anyhow::Result<()> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since.first > until.last
        {
            anyhow::bail!("--since {} is after --until {}", since.first, until.last);
        }
        Ok(())
    }

    /// Whether any filter is given.
    pub fn any(&self) -> bool {
        self.reporter.is_some()
            || self.service.is_some()
            || self.since.is_some()
            || self.until.is_some()
    }

    /// The metadata query of these filters (no limit, from the start).
    pub fn to_query(&self) -> morgue_meta::Query {
        morgue_meta::Query {
            reporter: self.reporter.clone(),
            service: self.service.clone(),
            since: self.since.map(|p| p.first),
            until: self.until.map(|p| p.last),
            limit: None,
            after: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Print at most N articles (N at least 1) [default: 50 for the table, every match for the
    /// other formats]
    #[arg(long, value_name = "N", value_parser = parse_limit, conflicts_with = "all")]
    pub limit: Option<usize>,
    /// Print every matching article, also in the table
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// The query syntax, after `morgue search --help`.
const SEARCH_SYNTAX: &str = "\
Query syntax:
  dalai lama          every word must occur (in the title or the body)
  \"interest rates\"    the words in this order
  opec OR cartel      either word (OR in capitals)
  -mortgage           exclude articles with the word (also -\"a phrase\")
  tibet*              words that start with tibet
  title:strike        in the title only (also body:, title:\"a phrase\")
Words match without regard to case or accents (Vavra finds Vávra). Chinese, Japanese, Korean,
Thai, Lao, Khmer and Burmese text matches as a string: 水电站 finds the texts that contain it.
No stemming: rates does not find rate (use rate*).
In the json, jsonl and csv formats, each hit has a score (BM25) and a snippet of its body with
the matched words between [ and ].";

/// The order of `search`'s hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchSort {
    /// Best match first (BM25)
    Relevance,
    /// Newest first, as `list` orders
    Date,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query: words, "phrases", OR, -word, word*, title:word, body:word (see below)
    // A query may start with `-` (an exclusion): never an option.
    #[arg(value_name = "QUERY", value_parser = parse_query, allow_hyphen_values = true)]
    pub query: QueryArg,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Print at most N articles (N at least 1) [default: 50]
    #[arg(long, value_name = "N", value_parser = parse_limit, conflicts_with = "all")]
    pub limit: Option<usize>,
    /// Print every matching article
    #[arg(long)]
    pub all: bool,
    /// The order of the hits
    #[arg(long, value_enum, default_value_t = SearchSort::Relevance)]
    pub sort: SearchSort,
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// A search query as given (sent as is to a running server) and parsed.
#[derive(Debug, Clone)]
pub struct QueryArg {
    /// The text given.
    pub text: String,
    /// The query it parses to.
    pub parsed: morgue_meta::TextQuery,
}

/// Parses a search query; a malformed one is a usage error that says what is wrong.
fn parse_query(text: &str) -> Result<QueryArg, String> {
    morgue_meta::TextQuery::parse(text)
        .map(|parsed| QueryArg {
            text: text.to_owned(),
            parsed,
        })
        .map_err(|e| e.to_string())
}

/// Output formats of `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Metadata lines, a blank line, then the body
    Text,
    /// One JSON object, with the body
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The article id, or a unique prefix of at least 4 hex characters
    #[arg(value_parser = parse_id)]
    pub id: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// The article id, or a unique prefix of at least 4 hex characters
    #[arg(value_parser = parse_id)]
    pub id: String,
    /// Print the page the article was extracted from, byte for byte as fetched (HTML and WARC
    /// imports), instead of the body
    #[arg(long)]
    pub original: bool,
}

/// Output formats of `reporters` and `services`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FacetFormat {
    /// Count and name, aligned
    Table,
    /// One JSON array of {"name", "count"} objects
    Json,
    /// Comma-separated values with a header row
    Csv,
}

#[derive(Debug, Args)]
pub struct FacetArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = FacetFormat::Table)]
    pub format: FacetFormat,
}

/// Output formats of `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// Aligned lines
    Text,
    /// One JSON object
    Json,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,
}

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// How to print the final summary
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = SummaryFormat::Text)]
    pub summary: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Ids or unique prefixes (at least 4 hex characters) of the articles to remove
    #[arg(value_name = "ID", required = true, value_parser = parse_id)]
    pub ids: Vec<String>,
}

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// JSON Lines: one object per article, with its body
    Jsonl,
    /// Parquet files under a directory, partitioned by service and year (zstd; for DuckDB,
    /// Spark, pandas)
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Write to FILE instead of standard output (`-` is standard output); for parquet, the
    /// directory to create (required)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The same as -o: the file (jsonl) or the directory (parquet) to write
    #[arg(value_name = "PATH", conflicts_with = "output")]
    pub path: Option<PathBuf>,
    /// Leave the bodies out (parquet: metadata only)
    #[arg(long)]
    pub no_body: bool,
    /// Add each article's original page (jsonl): `"original": {"media_type", "base64"}`,
    /// which `import` reads back
    #[arg(long)]
    pub originals: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port; the address taken is printed)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7070")]
    pub addr: String,
    /// The token requests that change the archive must carry (`Authorization: Bearer T`);
    /// required to listen on an address other than loopback
    #[arg(long, value_name = "T", env = "MORGUE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The largest request body (an import), in bytes; past it the answer is 413
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 20)]
    pub max_body: usize,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print the page of this command (e.g. `import`) instead of morgue's
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page (morgue.1, morgue-import.1, ...) into DIR instead of printing one
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Parses a name given on the command line: spaces trimmed and runs of whitespace collapsed to
/// one space; an empty name is refused.
pub fn parse_name(text: &str) -> Result<String, String> {
    let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        Err("expected a name, found an empty value".to_owned())
    } else {
        Ok(name)
    }
}

/// Parses `--limit`: a whole number of at least 1 (`--all` is the way to ask for everything).
fn parse_limit(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("expected at least 1 (use --all for every match)".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a whole number, found {text:?}")),
    }
}

/// Checks the shape of an id or prefix: 4 to 64 hex characters. Whether it names an article is
/// the archive's to say.
fn parse_id(text: &str) -> Result<String, String> {
    if (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_owned())
    } else {
        Err("expected an id or id prefix of 4 to 64 hex characters".to_owned())
    }
}

/// Parses a non-negative number of seconds, decimals allowed.
fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, found {text:?}"))?;
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("expected a non-negative number of seconds, found {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn wait_takes_decimal_seconds() {
        assert_eq!(
            parse_seconds("1.5"),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert_eq!(parse_seconds("0"), Ok(std::time::Duration::ZERO));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("NaN").is_err());
    }

    #[test]
    fn optimize_takes_a_summary_format() {
        let cli = Cli::try_parse_from(["morgue", "optimize", "--summary", "json"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Optimize(OptimizeArgs {
                summary: SummaryFormat::Json
            })
        ));
    }

    #[test]
    fn names_are_trimmed_and_collapsed_and_never_empty() {
        assert_eq!(parse_name("  BBC   Tech ").as_deref(), Ok("BBC Tech"));
        assert_eq!(
            parse_name("Zoë\tLe\u{a0}Roux").as_deref(),
            Ok("Zoë Le Roux")
        );
        assert!(parse_name("").is_err());
        assert!(parse_name(" \t ").is_err());
    }

    #[test]
    fn limit_is_at_least_one() {
        assert_eq!(parse_limit("3"), Ok(3));
        assert!(parse_limit("0").is_err());
        assert!(parse_limit("-1").is_err());
        assert!(parse_limit("many").is_err());
    }

    #[test]
    fn ids_are_4_to_64_hex_characters() {
        assert!(parse_id("91b5").is_ok());
        assert!(parse_id(&"A".repeat(64)).is_ok());
        assert!(parse_id("abc").is_err());
        assert!(parse_id("xyz1").is_err());
        assert!(parse_id(&"a".repeat(65)).is_err());
    }

    #[test]
    fn man_takes_a_command_or_a_directory_not_both() {
        let err = Cli::try_parse_from(["morgue", "man", "import", "--dir", "/tmp/m"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn limit_and_all_conflict() {
        let err = Cli::try_parse_from(["morgue", "list", "--all", "--limit", "3"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn global_options_follow_the_subcommand() {
        let cli =
            Cli::try_parse_from(["morgue", "list", "--archive", "/tmp/a", "-q", "--wait", "2"])
                .unwrap();
        assert_eq!(cli.global.archive, Some(PathBuf::from("/tmp/a")));
        assert!(cli.global.quiet);
        assert_eq!(cli.global.wait, Some(std::time::Duration::from_secs(2)));
    }
}
