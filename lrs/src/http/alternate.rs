//! The xAPI 1.0.3 Alternate Request Syntax (Communication §1.3): a POST with `?method=X` whose
//! form body carries the headers, the query parameters and the content of the real request.
//! It is rewritten here into that request before routing. xAPI 2.0 removed the syntax, so a
//! 2.0 request using it is refused.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use xapi::Version;

use super::query_pairs;
use crate::error::ApiError;

/// The form fields treated as headers (Communication §1.3, "Headers").
const HEADER_FIELDS: [&str; 6] = [
    "Authorization",
    "X-Experience-API-Version",
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
];

/// The largest alternate-syntax form accepted; its content is a statement or a document.
const MAX_FORM_BYTES: usize = 10 * 1024 * 1024;

pub async fn rewrite(request: Request, next: Next) -> Response {
    let params = query_pairs(request.uri());
    if !params.iter().any(|(k, _)| k == "method") {
        return next.run(request).await;
    }
    match rewritten(request, params).await {
        Ok(request) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn refuse(message: &str) -> ApiError {
    ApiError::invalid("method", "alternate-request-syntax", message)
}

async fn rewritten(request: Request, params: Vec<(String, String)>) -> Result<Request, ApiError> {
    if request.method() != Method::POST {
        return Err(refuse(
            "the alternate request syntax must be sent as a POST",
        ));
    }
    if params.len() != 1 {
        return Err(refuse(
            "with the alternate request syntax, method must be the only query parameter; send the others as form fields",
        ));
    }
    let target = match params[0].1.as_str() {
        "GET" => Method::GET,
        "HEAD" => Method::HEAD,
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => return Err(refuse("must be GET, HEAD, PUT, POST or DELETE")),
    };
    let (parts, body) = request.into_parts();
    let form_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge {
            what: "the alternate-syntax form",
            limit: MAX_FORM_BYTES,
        })?;
    if form_type == Some(false) {
        return Err(ApiError::invalid(
            "Content-Type",
            "alternate-request-syntax",
            "an alternate-syntax request must be application/x-www-form-urlencoded",
        ));
    }
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();

    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_TYPE);
    headers.remove(header::CONTENT_LENGTH);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut content = None;
    for (name, value) in fields {
        if name == "content" {
            content = Some(value);
        } else if let Some(field) = HEADER_FIELDS.iter().find(|h| h.eq_ignore_ascii_case(&name)) {
            if field.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            let value = HeaderValue::from_str(&value).map_err(|_| {
                ApiError::invalid(name.clone(), "header-value", "is not a valid header value")
            })?;
            headers.insert(HeaderName::from_static(lowercase(field)), value);
        } else {
            query.append_pair(&name, &value);
        }
    }
    let version = headers
        .get("x-experience-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(Version::from_header);
    if version == Some(Version::V2_0_0) {
        return Err(refuse("xAPI 2.0 removed the alternate request syntax"));
    }
    let sends_content = matches!(target, Method::PUT | Method::POST);
    let body = match (sends_content, content) {
        (true, None) => {
            return Err(ApiError::invalid(
                "content",
                "alternate-request-syntax",
                "a PUT or POST sent with the alternate request syntax needs a content form field",
            ));
        }
        (true, Some(content)) => {
            if !headers.contains_key(header::CONTENT_TYPE) {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Body::from(content)
        }
        (false, _) => Body::empty(),
    };
    let query = query.finish();
    let path = parts.uri.path();
    let uri: Uri = if query.is_empty() {
        path.parse()
    } else {
        format!("{path}?{query}").parse()
    }
    .map_err(|_| refuse("the form fields do not make a valid request"))?;

    let mut request = Request::new(body);
    *request.method_mut() = target;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    *request.extensions_mut() = parts.extensions;
    Ok(request)
}

fn lowercase(field: &str) -> &'static str {
    match field {
        "Authorization" => "authorization",
        "X-Experience-API-Version" => "x-experience-api-version",
        "Content-Type" => "content-type",
        "If-Match" => "if-match",
        "If-None-Match" => "if-none-match",
        _ => "content-length",
    }
}
