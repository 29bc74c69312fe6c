//! One API call of the reliability run: bounded in time, and classified by what its answer says
//! about the write: applied, not applied, or unknown.

use bytes::Bytes;
use caseload_client::{Client, HttpMethod as Method};
use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// What came back.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 2xx, with its body.
    Ok(Json),
    /// Any other status: the error type (`ConflictException`, …), the status and the message.
    Error {
        code: String,
        status: u16,
        message: String,
    },
    /// No answer: the connection failed or broke (the server was killed), or `timeout` passed.
    Lost(String),
}

impl Answer {
    /// Whether a write with this answer may have been applied although it was not acknowledged:
    /// no answer at all, or a server error (a commit that failed after it reached the disk is
    /// as possible as one that did not). A 4xx means nothing was written.
    pub fn in_doubt(&self) -> bool {
        match self {
            Answer::Ok(_) => false,
            Answer::Error { status, .. } => *status >= 500,
            Answer::Lost(_) => true,
        }
    }

    /// The kind of answer: `200`, `ConflictException (409)`, or why there was none.
    pub fn describe(&self) -> String {
        match self {
            Answer::Ok(_) => "200".into(),
            Answer::Error { code, status, .. } => format!("{code} ({status})"),
            Answer::Lost(why) => why.clone(),
        }
    }

    /// The error's message, if the server sent one.
    pub fn message(&self) -> &str {
        match self {
            Answer::Error { message, .. } => message,
            _ => "",
        }
    }
}

/// Sends `body` (JSON) and waits at most `timeout`; also returns how long the answer took.
pub async fn call(
    client: &Client,
    method: Method,
    path: &str,
    body: &Json,
    timeout: Duration,
) -> (Answer, Duration) {
    let bytes = Bytes::from(serde_json::to_vec(body).expect("JSON values serialize"));
    let started = Instant::now();
    let answer = match tokio::time::timeout(timeout, client.send(method, path, bytes)).await {
        Err(_) => Answer::Lost(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(e)) => Answer::Lost(e.to_string()),
        Ok(Ok(r)) if (200..300).contains(&r.status) => {
            let body: &[u8] = if r.body.is_empty() { b"{}" } else { &r.body };
            match serde_json::from_slice(body) {
                Ok(json) => Answer::Ok(json),
                Err(e) => Answer::Lost(format!("unreadable answer: {e}")),
            }
        }
        Ok(Ok(r)) => match caseload_client::api_error(&r) {
            caseload_client::ClientError::Api {
                status,
                code,
                message,
            } => Answer::Error {
                code,
                status,
                message,
            },
            other => Answer::Lost(other.to_string()),
        },
    };
    (answer, started.elapsed())
}

/// How long a verification read keeps retrying a retryable answer (a 5xx or a 429): a server
/// whose index is catching up (after a full disk, or rebuilding after a restart) answers
/// searches with a retryable InternalServerException until it has, as AWS SDKs expect, and
/// such an answer is not a divergence unless it lasts.
pub const RECOVERY: Duration = Duration::from_secs(90);

impl Answer {
    /// Whether an SDK would send the request again after this answer.
    fn retryable(&self) -> bool {
        matches!(self, Answer::Error { status, .. } if *status >= 500 || *status == 429)
    }
}

/// `call`, sent again with back-off while the answer is retryable, for at most `RECOVERY`; for
/// reads, which are safe to repeat.
pub async fn read(
    client: &Client,
    method: Method,
    path: &str,
    body: &Json,
    timeout: Duration,
) -> (Answer, Duration) {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let (answer, took) = call(client, method.clone(), path, body, timeout).await;
        if !answer.retryable() || started.elapsed() + pause >= RECOVERY {
            return (answer, took);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// `call`, for requests that must succeed: the 2xx body, or what came instead.
pub async fn ok(
    client: &Client,
    method: Method,
    path: &str,
    body: &Json,
    timeout: Duration,
) -> Result<Json, String> {
    match call(client, method, path, body, timeout).await.0 {
        Answer::Ok(json) => Ok(json),
        other => Err(format!("{path}: {}", other.describe())),
    }
}

/// Every element of the list `key` of a paged POST, following `nextToken`, at most `pages`
/// pages.
pub async fn all_pages(
    client: &Client,
    path: &str,
    mut body: Json,
    key: &str,
    pages: usize,
    timeout: Duration,
) -> Result<Vec<Json>, String> {
    let mut items = Vec::new();
    for _ in 0..pages {
        let mut out = match read(client, Method::POST, path, &body, timeout).await.0 {
            Answer::Ok(json) => json,
            other => return Err(format!("{path}: {}", other.describe())),
        };
        if let Some(list) = out[key].as_array_mut() {
            items.append(list);
        }
        match out["nextToken"].as_str() {
            Some(t) => body["nextToken"] = Json::from(t),
            None => break,
        }
    }
    Ok(items)
}

/// The string at `pointer` (`/relatedItemId`) in each of `items` that has one.
pub fn strings(items: &[Json], pointer: &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i.pointer(pointer)?.as_str().map(str::to_owned))
        .collect()
}
