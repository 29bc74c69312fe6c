//! Logs on standard error: human-readable text by default, or one JSON object per line
//! (`--log-format json`), each line with the node's name so that a fleet's logs can be merged.
//! The level is set by `CASELOAD_LOG` (an `EnvFilter`, default `warn`).

use std::fmt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per line: timestamp, level, node, fields (message included), target,
    /// and the span the event happened in (a request's id, method and path).
    Json,
}

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(format: LogFormat, node: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CASELOAD_LOG")
        .unwrap_or_else(|_| "warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .event_format(WithNode::text(
                tracing_subscriber::fmt::format::Format::default(),
                node,
            ))
            .init(),
        LogFormat::Json => builder
            .json()
            .event_format(WithNode::json(
                tracing_subscriber::fmt::format()
                    .json()
                    .with_span_list(false),
                node,
            ))
            .init(),
    }
}

/// The node's name: `--node-name`, else the host's name.
pub fn node_name(given: Option<String>) -> String {
    given.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    })
}

/// An event formatter that adds the node's name to another's lines: before a text line (as
/// `node=NAME `), or as the first member of a JSON line (tracing-subscriber's JSON formatter has
/// no way to add a constant member).
struct WithNode<F> {
    inner: F,
    json: bool,
    /// What is written: `node=NAME ` for text, `"node":"NAME",` for JSON.
    node: String,
}

impl<F> WithNode<F> {
    fn text(inner: F, node: &str) -> Self {
        let plain = !node.is_empty()
            && node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
        let node = if plain {
            format!("node={node} ")
        } else {
            format!("node={node:?} ")
        };
        WithNode {
            inner,
            json: false,
            node,
        }
    }

    fn json(inner: F, node: &str) -> Self {
        let quoted = serde_json::to_string(node).unwrap_or_else(|_| "\"\"".into());
        WithNode {
            inner,
            json: true,
            node: format!("\"node\":{quoted},"),
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithNode<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if !self.json {
            writer.write_str(&self.node)?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => {
                writer.write_char('{')?;
                writer.write_str(&self.node)?;
                writer.write_str(rest)
            }
            None => writer.write_str(&line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Captures what a subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn a_json_line_is_one_object_with_the_node_the_message_and_the_request_span() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .json()
            .event_format(WithNode::json(
                tracing_subscriber::fmt::format()
                    .json()
                    .with_span_list(false),
                "node \"a\"",
            ))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "r-1");
            let _enter = span.enter();
            tracing::warn!(status = 503, "not ready");
        });
        let text = out.text();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["node"], "node \"a\"");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["message"], "not ready");
        assert_eq!(line["fields"]["status"], 503);
        assert_eq!(line["span"]["request_id"], "r-1");
    }

    #[test]
    fn a_text_line_starts_with_the_node() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .event_format(WithNode::text(
                tracing_subscriber::fmt::format::Format::default().with_ansi(false),
                "caseload-1",
            ))
            .finish();
        tracing::subscriber::with_default(subscriber, || tracing::warn!("hello"));
        let text = out.text();
        assert!(text.starts_with("node=caseload-1 "), "{text}");
        assert!(text.trim_end().ends_with("hello"), "{text}");
        assert_eq!(WithNode::text((), "two words").node, "node=\"two words\" ");
    }

    #[test]
    fn the_node_defaults_to_the_host_name() {
        assert_eq!(node_name(Some("n1".into())), "n1");
        let host = node_name(None);
        assert!(!host.is_empty());
        assert_eq!(node_name(Some(String::new())), host);
    }
}
