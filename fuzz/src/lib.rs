//! What the fuzz targets share: running a future that never waits, and splitting an input into a
//! request line, headers and a body.
//!
//! Inputs are text where they can be (an HTTP request, JSON, NDJSON), so the corpora are readable
//! and seeded from real requests and files rather than from an opaque binary encoding.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future that completes without waiting on anything (no I/O, no timers): the wire layer
/// with an API that answers at once. A future that does wait is a bug in the target.
pub fn run_ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future waited on something"),
    }
}

/// An HTTP/1 request as text: `METHOD TARGET` on the first line, `name: value` header lines, a
/// blank line, then the body (bytes). Missing parts are empty.
pub struct RawRequest<'a> {
    pub method: &'a [u8],
    pub target: &'a [u8],
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub body: &'a [u8],
}

fn split_once(data: &[u8], at: &[u8]) -> Option<(usize, usize)> {
    data.windows(at.len())
        .position(|w| w == at)
        .map(|i| (i, i + at.len()))
}

impl<'a> RawRequest<'a> {
    pub fn parse(data: &'a [u8]) -> RawRequest<'a> {
        let (head, body) = match split_once(data, b"\n\n") {
            Some((end, start)) => (&data[..end], &data[start..]),
            None => (data, &data[data.len()..]),
        };
        let mut lines = head.split(|&b| b == b'\n');
        let first = lines.next().unwrap_or_default();
        let (method, target) = match first.iter().position(|&b| b == b' ') {
            Some(i) => (&first[..i], &first[i + 1..]),
            None => (first, &first[first.len()..]),
        };
        let headers = lines
            .filter_map(|l| {
                let i = l.iter().position(|&b| b == b':')?;
                let value = &l[i + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                Some((&l[..i], value))
            })
            .collect();
        RawRequest {
            method,
            target,
            headers,
            body,
        }
    }

    /// The request as hyper would hand it to the server, or `None` when hyper would have refused
    /// it (a method, target or header that HTTP does not allow never reaches caseload).
    pub fn to_parts(&self) -> Option<http::request::Parts> {
        let mut b = http::Request::builder()
            .method(http::Method::from_bytes(self.method).ok()?)
            .uri(http::Uri::try_from(self.target).ok()?);
        for (name, value) in &self.headers {
            b = b.header(
                http::HeaderName::from_bytes(name).ok()?,
                http::HeaderValue::from_bytes(value).ok()?,
            );
        }
        Some(b.body(()).ok()?.into_parts().0)
    }
}
