//! A small HTTP/1.1 client with two back ends:
//!
//! * `hyper` (default for `http://`): hyper's connection API directly, with
//!   a keep-alive pool per base URL. Little more than the bytes on the wire,
//!   so the generator leaves the CPU to the server it shares the machine
//!   with.
//! * `reqwest`: the full client (also for `https://` bases).

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Hyper,
    Reqwest,
}

/// An answer: status and the whole body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Bytes,
}

/// A transport failure, named for the error table.
#[derive(Debug)]
pub enum Failure {
    Timeout,
    Connect(String),
    Other(String),
}

impl Failure {
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connect-error",
            Failure::Other(_) => "transport-error",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => write!(f, "timeout"),
            Failure::Connect(e) => write!(f, "connect: {e}"),
            Failure::Other(e) => write!(f, "{e}"),
        }
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// One base URL (`http://host:port`), with its connection pool.
pub struct Base {
    /// `http://host:port` without a trailing slash.
    pub url: String,
    addr: String,
    host: HeaderValue,
    idle: Mutex<Vec<Sender>>,
}

impl Base {
    pub fn parse(url: &str) -> anyhow::Result<Arc<Self>> {
        let url = url.trim_end_matches('/').to_owned();
        let uri: hyper::Uri = url.parse().with_context(|| format!("bad base URL {url}"))?;
        let scheme = uri.scheme_str().unwrap_or("http");
        if scheme != "http" && scheme != "https" {
            bail!("base URL {url}: only http:// and https://");
        }
        if uri.path() != "/" && !uri.path().is_empty() {
            bail!("base URL {url}: give only scheme, host and port");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("base URL {url} has no host"))?;
        let port = authority
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        Ok(Arc::new(Self {
            addr: format!("{}:{port}", authority.host()),
            host: HeaderValue::from_str(authority.as_str())?,
            url,
            idle: Mutex::new(Vec::new()),
        }))
    }

    fn is_https(&self) -> bool {
        self.url.starts_with("https://")
    }

    async fn connect(&self) -> Result<Sender, Failure> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| Failure::Connect(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Failure::Connect(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// A ready pooled connection, or a new one.
    async fn checkout(&self) -> Result<(Sender, bool), Failure> {
        loop {
            let pooled = self.idle.lock().expect("pool lock").pop();
            match pooled {
                Some(mut s) => {
                    if s.is_closed() {
                        continue;
                    }
                    if s.ready().await.is_ok() {
                        return Ok((s, true));
                    }
                }
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    fn checkin(&self, s: Sender) {
        if !s.is_closed() {
            self.idle.lock().expect("pool lock").push(s);
        }
    }

    async fn send_hyper(&self, req: Request<Full<Bytes>>) -> Result<Resp, Failure> {
        let (mut sender, reused) = self.checkout().await?;
        let res = match sender.try_send_request(req).await {
            Ok(r) => r,
            Err(mut e) => match e.take_message() {
                // A kept-alive connection the server had closed: the request
                // was not sent, so it is safe to send it on a new one.
                Some(req) if reused => {
                    sender = self.connect().await?;
                    sender
                        .send_request(req)
                        .await
                        .map_err(|e| Failure::Other(e.to_string()))?
                }
                _ => return Err(Failure::Other(e.into_error().to_string())),
            },
        };
        let status = res.status().as_u16();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::Other(e.to_string()))?
            .to_bytes();
        self.checkin(sender);
        Ok(Resp { status, body })
    }
}

/// Requests share one client; it is cheap to clone.
#[derive(Clone)]
pub struct Client {
    backend: Backend,
    reqwest: reqwest::Client,
    timeout: Duration,
}

impl Client {
    pub fn new(backend: Backend, timeout: Duration) -> anyhow::Result<Self> {
        let reqwest = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(4096)
            .timeout(timeout)
            .build()?;
        Ok(Self {
            backend,
            reqwest,
            timeout,
        })
    }

    /// Sends one request; `json` is the body (content type JSON).
    pub async fn send(
        &self,
        base: &Base,
        method: Method,
        path: &str,
        token: Option<&str>,
        json: Option<Bytes>,
    ) -> Result<Resp, Failure> {
        if self.backend == Backend::Reqwest || base.is_https() {
            return self.send_reqwest(base, method, path, token, json).await;
        }
        let build = |body: Option<Bytes>| -> Result<Request<Full<Bytes>>, Failure> {
            let mut b = Request::builder()
                .method(method.clone())
                .uri(path)
                .header(HOST, base.host.clone());
            if let Some(t) = token {
                b = b.header(AUTHORIZATION, format!("Bearer {t}"));
            }
            let body = match body {
                Some(j) => {
                    b = b.header(CONTENT_TYPE, "application/json");
                    Full::new(j)
                }
                None => Full::new(Bytes::new()),
            };
            b.body(body).map_err(|e| Failure::Other(e.to_string()))
        };
        let attempt = base.send_hyper(build(json)?);
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn send_reqwest(
        &self,
        base: &Base,
        method: Method,
        path: &str,
        token: Option<&str>,
        json: Option<Bytes>,
    ) -> Result<Resp, Failure> {
        let mut rb = self.reqwest.request(method, format!("{}{path}", base.url));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(j) = json {
            rb = rb.header(CONTENT_TYPE, "application/json").body(j);
        }
        let map = |e: reqwest::Error| {
            if e.is_timeout() {
                Failure::Timeout
            } else if e.is_connect() {
                Failure::Connect(e.to_string())
            } else {
                Failure::Other(e.to_string())
            }
        };
        let res = rb.send().await.map_err(map)?;
        let status = res.status().as_u16();
        let body = res.bytes().await.map_err(map)?;
        Ok(Resp { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let b = Base::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(b.url, "http://127.0.0.1:8080");
        assert_eq!(b.addr, "127.0.0.1:8080");
        assert_eq!(b.host, "127.0.0.1:8080");
        let b = Base::parse("http://localhost").unwrap();
        assert_eq!(b.addr, "localhost:80");
        assert!(Base::parse("ftp://x").is_err());
        assert!(Base::parse("http://x:1/api").is_err());
    }
}
