//! A small client for the Cases API over plain HTTP/1.1: each request is signed with SigV4 by
//! `aws-sigv4`, the signer the AWS SDK for Rust uses, and sent on a pool of keep-alive
//! connections. It exists for bulk import through a running server and for the benchmark's load
//! generator, where the full SDK would cost minutes of build time and its own per-request
//! overhead; the API suites keep using the real SDKs.
//!
//! Two layers. `Client::execute` is typed: it takes an operation's generated input shape and
//! answers with its output shape or the API's `Error`; method, URI labels, query string and body
//! come from the model's tables (`request`), and error answers are read back into the error the
//! server raised (`service_error`), so a change of the model breaks callers at compile time.
//! Below it, `send` takes a method, a path and a body as given, for what the model does not
//! describe (the server's `/_caseload/` endpoints), and `send_request` sends a request built
//! once by `build_request` many times (the benchmark's load).

mod request;
mod service_error;

pub use request::{HttpRequest, build as build_request};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use caseload_model::OperationInput;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("request failed: {0}")]
    Transport(String),
    #[error("cannot sign the request: {0}")]
    Signing(String),
    #[error("unexpected response body: {0}")]
    Body(String),
}

/// What a typed call (`Client::execute`) can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The server refused the call: its status, the error code it sent, and the API error that
    /// code stands for (`Error::NotFound` carries the resource's id and type).
    #[error("{code} (HTTP {status}): {error}")]
    Service {
        status: u16,
        code: String,
        error: caseload_model::Error,
    },
    /// The input cannot be addressed (a URI label left empty); nothing was sent.
    #[error("cannot build the request: {0}")]
    Request(String),
    /// No answer, or one that could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl CallError {
    /// The service's error code (`ResourceNotFoundException`, …), if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// An answer of any status, as received.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub error_type: Option<String>,
    /// `Retry-After` in seconds, when the server sent it (with a retryable error).
    pub retry_after: Option<u32>,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Client {
    pool: Pool<HttpConnector, Full<Bytes>>,
    /// `http://host:port`, without a trailing slash.
    endpoint: String,
    host: String,
    identity: Identity,
    region: String,
}

impl Client {
    /// A client for `endpoint` (`http://host:port`) signing as `access_key`/`secret` in `region`.
    pub fn new(endpoint: &str, access_key: &str, secret: &str, region: &str) -> Client {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let host = endpoint
            .split_once("://")
            .map_or(endpoint.as_str(), |(_, rest)| rest)
            .to_owned();
        let mut connector = HttpConnector::new();
        // Small request/response pairs: waiting to coalesce them only adds latency.
        connector.set_nodelay(true);
        Client {
            pool: Pool::builder(TokioExecutor::new()).build(connector),
            endpoint,
            host,
            identity: aws_credential_types::Credentials::new(
                access_key, secret, None, None, "caseload",
            )
            .into(),
            region: region.to_owned(),
        }
    }

    /// Calls the operation `input` belongs to and reads its answer: the output shape on
    /// success, otherwise the API's error as the server raised it.
    pub async fn execute<I: OperationInput>(&self, input: &I) -> Result<I::Output, CallError> {
        let request = request::build(input).map_err(CallError::Request)?;
        let r = self.send_request(&request).await?;
        if !(200..300).contains(&r.status) {
            let body = serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
            let code = service_error::error_code(r.error_type.as_deref(), &body)
                .unwrap_or_else(|| "UnknownError".to_owned());
            return Err(CallError::Service {
                status: r.status,
                error: service_error::service_error(&code, &body, r.retry_after),
                code,
            });
        }
        read_output(&r.body).map_err(|e| ClientError::Body(e.to_string()).into())
    }

    /// Sends a request built by `build_request` and returns the answer whatever its status:
    /// for callers that send one request many times or only need the status (the benchmark's
    /// load generator, which must not spend its CPU on reading answers).
    pub async fn send_request(&self, request: &HttpRequest) -> Result<Response, ClientError> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let (body, content_type) = match &request.body {
            Some(body) => (body.clone(), Some("application/json")),
            None => (Bytes::new(), None),
        };
        self.send_with(
            method,
            &request.path_and_query,
            &request.headers,
            body,
            content_type,
        )
        .await
    }

    /// Sends a signed request with a JSON body and returns the answer whatever its status.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Bytes,
    ) -> Result<Response, ClientError> {
        self.send_with(method, path_and_query, &[], body, Some("application/json"))
            .await
    }

    async fn send_with(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<Response, ClientError> {
        let uri = format!("{}{path_and_query}", self.endpoint);
        let mut builder = Request::builder()
            .method(method)
            .uri(&uri)
            .header("host", &self.host);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let mut request = builder
            .body(Full::new(body.clone()))
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        self.sign(&mut request, &body)?;
        let response = self
            .pool
            .request(request)
            .await
            .map_err(|e| ClientError::Transport(format!("{e:?}")))?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_owned());
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .to_bytes();
        Ok(Response {
            status,
            error_type,
            retry_after,
            body,
        })
    }

    fn sign(&self, request: &mut Request<Full<Bytes>>, body: &[u8]) -> Result<(), ClientError> {
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("cases")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| ClientError::Signing(e.to_string()))?
            .into();
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers,
            SignableBody::Bytes(body),
        )
        .map_err(|e| ClientError::Signing(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| ClientError::Signing(e.to_string()))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// An output shape from a 2xx body. Operations without output (TagResource, UntagResource)
/// answer with an empty body or `{}`, and their output, `()`, reads only from `null`.
fn read_output<O: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<O> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).or_else(|e| {
        if body == b"{}" {
            serde_json::from_slice(b"null")
        } else {
            Err(e)
        }
    })
}

pub use http::Method as HttpMethod;
