//! Disk cache and coalescer behaviour on a real temporary directory.

use super::*;
use futures::stream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn body(bytes: &'static [u8]) -> impl Stream<Item = io::Result<Bytes>> + Unpin {
    stream::iter(
        bytes
            .chunks(3)
            .map(|c| Ok(Bytes::from_static(c)))
            .collect::<Vec<_>>(),
    )
}

fn sniff(_: &[u8]) -> String {
    "application/octet-stream".into()
}

async fn read_body(entry: CachedEntry) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mut out = vec![0u8; entry.meta.size as usize];
    entry
        .file
        .read_exact_at(&mut out, entry.body_offset())
        .unwrap();
    assert_eq!(entry.head[..], out[..entry.head.len()]);
    out
}

#[tokio::test]
async fn stores_and_reads_back_with_hash() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(dir.path(), 1 << 20).await.unwrap();
    assert!(cache.get("k", None).await.is_none());
    let entry = cache
        .put(
            "k",
            EntryMeta::new("o", None),
            body(b"hello world"),
            100,
            sniff,
        )
        .await
        .unwrap();
    assert_eq!(entry.meta.size, 11);
    assert_eq!(
        entry.meta.sha256,
        hex::encode(Sha256::digest(b"hello world"))
    );
    let again = cache.get("k", None).await.unwrap();
    assert_eq!(read_body(again).await, b"hello world");
}

/// `bytes` as a stream of chunks of `size` (an entry arriving over the network).
fn chunked(bytes: Vec<u8>, size: usize) -> impl Stream<Item = io::Result<Bytes>> + Unpin {
    let chunks: Vec<_> = bytes
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(chunks)
}

#[tokio::test]
async fn a_whole_entry_copied_from_another_cache_keeps_its_header() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = DiskCache::open(a_dir.path(), 1 << 20).await.unwrap();
    let b = DiskCache::open(b_dir.path(), 1 << 20).await.unwrap();
    let mut meta = EntryMeta::new("made on a", None);
    meta.stored_at = 1_000;
    meta.warning = Some("damaged".into());
    a.put("k", meta, body(b"transformed bytes"), 100, sniff)
        .await
        .unwrap();
    let whole = std::fs::read(a.entry_file("k")).unwrap();
    // Chunks that split the header and the body anywhere.
    for size in [1000, 4096, 4097, 7] {
        let copied = b
            .put_whole("k", chunked(whole.clone(), size), 100)
            .await
            .unwrap();
        assert_eq!(copied.meta.stored_at, 1_000, "made at, not copied at");
        assert_eq!(copied.meta.source, "made on a");
        assert_eq!(copied.meta.warning.as_deref(), Some("damaged"));
        assert_eq!(read_body(copied).await, b"transformed bytes");
    }
    assert!(b.total_bytes() > 0);
}

#[tokio::test]
async fn a_copied_entry_that_is_not_whole_is_refused_and_leaves_nothing() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = DiskCache::open(a_dir.path(), 1 << 20).await.unwrap();
    let b = DiskCache::open(b_dir.path(), 1 << 20).await.unwrap();
    a.put(
        "k",
        EntryMeta::new("a", None),
        body(b"0123456789"),
        100,
        sniff,
    )
    .await
    .unwrap();
    let whole = std::fs::read(a.entry_file("k")).unwrap();
    let mut tampered = whole.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let cases = [
        (whole[..whole.len() - 1].to_vec(), "a byte short"),
        ([whole.clone(), b"!".to_vec()].concat(), "a byte long"),
        (tampered, "a changed byte"),
        (whole[..100].to_vec(), "header cut"),
        (vec![0u8; 5000], "not an entry"),
    ];
    for (bytes, case) in cases {
        let refused = b.put_whole("k", chunked(bytes, 512), 100).await;
        assert!(matches!(refused, Err(PutError::NotAnEntry(_))), "{case}");
        assert!(b.get("k", None).await.is_none(), "{case}");
    }
    let too_large = b.put_whole("k", chunked(whole, 512), 5).await;
    assert!(matches!(too_large, Err(PutError::TooLarge(5))));
    assert_eq!(b.total_bytes(), 0);
    assert_eq!(
        std::fs::read_dir(b_dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn refuses_oversized_bodies_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(dir.path(), 1 << 20).await.unwrap();
    let err = cache
        .put(
            "big",
            EntryMeta::new("o", None),
            body(b"0123456789"),
            5,
            sniff,
        )
        .await;
    assert!(matches!(err, Err(PutError::TooLarge(5))));
    assert!(cache.get("big", None).await.is_none());
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn failing_source_leaves_no_partial_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(dir.path(), 1 << 20).await.unwrap();
    let broken = stream::iter(vec![
        Ok(Bytes::from_static(b"abc")),
        Err(io::Error::other("reset")),
    ]);
    let err = cache
        .put("k", EntryMeta::new("o", None), broken, 100, sniff)
        .await;
    assert!(matches!(err, Err(PutError::Source(_))));
    assert!(cache.get("k", None).await.is_none());
}

#[tokio::test]
async fn evicts_least_recently_used_within_byte_bound() {
    let dir = tempfile::tempdir().unwrap();
    let entry_bytes = entry::HEADER_LEN as u64 + 10;
    let cache = DiskCache::open(dir.path(), entry_bytes * 2).await.unwrap();
    for key in ["a", "b"] {
        cache
            .put(
                key,
                EntryMeta::new("o", None),
                body(b"0123456789"),
                100,
                sniff,
            )
            .await
            .unwrap();
    }
    assert!(cache.get("a", None).await.is_some()); // a is now more recent than b
    cache
        .put(
            "c",
            EntryMeta::new("o", None),
            body(b"0123456789"),
            100,
            sniff,
        )
        .await
        .unwrap();
    assert!(
        cache.get("b", None).await.is_none(),
        "b was least recently used"
    );
    assert!(cache.get("a", None).await.is_some());
    assert!(cache.get("c", None).await.is_some());
    assert_eq!(cache.total_bytes(), entry_bytes * 2);
    // Reopening rebuilds the index from disk.
    drop(cache);
    let reopened = DiskCache::open(dir.path(), entry_bytes * 2).await.unwrap();
    assert_eq!(reopened.total_bytes(), entry_bytes * 2);
}

#[tokio::test]
async fn expired_entries_are_misses() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(dir.path(), 1 << 20).await.unwrap();
    let mut meta = EntryMeta::new("o", None);
    meta.stored_at -= 100;
    cache.put("k", meta, body(b"x"), 100, sniff).await.unwrap();
    // put() keeps the given stored_at, so the entry is 100 s old.
    assert!(
        cache
            .get("k", Some(Duration::from_secs(10)))
            .await
            .is_none()
    );
    assert!(
        cache
            .get("k", Some(Duration::from_secs(1000)))
            .await
            .is_some()
    );
}

// Paused time: the work's sleep ends only once every caller is parked on it, however slow the
// machine is to start them.
#[tokio::test(start_paused = true)]
async fn coalesces_concurrent_work_per_key() {
    let coalescer: Arc<Coalescer<String, usize>> = Arc::default();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..50 {
        let coalescer = Arc::clone(&coalescer);
        let runs = Arc::clone(&runs);
        handles.push(tokio::spawn(async move {
            coalescer
                .run("key".to_string(), move || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    runs.fetch_add(1, Ordering::SeqCst) + 1
                })
                .await
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 1);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(coalescer.in_flight(), 0);
}

/// Work whose every caller has gone is told to stop and leaves the map; work that still has
/// one caller is not; plain `run` work is never told. Paused time: each sleep ends only once the
/// started callers are parked, on any machine.
#[tokio::test(start_paused = true)]
async fn abandoned_work_is_told_when_the_last_caller_goes() {
    use tokio::sync::Notify;
    let coalescer: Arc<Coalescer<String, usize>> = Arc::default();
    let abandoned = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let start = |key: &str| {
        let coalescer = Arc::clone(&coalescer);
        let abandoned = Arc::clone(&abandoned);
        let release = Arc::clone(&release);
        let key = key.to_string();
        tokio::spawn(async move {
            coalescer
                .run_or_abandon(
                    key,
                    move || async move {
                        release.notified().await;
                        7
                    },
                    move || {
                        abandoned.fetch_add(1, Ordering::SeqCst);
                    },
                )
                .await
        })
    };
    // Two callers, one leaves: the work goes on for the other.
    let (first, second) = (start("a"), start("a"));
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.abort();
    let _ = first.await;
    assert_eq!(abandoned.load(Ordering::SeqCst), 0);
    assert_eq!(coalescer.in_flight(), 1);
    // The last one leaves: the work is told, and the key is free for new work at once.
    second.abort();
    let _ = second.await;
    assert_eq!(abandoned.load(Ordering::SeqCst), 1);
    assert_eq!(coalescer.in_flight(), 0);
    // A caller that waits to the end sees the value; nothing more is abandoned.
    let third = start("a");
    tokio::time::sleep(Duration::from_millis(20)).await;
    release.notify_waiters();
    assert_eq!(third.await.unwrap(), 7);
    assert_eq!(abandoned.load(Ordering::SeqCst), 1);
}
