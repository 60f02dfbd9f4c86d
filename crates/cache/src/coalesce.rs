//! [`Coalescer`]: one execution of a piece of work per key at a time, shared by every caller
//! that asks for that key while it runs.

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Shares in-flight work between concurrent callers with the same key.
pub struct Coalescer<K, V: Clone> {
    in_flight: Arc<Mutex<HashMap<K, Shared<BoxFuture<'static, V>>>>>,
}

impl<K, V: Clone> Default for Coalescer<K, V> {
    fn default() -> Self {
        Self {
            in_flight: Arc::default(),
        }
    }
}

impl<K, V> Coalescer<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Runs `work` for `key`, unless it is already running, in which case its result is
    /// awaited instead. The work runs as its own task, so a caller that goes away (a client that
    /// disconnects) does not cancel it for the others.
    pub async fn run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let shared = {
            let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(&key) {
                Some(existing) => existing.clone(),
                None => {
                    // The task itself leaves the map when done, so an entry never outlives its
                    // work even when every caller has gone away.
                    let in_flight = Arc::clone(&self.in_flight);
                    let done_key = key.clone();
                    let work = work();
                    let task = tokio::spawn(async move {
                        let value = work.await;
                        in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&done_key);
                        value
                    });
                    let fut: BoxFuture<'static, V> = async move {
                        match task.await {
                            Ok(value) => value,
                            Err(e) => std::panic::resume_unwind(e.into_panic()),
                        }
                    }
                    .boxed();
                    let shared = fut.shared();
                    map.insert(key, shared.clone());
                    shared
                }
            }
        };
        shared.await
    }

    /// How many keys have work in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}
