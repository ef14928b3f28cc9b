//! Error answers in Data Explorer's OneApiError shape (`{"error":{code, message, @type,
//! @message, @permanent, ...}}`), which every SDK parses: a body without `error` breaks them.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error the emulator answers with.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OneApiError `code` (e.g. `BadRequest`).
    pub code: String,
    /// The .NET exception type the service would name in `@type`.
    pub type_name: String,
    /// The detailed message (`@message`).
    pub message: String,
    /// Whether retrying cannot help (`@permanent`).
    pub permanent: bool,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A 400 `BadRequest` of the given exception type.
    pub fn bad_request(type_name: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequest".into(),
            type_name: type_name.into(),
            message: message.into(),
            permanent: true,
            retry_after: None,
        }
    }

    /// A syntax or semantic error in a control command.
    pub fn bad_command(message: impl Into<String>) -> Self {
        Self::bad_request("Kusto.Data.Exceptions.SyntaxException", message)
    }

    /// A database or table that does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::bad_request("Kusto.Data.Exceptions.EntityNotFoundException", message)
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets the OneApiError code.
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = code.into();
        self
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let summary = match self.status.as_u16() {
            400 => "Request is invalid and cannot be executed.",
            401 => "Unauthorized",
            413 => "Request payload is too large.",
            429 => "The request was throttled.",
            _ => "The service encountered an error.",
        };
        json!({"error": {
            "code": self.code,
            "message": summary,
            "@type": self.type_name,
            "@message": self.message,
            "@failureCode": self.status.as_u16(),
            "@context": {"activityId": uuid::Uuid::new_v4().to_string()},
            "@permanent": self.permanent,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        response
    }
}
