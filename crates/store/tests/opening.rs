//! Opening an archive while another opener creates it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use morgue_store::{Error, Options, Store};

/// A reader that opens the directory while a writer creates the archive in it sees no archive
/// yet, or an archive in use, or the archive: never "not a morgue archive", whatever the
/// moment (the writer's header and sled files appear between the reader's two looks at the
/// directory).
#[test]
fn an_archive_being_created_is_never_called_foreign() {
    let reader_options = Options {
        create: false,
        ..Options::default()
    };
    for round in 0..40 {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("archive");
        let done = Arc::new(AtomicBool::new(false));
        let creator = {
            let dir = dir.clone();
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let store = Store::open(&dir).unwrap();
                done.store(true, Ordering::Release);
                store
            })
        };
        let mut looks = 0u32;
        loop {
            let finished = done.load(Ordering::Acquire);
            match Store::open_with(&dir, &reader_options) {
                Ok(_) | Err(Error::NoArchive { .. } | Error::Locked { .. }) => {}
                Err(other) => panic!("round {round}, look {looks}: {other}"),
            }
            looks += 1;
            if finished {
                break;
            }
        }
        drop(creator.join().unwrap());
        // Once the creator has closed it, the reader opens it.
        Store::open_with(&dir, &reader_options).unwrap();
    }
}
