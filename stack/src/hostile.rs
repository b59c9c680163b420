//! Peers that misbehave on purpose, over raw TCP, for the fault journeys: clients that open a
//! connection and send nothing, trickle their request head or body (slowloris), or flood a
//! service with idle connections; and [`HangingPeer`], a server that accepts and never
//! answers.
//!
//! Each resolves once the server has closed the attacker's connection and fails if it is
//! still open after `deadline`. Journeys pass a deadline well above the timeout they
//! configured, so what they check is that the connection is closed at all, by the server's
//! own timer, not how fast.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How a hostile connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The status line the server answered before closing (`HTTP/1.1 400 Bad Request`), if
    /// it answered at all.
    pub status_line: Option<String>,
}

/// Opens a connection and sends nothing until the server closes it.
pub async fn idle_connection(addr: SocketAddr, deadline: Duration) -> anyhow::Result<Closed> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    until_closed(stream, Vec::new(), Duration::MAX, deadline).await
}

/// Opens `count` connections that send nothing, and waits until the server has closed all
/// of them.
pub async fn idle_flood(
    addr: SocketAddr,
    count: usize,
    deadline: Duration,
) -> anyhow::Result<Vec<Closed>> {
    let flood: Vec<_> = (0..count)
        .map(|_| tokio::spawn(idle_connection(addr, deadline)))
        .collect();
    let mut closed = Vec::with_capacity(count);
    for connection in flood {
        closed.push(connection.await.context("an idle connection panicked")??);
    }
    Ok(closed)
}

/// Sends a request head one byte per `pace`, a head long enough never to be finished
/// before the server gives up.
pub async fn trickle_head(
    addr: SocketAddr,
    pace: Duration,
    deadline: Duration,
) -> anyhow::Result<Closed> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let mut head = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n").into_bytes();
    // Header lines that never end the head.
    head.extend(std::iter::repeat_n(b"X-Slow: y\r\n", 10_000).flatten());
    until_closed(stream, head, pace, deadline).await
}

/// Sends a complete `POST` head announcing a 4 MiB body, then the body one byte per
/// `pace` (the issue's `Content-Length: 4194304` sent one byte at a time).
pub async fn trickle_body(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    pace: Duration,
    deadline: Duration,
) -> anyhow::Result<Closed> {
    const ANNOUNCED: usize = 4 * 1024 * 1024;
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {ANNOUNCED}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    until_closed(stream, vec![b'x'; ANNOUNCED], pace, deadline).await
}

/// Writes `trickle` one byte per `pace` while reading what the server says, until it closes
/// the connection (end of stream, a reset, or a failed write).
async fn until_closed(
    stream: TcpStream,
    trickle: Vec<u8>,
    pace: Duration,
    deadline: Duration,
) -> anyhow::Result<Closed> {
    let (mut reader, mut writer) = stream.into_split();
    let read_until_closed = async move {
        let mut answer = Vec::new();
        let mut buffer = [0_u8; 4096];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return answer,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    };
    let write_slowly = async move {
        for byte in trickle {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(pace).await;
        }
        // A server that neither reads nor closes: wait for the read side to see the close.
        std::future::pending::<()>().await;
    };
    let answer = tokio::time::timeout(deadline, async {
        tokio::select! {
            answer = read_until_closed => answer,
            () = write_slowly => unreachable!("the writer never finishes"),
        }
    })
    .await;
    let Ok(answer) = answer else {
        bail!("the server kept the connection open for more than {deadline:?}")
    };
    let text = String::from_utf8_lossy(&answer);
    Ok(Closed {
        status_line: text
            .lines()
            .next()
            .filter(|line| line.starts_with("HTTP/"))
            .map(str::to_owned),
    })
}

/// A peer that accepts connections and never answers: a hung upstream API or IdP. It
/// counts the connections it holds, so a journey can check that the caller gave up on them
/// (no request left pending) rather than only that it answered.
#[derive(Debug)]
pub struct HangingPeer {
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    _accepting: AbortOnDrop,
}

impl HangingPeer {
    /// Listens on `addr` (e.g. the port of a service the journey just stopped).
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the hanging peer on {addr}"))?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let accepting = tokio::spawn({
            let (accepted, open) = (accepted.clone(), open.clone());
            async move {
                // Dropped with the accept loop, which closes every held connection.
                let mut held = tokio::task::JoinSet::new();
                while let Ok((mut stream, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    open.fetch_add(1, Ordering::SeqCst);
                    let open = open.clone();
                    held.spawn(async move {
                        // Read and drop whatever comes, never answer, until the caller
                        // closes the connection.
                        let mut buffer = [0_u8; 4096];
                        while matches!(stream.read(&mut buffer).await, Ok(n) if n > 0) {}
                        open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            }
        });
        Ok(Self {
            accepted,
            open,
            _accepting: AbortOnDrop(accepting),
        })
    }

    /// How many connections it has accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// How many of them the caller has not closed yet.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Waits until the caller has closed every connection, or fails after `deadline`.
    pub async fn until_all_closed(&self, deadline: Duration) -> anyhow::Result<()> {
        let until = tokio::time::Instant::now() + deadline;
        while self.open() > 0 {
            if tokio::time::Instant::now() >= until {
                bail!(
                    "{} connection(s) to the hanging peer still open after {deadline:?}",
                    self.open()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}

/// Aborts the hanging peer's accept loop when it is dropped.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
