//! [`Coalescer`]: one execution of a piece of work per key at a time, shared by every caller
//! that asks for that key while it runs.
//!
//! The work runs as its own task, so a caller that goes away (a client that disconnects) does
//! not cancel it for the others. When *every* caller has gone, work started with
//! [`Coalescer::run_or_abandon`] is told so (its `on_abandoned` runs) and leaves the map at
//! once, so a later caller starts afresh instead of joining work that is stopping.

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

type Abandon = Box<dyn FnOnce() + Send>;

/// Shares in-flight work between concurrent callers with the same key.
pub struct Coalescer<K, V: Clone> {
    in_flight: Arc<Mutex<HashMap<K, Entry<V>>>>,
}

struct Entry<V: Clone> {
    result: Shared<BoxFuture<'static, V>>,
    interest: Arc<Interest>,
}

/// Who waits for one piece of work. Changed only under the map's lock.
#[derive(Default)]
struct Interest {
    waiters: Mutex<usize>,
    on_abandoned: Mutex<Option<Abandon>>,
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
    /// awaited instead. The work always runs to its end.
    pub async fn run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        self.start(key, work, None).await
    }

    /// As [`Coalescer::run`], but when every caller waiting for this key has gone before the
    /// work ends, `on_abandoned` runs (it should make the work stop early).
    pub async fn run_or_abandon<F, Fut>(
        &self,
        key: K,
        work: F,
        on_abandoned: impl FnOnce() + Send + 'static,
    ) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        self.start(key, work, Some(Box::new(on_abandoned))).await
    }

    async fn start<F, Fut>(&self, key: K, work: F, on_abandoned: Option<Abandon>) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let (result, waiter) = {
            let mut map = lock(&self.in_flight);
            if !map.contains_key(&key) {
                let entry = self.spawn(key.clone(), work, on_abandoned);
                map.insert(key.clone(), entry);
            }
            let entry = map.get(&key).expect("inserted above");
            *lock(&entry.interest.waiters) += 1;
            let waiter = Waiter {
                in_flight: Arc::clone(&self.in_flight),
                key,
                interest: Arc::clone(&entry.interest),
            };
            (entry.result.clone(), waiter)
        };
        let value = result.await;
        drop(waiter);
        value
    }

    /// Starts `work` as a task that leaves the map when done (if its entry is still there).
    fn spawn<F, Fut>(&self, key: K, work: F, on_abandoned: Option<Abandon>) -> Entry<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let interest = Arc::new(Interest {
            waiters: Mutex::new(0),
            on_abandoned: Mutex::new(on_abandoned),
        });
        let in_flight = Arc::clone(&self.in_flight);
        let mine = Arc::clone(&interest);
        let work = work();
        let task = tokio::spawn(async move {
            let value = work.await;
            let mut map = lock(&in_flight);
            lock(&mine.on_abandoned).take();
            if map
                .get(&key)
                .is_some_and(|entry| Arc::ptr_eq(&entry.interest, &mine))
            {
                map.remove(&key);
            }
            value
        });
        let result: BoxFuture<'static, V> = async move {
            match task.await {
                Ok(value) => value,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        .boxed();
        Entry {
            result: result.shared(),
            interest,
        }
    }

    /// How many keys have work in flight.
    pub fn in_flight(&self) -> usize {
        lock(&self.in_flight).len()
    }
}

/// One caller's interest in a key; dropped when it has its result or has gone away.
struct Waiter<K: Eq + Hash, V: Clone> {
    in_flight: Arc<Mutex<HashMap<K, Entry<V>>>>,
    key: K,
    interest: Arc<Interest>,
}

impl<K: Eq + Hash, V: Clone> Drop for Waiter<K, V> {
    fn drop(&mut self) {
        let mut map = lock(&self.in_flight);
        let mut waiters = lock(&self.interest.waiters);
        *waiters -= 1;
        if *waiters > 0 {
            return;
        }
        let Some(on_abandoned) = lock(&self.interest.on_abandoned).take() else {
            return;
        };
        // Nobody waits: the work is told to stop and leaves the map, so the next caller for
        // this key starts new work rather than joining one that is stopping.
        if map
            .get(&self.key)
            .is_some_and(|entry| Arc::ptr_eq(&entry.interest, &self.interest))
        {
            map.remove(&self.key);
        }
        on_abandoned();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
