//! A request body that must be complete by a deadline: the body read timeout.
//!
//! tower-http's `RequestBodyTimeout` restarts its timer on every frame, so a client that sends
//! one byte a second under a ten-second timeout holds the request forever. This deadline is
//! fixed when the request head has arrived and never moves, so a trickled body is refused
//! within the configured time however it is paced.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use tokio::time::{Instant, Sleep};

/// Why a body was refused: it was not complete within the body read timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within {0:?}")]
pub struct BodyReadTimeout(Duration);

/// `inner`, failing with [`BodyReadTimeout`] once `timeout` has passed since it was made.
pub(crate) fn with_deadline(inner: Body, timeout: Duration) -> Body {
    if inner.is_end_stream() {
        return inner;
    }
    Body::new(DeadlineBody {
        inner,
        timeout,
        deadline: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)),
    })
}

struct DeadlineBody {
    inner: Body,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            // Unwrapped, so that the size cap's `LengthLimitError` stays within the two layers
            // of `axum::Error` axum's extractors look through for it.
            return Poll::Ready(frame.map(|frame| frame.map_err(axum::Error::into_inner)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyReadTimeout(self.timeout).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_fails_at_the_deadline_however_it_is_paced() {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stream = tokio_stream_from(receiver);
        let body = with_deadline(Body::from_stream(stream), Duration::from_secs(3));
        let trickle = tokio::spawn(async move {
            // One byte a second: a per-frame timer of 3 s would never fire.
            for _ in 0..10 {
                if sender.send(Ok(Bytes::from_static(b"x"))).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let started = Instant::now();
        let error = body.collect().await.unwrap_err();
        assert!(error.to_string().contains("not received within"), "{error}");
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        trickle.abort();
    }

    #[tokio::test]
    async fn a_complete_body_is_passed_through() {
        let body = with_deadline(Body::from("hello"), Duration::from_secs(3));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "hello");
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut receiver: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures::Stream<Item = T> + Send + 'static {
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed()
    }
}
