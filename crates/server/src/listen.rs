//! Accepting connections: the server's own accept loop, so that no client can hold a connection
//! (and with it a file descriptor) for free.
//!
//! - HTTP/1 request heads must arrive within `header_read_timeout`, counted from when the
//!   connection is ready for the next request: a client that sends nothing, sends half a
//!   header, or keeps an HTTP/1.1 connection idle is closed after it.
//! - Any connection (HTTP/1 or h2c) with no request in flight for `idle_timeout` is shut down
//!   gracefully (HTTP/2 gets a GOAWAY).
//! - At most `max_connections` are open at once; further clients wait in the kernel's backlog
//!   until one closes.
//! - At start the process's file-descriptor limit is raised to its hard limit
//!   ([`raise_fd_limit`]).
//!
//! On shutdown every connection is asked to finish what it is doing, for up to `drain`.

use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use pixelway_delivery::edge::Edge;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// How long clients may hold connections, and how many.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// `server.header_read_timeout`: time to receive an HTTP/1 request head.
    pub header_read_timeout: Duration,
    /// `server.idle_timeout`: a connection with no request in flight this long is closed.
    pub idle_timeout: Duration,
    /// `server.max_connections`: connections open at once.
    pub max_connections: usize,
    /// Time connections get to finish on shutdown.
    pub drain: Duration,
}

/// Raises the soft file-descriptor limit to the hard limit; returns the limit now in force.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            ..limit
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => limit = raised,
            Err(e) => tracing::warn!(error = %e, "could not raise the file-descriptor limit"),
        }
    }
    limit.current
}

/// Serves requests through `edge` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    edge: Arc<Edge>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // EMFILE and friends: wait for descriptors to come back instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let edge = Arc::clone(&edge);
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            serve_connection(stream, edge, limits, stop).await;
            drop(slot);
        });
    }
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let started = std::time::Instant::now();
    let open = limits.max_connections.max(1) - slots.available_permits();
    match tokio::time::timeout(limits.drain, slots.acquire_many(all)).await {
        Ok(_) => {
            tracing::info!(connections = open, took = ?started.elapsed(), "drained: every connection finished")
        }
        Err(_) => tracing::warn!(
            connections = limits.max_connections.max(1) - slots.available_permits(),
            drain = ?limits.drain,
            "drain time is up: the connections still open are closed"
        ),
    }
}

/// When the connection last changed between busy and idle, and how many requests it is serving.
struct Activity {
    in_flight: AtomicUsize,
    since: AtomicU64,
    opened: Instant,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            since: AtomicU64::new(0),
            opened: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.since.store(self.now(), Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }

    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(self.now().saturating_sub(self.since.load(Ordering::SeqCst)))
    }
}

/// One request in flight on a connection.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.since.store(self.0.now(), Ordering::SeqCst);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(
    stream: TcpStream,
    edge: Arc<Edge>,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let counted = Arc::clone(&activity);
    let peer = stream.peer_addr().ok();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let in_flight = counted.begin();
        let edge = Arc::clone(&edge);
        async move {
            let response = edge.handle(request, peer).await;
            drop(in_flight);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let watchdog = idle_watchdog(&activity, limits.idle_timeout);
    tokio::pin!(watchdog);
    // Once asked to close, the connection gets `drain` to finish its requests, then is dropped.
    let deadline = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(deadline);
    let mut closing = false;
    loop {
        let close = tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut deadline, if closing => return,
            // Idle: nothing to finish, so only a moment for the goodbye (an h2 client that
            // never answers the GOAWAY's PING would otherwise hold it for the whole drain).
            () = &mut watchdog, if !closing => Some(IDLE_GOODBYE),
            changed = stop.changed(), if !closing => {
                (changed.is_err() || *stop.borrow()).then_some(limits.drain)
            }
        };
        if let Some(grace) = close {
            closing = true;
            connection.as_mut().graceful_shutdown();
            deadline.as_mut().reset(tokio::time::Instant::now() + grace);
        }
    }
}

/// How long an idle connection gets to say goodbye before it is dropped.
const IDLE_GOODBYE: Duration = Duration::from_secs(1);

/// Completes once the connection has had no request in flight for `idle_timeout`.
async fn idle_watchdog(activity: &Activity, idle_timeout: Duration) {
    let tick = (idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if activity.idle_for() >= idle_timeout {
            return;
        }
    }
}
