//! End-to-end tests of the `morgue` binary.
