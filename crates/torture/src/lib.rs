//! morgue-torture: programs and helpers that prove morgue's promises by abuse.
//!
//! - [`kill`]: `morgue import -v` killed with SIGKILL at random instants, the archive checked
//!   after every kill (verify clean, every acknowledged article present and byte-exact).
//! - [`hostile`]: a directory of hostile inputs (binary, invalid UTF-8, JSON nested 100,000
//!   deep, a 200 MB line, zstd bombs, symlink loops, …) and the check of one import over it.
//! - [`corrupt`]: damage an archive on purpose (flip a stored byte, delete an index entry), to
//!   test that morgue notices.
//! - [`corpus`]: generated articles (our own words) as JSON Lines.
//!
//! The `morgue-torture` binary runs them (`morgue-torture kill --iterations 500`); the
//! end-to-end tests in `crates/cli/tests/it` call the library. See docs/reliability.md.
//!
//! ```
//! use morgue_torture::hostile::{self, Sizes};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let plan = hostile::generate(dir.path(), Sizes { long_line: 1 << 10, bomb: 1 << 20 })?;
//! assert!(plan.dir.join("deep-array.json").is_file());
//! assert_eq!(plan.inputs_tried(), 69);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod corpus;
pub mod corrupt;
pub mod hostile;
pub mod kill;
pub mod process;
pub mod rng;
