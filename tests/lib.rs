//! End-to-end tests of the `morgue` binary live in `it/`; this library is empty.
