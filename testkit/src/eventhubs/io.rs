//! The transport under each AMQP connection: a TCP stream that a fault (or shutdown) can cut
//! at once, so that clients see a dropped connection rather than a polite close, and whose
//! outgoing frames pass through the [`FrameRewriter`] (full-length performatives for pyamqp).

use super::frames::FrameRewriter;

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
}

/// Above this many unwritten bytes, writes wait for the socket.
const OUT_HIGH_WATER: usize = 256 * 1024;

impl std::fmt::Debug for CuttableStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CuttableStream").field("peer", &self.inner.peer_addr().ok()).finish()
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
        }
    }

    fn check_cut(&mut self, cx: &mut Context<'_>) -> Result<(), io::Error> {
        if self.token.is_cancelled() || self.cut.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection dropped by the emulator"));
        }
        Ok(())
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
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check_cut(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
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
        let mut out = std::mem::take(&mut this.out);
        this.rewriter.push(buf, &mut out);
        this.out = out;
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
