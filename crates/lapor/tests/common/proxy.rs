//! A TCP proxy in front of PostgreSQL or Redis, so a test can take "the
//! service" away from the Lapor processes it started without touching the
//! shared server that other tests use at the same time.
//!
//! The processes are given the proxy's address instead of the real one.
//! [`Proxy::down`] closes every open connection and stops listening (new
//! connections are refused, as by a stopped server); [`Proxy::up`] listens
//! on the same port again. Needs a multi-threaded runtime when the test
//! itself blocks (the proxy's tasks run on the test's runtime).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    target: String,
    /// What the test wants: true = serve, false = down.
    want_up: watch::Sender<bool>,
    /// What the accept loop does: true while it listens.
    listening: watch::Receiver<bool>,
    /// Connections accepted since the start.
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target` (host:port).
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().unwrap().port();
        let (want_up, want_rx) = watch::channel(true);
        let (listening_tx, listening) = watch::channel(true);
        let accepted = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept_loop(
            Some(listener),
            port,
            target.to_owned(),
            want_rx,
            listening_tx,
            accepted.clone(),
        ));
        Self {
            port,
            target: target.to_owned(),
            want_up,
            listening,
            accepted,
            task,
        }
    }

    /// The proxy's address as host:port.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Closes every open connection and refuses new ones until [`up`].
    pub async fn down(&self) {
        self.want_up.send_replace(false);
        let mut l = self.listening.clone();
        let _ = l.wait_for(|listening| !*listening).await;
    }

    /// Accepts connections again (on the same port).
    pub async fn up(&self) {
        self.want_up.send_replace(true);
        let mut l = self.listening.clone();
        let _ = l.wait_for(|listening| *listening).await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Open connections close when the sender is gone (see `pipe`).
        self.want_up.send_replace(false);
        self.task.abort();
    }
}

async fn accept_loop(
    mut first: Option<TcpListener>,
    port: u16,
    target: String,
    mut want_up: watch::Receiver<bool>,
    listening: watch::Sender<bool>,
    accepted: Arc<AtomicUsize>,
) {
    // Each connection watches a clone (wait_for looks at the current value).
    let for_conns = want_up.clone();
    loop {
        if want_up.wait_for(|up| *up).await.is_err() {
            return;
        }
        let listener = match first.take() {
            Some(l) => l,
            None => rebind(port).await,
        };
        listening.send_replace(true);
        loop {
            tokio::select! {
                r = listener.accept() => {
                    if let Ok((client, _)) = r {
                        accepted.fetch_add(1, Ordering::Relaxed);
                        tokio::spawn(pipe(client, target.clone(), for_conns.clone()));
                    }
                }
                r = want_up.wait_for(|up| !*up) => {
                    if r.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
        // Not listening any more: connection attempts are refused.
        drop(listener);
        listening.send_replace(false);
    }
}

async fn rebind(port: u16) -> TcpListener {
    // The port was ours a moment ago (SO_REUSEADDR is set on Unix).
    for _ in 0..100 {
        if let Ok(l) = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("proxy could not listen on port {port} again");
}

/// Forwards one connection until either side closes or the proxy goes down
/// (then both sockets are dropped, i.e. closed).
async fn pipe(mut client: TcpStream, target: String, mut want_up: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(&target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        // Down, or the proxy was dropped.
        _ = want_up.wait_for(|up| !*up) => {}
    }
}
