//! The transport under each AMQP connection: a TCP stream that a fault (or shutdown) can cut
//! at once, so that clients see a dropped connection rather than a polite close, and whose
//! outgoing frames pass through the [`FrameRewriter`] (full-length performatives for pyamqp),
//! and whose incoming frames pass through the [`IncomingFilter`] (a client's detaches that its
//! session end makes moot are dropped, see `frames.rs`), and whose settled dispositions for
//! fe2o3 0.16 senders are held back a little (see `settle.rs`).

use super::frames::{FrameRewriter, IncomingFilter};
use super::settle::LateSettlement;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// A TCP stream that fails every read and write once its token is cancelled.
pub(crate) struct CuttableStream {
    inner: TcpStream,
    cut: Pin<Box<WaitForCancellationFutureOwned>>,
    token: CancellationToken,
    rewriter: FrameRewriter,
    /// Rewritten bytes not yet written to the socket.
    out: Vec<u8>,
    /// Incoming bytes, filtered, on their way to the AMQP engine.
    filter: IncomingFilter,
    /// Bytes read and passed by the filter, not yet handed to the engine.
    ready: Vec<u8>,
    /// When held-back detaches are released even if no end follows them.
    hold: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The client's links and deliveries, and the settled dispositions held back for them.
    settle: LateSettlement,
    /// When the next held disposition is due.
    settle_timer: Option<Pin<Box<tokio::time::Sleep>>>,
    eof: bool,
}

/// How long a client's trailing detaches are held back, waiting for the session end that a
/// dropped (rather than closed) client session sends right after them. The SDK's first detach
/// goes out alone and the rest (second detach, end) only once that is acknowledged — with no
/// reply to carry the ACK, ~40 ms later (Nagle on the client, delayed ACK here). A normal link
/// close waits up to this much longer for its reply.
const DETACH_HOLD: std::time::Duration = std::time::Duration::from_millis(100);

/// Above this many unwritten bytes, writes wait for the socket.
const OUT_HIGH_WATER: usize = 256 * 1024;

impl std::fmt::Debug for CuttableStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CuttableStream")
            .field("peer", &self.inner.peer_addr().ok())
            .finish()
    }
}

impl CuttableStream {
    pub fn new(inner: TcpStream, token: CancellationToken) -> Self {
        CuttableStream {
            inner,
            cut: Box::pin(token.clone().cancelled_owned()),
            token,
            rewriter: FrameRewriter::default(),
            out: Vec::new(),
            filter: IncomingFilter::default(),
            ready: Vec::new(),
            hold: None,
            settle: LateSettlement::default(),
            settle_timer: None,
            eof: false,
        }
    }

    fn check_cut(&mut self, cx: &mut Context<'_>) -> Result<(), io::Error> {
        if self.token.is_cancelled() || self.cut.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection dropped by the emulator",
            ));
        }
        Ok(())
    }

    /// Starts the timer for the next held disposition, if there is one and no timer runs.
    fn arm_settle_timer(&mut self) {
        if self.settle_timer.is_none() {
            if let Some(due) = self.settle.next_due() {
                self.settle_timer = Some(Box::pin(tokio::time::sleep_until(due.into())));
            }
        }
    }

    /// Sends the held dispositions that are due, and keeps the timer for the next one armed
    /// (registered with `cx`).
    fn poll_settle(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        while let Some(timer) = self.settle_timer.as_mut() {
            if timer.as_mut().poll(cx).is_pending() {
                break;
            }
            self.settle_timer = None;
            self.settle
                .release_due(std::time::Instant::now(), &mut self.out);
            self.arm_settle_timer();
        }
        match self.poll_drain(cx) {
            Poll::Ready(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Writes pending rewritten bytes; ready when all are written.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.out.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.out) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.out.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

use std::future::Future;

impl AsyncRead for CuttableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check_cut(cx) {
            return Poll::Ready(Err(e));
        }
        let mut chunk = [0u8; 16 * 1024];
        while this.ready.is_empty() && !this.eof {
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    this.eof = true;
                    this.filter.finish(&mut this.ready);
                    this.hold = None;
                }
                Poll::Ready(Ok(())) => {
                    let before = this.ready.len();
                    let holding = this.filter.push(rb.filled(), &mut this.ready);
                    this.settle.incoming(&this.ready[before..]);
                    if !holding {
                        this.hold = None;
                    } else if this.hold.is_none() {
                        this.hold = Some(Box::pin(tokio::time::sleep(DETACH_HOLD)));
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    let expired = match this.hold.as_mut() {
                        Some(h) => h.as_mut().poll(cx).is_ready(),
                        None => false,
                    };
                    if expired {
                        this.hold = None;
                        let before = this.ready.len();
                        this.filter.release(&mut this.ready);
                        this.settle.incoming(&this.ready[before..]);
                        continue;
                    }
                    if let Err(e) = this.poll_settle(cx) {
                        return Poll::Ready(Err(e));
                    }
                    return Poll::Pending;
                }
            }
        }
        let n = this.ready.len().min(buf.remaining());
        buf.put_slice(&this.ready[..n]);
        this.ready.drain(..n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check_cut(cx) {
            return Poll::Ready(Err(e));
        }
        if this.out.len() >= OUT_HIGH_WATER {
            match this.poll_drain(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let mut rewritten = Vec::new();
        this.rewriter.push(buf, &mut rewritten);
        this.settle
            .outgoing(&rewritten, std::time::Instant::now(), &mut this.out);
        this.arm_settle_timer();
        // Start writing now; what does not fit is written by later writes or flushes.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check_cut(cx) {
            return Poll::Ready(Err(e));
        }
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(_) => Pin::new(&mut this.inner).poll_shutdown(cx),
            Poll::Pending => Poll::Pending,
        }
    }
}
