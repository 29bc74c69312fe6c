//! One API call of the reliability run: bounded in time, and classified by what its answer says
//! about the write: applied, not applied, or unknown. Calls go through the typed client
//! (`Client::execute` with the model's input shapes), so a model change breaks them at compile
//! time.

use caseload_client::{CallError, Client};
use caseload_model::OperationInput;
use caseload_model::shapes::{
    FieldValue, FieldValueUnion, GetCaseAuditEventsRequest, SearchCasesRequest,
    SearchRelatedItemsRequest,
};
use std::time::{Duration, Instant};

/// What came back.
#[derive(Clone, Debug)]
pub enum Answer<T> {
    /// 2xx, with the operation's output.
    Ok(T),
    /// Any other status: the error type (`ConflictException`, …), the status and the message.
    Error {
        code: String,
        status: u16,
        message: String,
    },
    /// No answer: the connection failed or broke (the server was killed), `timeout` passed, or
    /// the answer could not be read.
    Lost(String),
}

impl<T> Answer<T> {
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

    /// Whether the server refused the call with the error `code`.
    pub fn is_error(&self, code: &str) -> bool {
        matches!(self, Answer::Error { code: c, .. } if c == code)
    }
}

/// Calls `input`'s operation and waits at most `timeout`; also returns how long the answer took.
pub async fn call<I: OperationInput>(
    client: &Client,
    input: &I,
    timeout: Duration,
) -> (Answer<I::Output>, Duration) {
    let started = Instant::now();
    let answer = match tokio::time::timeout(timeout, client.execute(input)).await {
        Err(_) => Answer::Lost(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Ok(output)) => Answer::Ok(output),
        Ok(Err(CallError::Service {
            status,
            code,
            error,
        })) => Answer::Error {
            code,
            status,
            message: sent_message(error),
        },
        Ok(Err(e)) => Answer::Lost(e.to_string()),
    };
    (answer, started.elapsed())
}

/// The message as the server sent it: `Error`'s own text, but without the prefix `Internal`
/// adds for logs.
fn sent_message(error: caseload_model::Error) -> String {
    match error {
        caseload_model::Error::Internal(message) => message,
        other => other.to_string(),
    }
}

/// How long a verification read keeps retrying a retryable answer (a 5xx or a 429): a server
/// whose index is catching up (after a full disk, or rebuilding after a restart) answers
/// searches with a retryable InternalServerException until it has, as AWS SDKs expect, and
/// such an answer is not a divergence unless it lasts.
pub const RECOVERY: Duration = Duration::from_secs(90);

impl<T> Answer<T> {
    /// Whether an SDK would send the request again after this answer.
    fn retryable(&self) -> bool {
        matches!(self, Answer::Error { status, .. } if *status >= 500 || *status == 429)
    }
}

/// `call`, sent again with back-off while the answer is retryable, for at most `RECOVERY`; for
/// reads, which are safe to repeat.
pub async fn read<I: OperationInput>(
    client: &Client,
    input: &I,
    timeout: Duration,
) -> (Answer<I::Output>, Duration) {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let (answer, took) = call(client, input, timeout).await;
        if !answer.retryable() || started.elapsed() + pause >= RECOVERY {
            return (answer, took);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// `call`, for requests that must succeed: the 2xx body, or what came instead.
pub async fn ok<I: OperationInput>(
    client: &Client,
    input: &I,
    timeout: Duration,
) -> Result<I::Output, String> {
    match call(client, input, timeout).await.0 {
        Answer::Ok(output) => Ok(output),
        other => Err(format!("{}: {}", I::OPERATION.name(), other.describe())),
    }
}

/// An input read page by page: where its `nextToken` goes, and where its output's comes from.
pub trait Paged: OperationInput {
    fn set_token(&mut self, token: String);
    fn token(output: &Self::Output) -> Option<&str>;
}

macro_rules! paged {
    ($($input:ty),*) => {$(
        impl Paged for $input {
            fn set_token(&mut self, token: String) {
                self.next_token = Some(token);
            }
            fn token(output: &Self::Output) -> Option<&str> {
                output.next_token.as_deref()
            }
        }
    )*};
}

paged!(
    SearchCasesRequest,
    SearchRelatedItemsRequest,
    GetCaseAuditEventsRequest
);

/// Every page of a paged read (`read`, so retried while retryable), at most `pages` pages.
pub async fn all_pages<I: Paged>(
    client: &Client,
    mut input: I,
    pages: usize,
    timeout: Duration,
) -> Result<Vec<I::Output>, String> {
    let mut out = Vec::new();
    for _ in 0..pages {
        let page = match read(client, &input, timeout).await.0 {
            Answer::Ok(page) => page,
            other => return Err(format!("{}: {}", I::OPERATION.name(), other.describe())),
        };
        let next = I::token(&page).map(str::to_owned);
        out.push(page);
        match next {
            Some(t) => input.set_token(t),
            None => break,
        }
    }
    Ok(out)
}

/// A field value of a write.
pub fn value(id: &str, value: FieldValueUnion) -> FieldValue {
    FieldValue {
        id: id.to_owned(),
        value,
    }
}

/// A Text value.
pub fn text(s: impl Into<String>) -> FieldValueUnion {
    FieldValueUnion::StringValue(s.into())
}
