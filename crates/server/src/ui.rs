//! The web page under `/ui/`: the files of the repository's `ui/` folder, embedded in the binary.
//!
//! The page is static; it signs its own requests to the public API with SigV4 (from credentials
//! the person enters), so these routes need no authentication and serve no data. Every build
//! carries the files inside the binary (rust-embed's `debug-embed`, through the default
//! `embedded-ui` feature), so the tests exercise what users run; a debug build without that
//! feature reads them from `ui/` at request time, for editing the page without rebuilding.
//!
//! Every answer is revalidated (`no-cache` with the file's SHA-256 as its ETag): the files are
//! small and a new server version must never meet a stale module graph in a browser cache. The
//! Content-Security-Policy allows only the page's own scripts, styles and API origin.

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};

#[derive(rust_embed::Embed)]
#[folder = "../../ui/"]
struct Assets;

/// Where the page lives; the server prints it at start-up.
pub const PATH: &str = "/ui/";

/// Only same-origin scripts, styles, images and API calls; no inline script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent(PATH) }))
        .route(PATH, get(|headers: HeaderMap| async move { serve("index.html", &headers) }))
        .route(
            "/ui/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                serve(&path, &headers)
            }),
        )
}

/// Whether the page's files are compiled into the binary (borrowed static bytes) rather than
/// read from `ui/` at each request (owned bytes): release builds, and debug builds with the
/// default `embedded-ui` feature.
pub fn embedded() -> bool {
    Assets::get("index.html").is_some_and(|f| matches!(f.data, std::borrow::Cow::Borrowed(_)))
}

/// The content type of a file of the page, by its extension; `None` for anything else, which is
/// then not served (the folder holds only these kinds).
fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        _ => return None,
    })
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let (Some(file), Some(content_type)) = (Assets::get(path), content_type(path)) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain")],
            "not found\n",
        )
            .into_response();
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type)],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_modules_are_embedded_with_their_types() {
        for (path, ty) in [
            ("index.html", "text/html; charset=utf-8"),
            ("generated/api.js", "text/javascript; charset=utf-8"),
            (
                "vendor/noble-hashes/sha2.js",
                "text/javascript; charset=utf-8",
            ),
        ] {
            assert!(Assets::get(path).is_some(), "{path} is not embedded");
            assert_eq!(content_type(path), Some(ty));
        }
        assert_eq!(content_type("README"), None);
    }

    #[test]
    fn the_files_are_compiled_into_the_binary() {
        // The browser tests run a debug build: it must carry the page as users' builds do.
        assert!(embedded(), "ui/ is read from disk, not embedded");
    }
}
