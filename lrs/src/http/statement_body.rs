//! Reading the body of a statement PUT or POST: `application/json`, or `multipart/mixed` with
//! attachment data (xAPI Communication §1.5.2), streamed through the multipart parser so that
//! attachment bytes are hashed as they arrive. Signed statements are verified here (Data §2.6).

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use serde_json::{Map, Value};
use xapi::{JsonLimits, Statement, ValidationError, Version};

use super::{media_type, read_body};
use crate::error::ApiError;
use crate::multipart::{
    Limits, MultipartError, Parser, PartHeaders, PartSink, XapiParts, boundary,
    check_attachment_parts,
};
use crate::storage::AttachmentData;

/// The statements of a request and the attachment data that came with them.
pub(super) struct StatementBody {
    pub statements: Vec<Statement>,
    /// Whether the statements came as a JSON array.
    pub array: bool,
    /// Attachment data by SHA-2 (lowercase hex), as sent.
    pub attachments: Vec<(String, AttachmentData)>,
}

/// Reads, validates and checks a statement request body, attachments and signatures included.
pub(super) async fn read_statements(
    body: Body,
    headers: &HeaderMap,
    version: Version,
    max_bytes: usize,
) -> Result<StatementBody, ApiError> {
    let (json, parts) = match media_type(headers).as_deref() {
        Some("application/json") => (read_body(body, headers, max_bytes).await?, Vec::new()),
        Some("multipart/mixed") => read_multipart(body, headers, max_bytes).await?,
        Some(other) => {
            return Err(ApiError::invalid(
                "Content-Type",
                "content-type",
                format!("must be application/json or multipart/mixed, not {other}"),
            ));
        }
        None => {
            return Err(ApiError::invalid(
                "Content-Type",
                "content-type",
                "the header is required: application/json or multipart/mixed",
            ));
        }
    };
    let array = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let statements = xapi::parse_statements(&json, version, JsonLimits::default())?;
    let jsons: Vec<&Map<String, Value>> = statements.iter().map(Statement::json).collect();
    let part_headers: Vec<PartHeaders> = parts.iter().map(|(h, _)| h.clone()).collect();
    check_attachment_parts(&jsons, array, &part_headers).map_err(multipart_error)?;
    for (k, statement) in jsons.iter().enumerate() {
        let at = |e: ValidationError| {
            let path = if array {
                format!("$[{k}]{}", e.path.trim_start_matches('$'))
            } else {
                e.path.clone()
            };
            ApiError::from(e.at(path))
        };
        for signature in xapi::signature_attachments(statement).map_err(at)? {
            let Some((_, jws)) = parts.iter().find(|(h, _)| {
                h.hash()
                    .is_some_and(|hash| hash.eq_ignore_ascii_case(signature.sha2))
            }) else {
                continue;
            };
            let jws = jws.to_bytes().map_err(ApiError::Storage)?;
            xapi::verify_signature(statement, &jws, version).map_err(at)?;
        }
    }
    let attachments = parts
        .into_iter()
        .filter_map(|(headers, data)| headers.hash().map(|hash| (hash.to_ascii_lowercase(), data)))
        .collect();
    Ok(StatementBody {
        statements,
        array,
        attachments,
    })
}

fn multipart_error(e: MultipartError) -> ApiError {
    ApiError::from(ValidationError::from(e))
}

/// Attachment parts larger than this are spooled to a temporary file as they arrive.
const SPOOL_AFTER: usize = 1024 * 1024;

/// The data of one part as it arrives: in memory, then in a temporary file once it is large.
enum PartData {
    Memory(Vec<u8>),
    Spooled(tempfile::NamedTempFile),
}

impl PartData {
    fn into_attachment(self) -> AttachmentData {
        match self {
            PartData::Memory(bytes) => AttachmentData::Memory(Bytes::from(bytes)),
            PartData::Spooled(file) => AttachmentData::Spooled(std::sync::Arc::new(file)),
        }
    }
}

/// Collects the statement part and the attachment parts, within the body limit, keeping at
/// most [`SPOOL_AFTER`] bytes of any attachment part in memory.
struct Collect {
    parts: Vec<(PartHeaders, PartData)>,
    bytes: usize,
    limit: usize,
}

enum CollectError {
    Multipart(MultipartError),
    TooLarge,
    Spool(std::io::Error),
}

impl From<MultipartError> for CollectError {
    fn from(e: MultipartError) -> Self {
        CollectError::Multipart(e)
    }
}

impl PartSink for Collect {
    type Error = CollectError;

    fn part_start(&mut self, headers: &PartHeaders) -> Result<(), CollectError> {
        self.parts
            .push((headers.clone(), PartData::Memory(Vec::new())));
        Ok(())
    }

    fn part_data(&mut self, data: &[u8]) -> Result<(), CollectError> {
        use std::io::Write as _;
        self.bytes += data.len();
        if self.bytes > self.limit {
            return Err(CollectError::TooLarge);
        }
        let statement_part = self.parts.len() == 1;
        let Some((_, part)) = self.parts.last_mut() else {
            return Ok(());
        };
        if let PartData::Memory(bytes) = part
            && !statement_part
            && bytes.len() + data.len() > SPOOL_AFTER
        {
            let mut file = tempfile::NamedTempFile::new().map_err(CollectError::Spool)?;
            file.write_all(bytes).map_err(CollectError::Spool)?;
            *part = PartData::Spooled(file);
        }
        match part {
            PartData::Memory(bytes) => bytes.extend_from_slice(data),
            PartData::Spooled(file) => file.write_all(data).map_err(CollectError::Spool)?,
        }
        Ok(())
    }

    fn part_end(&mut self) -> Result<(), CollectError> {
        use std::io::Write as _;
        if let Some((_, PartData::Spooled(file))) = self.parts.last_mut() {
            file.flush().map_err(CollectError::Spool)?;
        }
        Ok(())
    }
}

async fn read_multipart(
    body: Body,
    headers: &HeaderMap,
    max_bytes: usize,
) -> Result<(Bytes, Vec<(PartHeaders, AttachmentData)>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = boundary(content_type).map_err(multipart_error)?;
    let mut parser = Parser::new(&boundary, Limits::default()).map_err(multipart_error)?;
    let mut sink = XapiParts::new(Collect {
        parts: Vec::new(),
        bytes: 0,
        limit: max_bytes,
    });
    let too_large = || ApiError::TooLarge {
        what: "the request body",
        limit: max_bytes,
    };
    let fail = |e: CollectError| match e {
        CollectError::Multipart(e) => multipart_error(e),
        CollectError::TooLarge => too_large(),
        CollectError::Spool(e) => ApiError::Storage(crate::storage::StorageError::new(
            crate::storage::StorageErrorKind::Unavailable,
            format!("cannot spool an attachment: {e}"),
        )),
    };
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::invalid("body", "body-read", "the request body could not be read")
        })?;
        if let Ok(data) = frame.into_data() {
            parser.feed(&data, &mut sink).map_err(fail)?;
        }
    }
    parser.finish(&mut sink).map_err(fail)?;
    let mut parts = sink.into_inner().parts.into_iter();
    let Some((_, PartData::Memory(json))) = parts.next() else {
        return Err(multipart_error(MultipartError::new(
            "body",
            "no-parts",
            "the multipart body has no parts",
        )));
    };
    Ok((
        Bytes::from(json),
        parts.map(|(h, data)| (h, data.into_attachment())).collect(),
    ))
}
