//! Package files served under a launch link: a path resolved against the package's file list
//! (never the file system), with content types, ETags, conditional GETs and byte ranges.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::ScormServer;
use super::error::ScormError;
use super::packages::FileMeta;

/// A requested byte range, resolved against the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RangeRequest {
    Whole,
    /// `start..=end`, both within the file.
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14.1.2). Several ranges, or a unit other than bytes, are
/// answered with the whole file, which the RFC allows.
pub(super) fn parse_range(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        // The last N bytes.
        match last.parse::<u64>() {
            Ok(0) | Err(_) => return RangeRequest::Unsatisfiable,
            Ok(n) => (len.saturating_sub(n), len.checked_sub(1)),
        }
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return RangeRequest::Whole;
        };
        let end = if last.is_empty() {
            len.checked_sub(1)
        } else {
            match last.parse::<u64>() {
                Ok(end) if end >= start => Some(end.min(len.saturating_sub(1))),
                _ => return RangeRequest::Whole,
            }
        };
        (start, end)
    };
    match range {
        (start, Some(end)) if start <= end && start < len => RangeRequest::Part(start, end),
        _ => RangeRequest::Unsatisfiable,
    }
}

/// Resolves a request path to a file of the package: exact first, then a unique match
/// ignoring ASCII case (packages made on Windows often reference `Images/a.PNG` as
/// `images/a.png`). `.`/`..` segments and empty segments never match.
pub(super) fn resolve<'a>(
    files: &'a std::collections::BTreeMap<String, FileMeta>,
    path: &str,
) -> Option<(&'a String, &'a FileMeta)> {
    if path
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
        || path.contains('\\')
    {
        return None;
    }
    if let Some(found) = files.get_key_value(path) {
        return Some(found);
    }
    let mut matches = files
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(path));
    match (matches.next(), matches.next()) {
        (Some(found), None) => Some(found),
        _ => None,
    }
}

fn content_type(path: &str) -> HeaderValue {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let text = match (mime.type_(), mime.get_param(mime_guess::mime::CHARSET)) {
        (mime_guess::mime::TEXT, None) => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

impl ScormServer {
    /// `GET`/`HEAD /scorm/launch/{token}/content/{path}`.
    pub async fn content(
        &self,
        token: &str,
        path: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, ScormError> {
        let grant = self.grant(token).await?;
        let registration = self.registration(grant.tenant, grant.registration).await?;
        let package = self
            .package(grant.tenant, registration.value.package)
            .await?;
        let (name, meta) =
            resolve(&package.record.files, path).ok_or_else(|| ScormError::not_found("file"))?;
        let etag = format!("\"{}\"", &meta.sha256[..32.min(meta.sha256.len())]);
        let mut response_headers = HeaderMap::new();
        response_headers.insert(header::CONTENT_TYPE, content_type(name));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response_headers.insert(header::ETAG, value);
        }
        response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        response_headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=3600"),
        );
        response_headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        let not_modified = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|tag| tag.trim() == etag || tag.trim() == "*")
            });
        if not_modified {
            return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
        }
        // A Range with an If-Range that no longer matches gets the whole file.
        let if_range_ok = headers
            .get(header::IF_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() == etag);
        let range_header = headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .filter(|_| if_range_ok);
        let (status, start, len) = match parse_range(range_header, meta.size) {
            RangeRequest::Whole => (StatusCode::OK, 0, meta.size),
            RangeRequest::Part(start, end) => {
                let range = format!("bytes {start}-{end}/{}", meta.size);
                if let Ok(value) = HeaderValue::from_str(&range) {
                    response_headers.insert(header::CONTENT_RANGE, value);
                }
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
            RangeRequest::Unsatisfiable => {
                let range = format!("bytes */{}", meta.size);
                if let Ok(value) = HeaderValue::from_str(&range) {
                    response_headers.insert(header::CONTENT_RANGE, value);
                }
                return Ok((StatusCode::RANGE_NOT_SATISFIABLE, response_headers).into_response());
            }
        };
        response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if method == Method::HEAD {
            return Ok((status, response_headers).into_response());
        }
        let body = self
            .stream_file(grant.tenant, package.record.id, name.clone(), start, len)
            .await?;
        Ok((status, response_headers, body).into_response())
    }

    /// The bytes of a file range as a body, a chunk at a time (at most one chunk in memory).
    async fn stream_file(
        &self,
        tenant: super::ports::Tenant,
        package: Uuid,
        path: String,
        start: u64,
        len: u64,
    ) -> Result<Body, ScormError> {
        let chunk = super::packages::CHUNK as u64;
        // Small answers are read at once; a missing chunk is then an error, not a short body.
        if len <= chunk * 4 {
            let parts = self
                .read_file_range(tenant, package, &path, start, len)
                .await?;
            return Ok(Body::from(parts.concat()));
        }
        let server = self.clone();
        let stream = futures::stream::unfold(start, move |offset| {
            let server = server.clone();
            let path = path.clone();
            async move {
                let end = start + len;
                if offset >= end {
                    return None;
                }
                let take = (chunk - offset % chunk).min(end - offset);
                let read = server
                    .read_file_range(tenant, package, &path, offset, take)
                    .await
                    .map(|parts| bytes::Bytes::from(parts.concat()))
                    .map_err(|e| std::io::Error::other(e.message));
                Some((read, offset + take))
            }
        });
        Ok(Body::from_stream(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let check = |header: Option<&str>, expected: RangeRequest| {
            assert_eq!(parse_range(header, 100), expected, "{header:?}");
        };
        check(None, RangeRequest::Whole);
        check(Some("bytes=0-9"), RangeRequest::Part(0, 9));
        check(Some("bytes=90-"), RangeRequest::Part(90, 99));
        check(Some("bytes=-10"), RangeRequest::Part(90, 99));
        check(Some("bytes=-1000"), RangeRequest::Part(0, 99));
        check(Some("bytes=50-5000"), RangeRequest::Part(50, 99));
        check(Some("bytes=100-"), RangeRequest::Unsatisfiable);
        check(Some("bytes=-0"), RangeRequest::Unsatisfiable);
        check(Some("bytes=0-1,5-6"), RangeRequest::Whole);
        check(Some("items=0-1"), RangeRequest::Whole);
        check(Some("bytes=9-1"), RangeRequest::Whole);
        assert_eq!(
            parse_range(Some("bytes=0-"), 0),
            RangeRequest::Unsatisfiable
        );
    }

    #[test]
    fn paths_resolve_only_to_package_files() {
        let meta = || FileMeta {
            size: 1,
            sha256: String::new(),
        };
        let files: std::collections::BTreeMap<String, FileMeta> = [
            ("index.html".to_owned(), meta()),
            ("Images/Logo.PNG".to_owned(), meta()),
            ("a/b.js".to_owned(), meta()),
        ]
        .into_iter()
        .collect();
        let found = |path: &str| resolve(&files, path).map(|(name, _)| name.as_str());
        assert_eq!(found("index.html"), Some("index.html"));
        assert_eq!(found("images/logo.png"), Some("Images/Logo.PNG"));
        assert_eq!(found("a/../index.html"), None);
        assert_eq!(found("./index.html"), None);
        assert_eq!(found("a//b.js"), None);
        assert_eq!(found("a\\b.js"), None);
        assert_eq!(found("/etc/passwd"), None);
        assert_eq!(found("missing.html"), None);
    }
}
