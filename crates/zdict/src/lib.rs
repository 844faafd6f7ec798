//! Trains a zstd dictionary with FastCover and fixed parameters.
//!
//! `zstd::dict::from_samples` calls `ZDICT_trainFromBuffer`, which searches FastCover's
//! parameters: it builds and scores four dictionaries to keep one. On news articles (Reuters,
//! BBC) the search always settled on `k = 50, d = 8`, and training once with those took a
//! fifth of the time and gave a dictionary as good or slightly better (Reuters: 12.5 ms instead
//! of 71 ms for 1,000 bodies, 0.7% smaller frames). zstd-safe does not wrap the call with
//! parameters, so this crate does, in one `unsafe` block.
//!
//! ```
//! let samples: Vec<Vec<u8>> = (0..500)
//!     .map(|i| format!("WASHINGTON (Reuters) - item {i}: prices rose {} pct in March", i % 7).into_bytes())
//!     .collect();
//! let refs: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
//! let dict = morgue_zdict::train(&refs, 16 << 10, 3).expect("enough samples");
//! assert!(!dict.is_empty() && dict.len() <= 16 << 10);
//! ```

#![deny(missing_docs)]

/// FastCover's segment size, in bytes.
const K: u32 = 50;
/// FastCover's dmer size, in bytes.
const D: u32 = 8;

/// A dictionary of at most `max_size` bytes trained on `samples` for compression at `level`,
/// or `None` when zstd cannot train one (too few or too uniform samples, or more than
/// `u32::MAX` of them).
#[must_use]
pub fn train(samples: &[&[u8]], max_size: usize, level: i32) -> Option<Vec<u8>> {
    train_segments(samples, max_size, level, K)
}

/// [`train`] with FastCover's segment size `k` (in bytes; `d` stays 8). Samples that share long
/// runs (the template of one site's web pages) want long segments: on 1,200 pages of one site
/// (26 KB each) `k = 1000` gave frames 2.3 times smaller than `k = 50` (docs/performance.md).
#[must_use]
pub fn train_segments(samples: &[&[u8]], max_size: usize, level: i32, k: u32) -> Option<Vec<u8>> {
    let count = u32::try_from(samples.len()).ok()?;
    let flat: Vec<u8> = samples.concat();
    let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
    let mut dict = vec![0u8; max_size];
    // Zero means "the default" for the others (f = 20, one thread, all samples scored).
    let params = zstd_sys::ZDICT_fastCover_params_t {
        k,
        d: D,
        f: 0,
        steps: 0,
        nbThreads: 0,
        splitPoint: 0.0,
        accel: 1,
        shrinkDict: 0,
        shrinkDictMaxRegression: 0,
        zParams: zstd_sys::ZDICT_params_t {
            compressionLevel: level,
            notificationLevel: 0,
            dictID: 0,
        },
    };
    // SAFETY: `dict` is writable for `dict.len()` bytes, `flat` readable for the sum of
    // `sizes` bytes (it is their concatenation), `sizes` holds `count` entries; zstd reads
    // and writes nothing else and keeps no pointer after it returns.
    #[allow(unsafe_code)]
    let written = unsafe {
        zstd_sys::ZDICT_trainFromBuffer_fastCover(
            dict.as_mut_ptr().cast(),
            dict.len(),
            flat.as_ptr().cast(),
            sizes.as_ptr(),
            count,
            params,
        )
    };
    // SAFETY: a pure function of its argument.
    #[allow(unsafe_code)]
    let failed = unsafe { zstd_sys::ZDICT_isError(written) } != 0;
    if failed || written == 0 || written > dict.len() {
        return None;
    }
    dict.truncate(written);
    Some(dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(i: usize) -> Vec<u8> {
        format!(
            "LONDON, March {} - The central bank said on {} that money supply grew {}.{} pct \
             in the year to February, after {} pct in January, a spokesman told reporters.",
            i % 28 + 1,
            ["Monday", "Tuesday", "Wednesday"][i % 3],
            i % 9,
            i % 10,
            i % 13
        )
        .into_bytes()
    }

    #[test]
    fn the_dictionary_makes_frames_smaller_and_round_trips() {
        let bodies: Vec<Vec<u8>> = (0..1000).map(article).collect();
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let dict = train(&refs, 8 << 10, 3).unwrap();
        assert!(dict.len() <= 8 << 10);
        let plain: usize = bodies
            .iter()
            .map(|b| zstd::bulk::compress(b, 3).unwrap().len())
            .sum();
        let mut c = zstd::bulk::Compressor::with_dictionary(3, &dict).unwrap();
        let mut d = zstd::bulk::Decompressor::with_dictionary(&dict).unwrap();
        let mut with = 0;
        for b in &bodies {
            let frame = c.compress(b).unwrap();
            with += frame.len();
            assert_eq!(&d.decompress(&frame, b.len()).unwrap(), b);
        }
        assert!(with * 2 < plain, "{with} with, {plain} without");
    }

    #[test]
    fn too_few_samples_train_nothing() {
        assert_eq!(train(&[], 4096, 3), None);
        assert_eq!(train(&[b"one".as_slice()], 4096, 3), None);
    }
}
