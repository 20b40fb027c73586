//! xAPI `multipart/mixed` bodies (Communication §1.5.2, RFC 2046 §5.1): the boundary of a
//! Content-Type header, a streaming push parser, the xAPI rules on parts, and the writer for
//! responses. Pure: no I/O, no async.
//!
//! The parser is fed the body in chunks of any size and reports each part to a [`PartSink`] as
//! it goes (`part_start` with the headers, `part_data` any number of times, `part_end`), so
//! attachment bytes can be hashed and kept chunk by chunk. It buffers at most one part's headers
//! and a delimiter's length of body.
//!
//! RFC 2046 framing, as implemented:
//! - a delimiter is CRLF + `--` + boundary; the first may also open the body. Text before the
//!   first delimiter (the preamble) and after the close delimiter `--boundary--` (the epilogue)
//!   is ignored. The CRLF before a delimiter belongs to the delimiter, not to the part.
//! - after a boundary only transport padding (spaces, tabs) may come before the CRLF; a line
//!   that merely starts with the delimiter is an error, since RFC 2046 forbids the boundary as
//!   the prefix of any line in a part.
//! - header lines end with CRLF (bare LF is not a line end); folded lines are unfolded; names
//!   are case-insensitive. A part with no body (headers directly followed by the delimiter) is
//!   accepted.
//! - a body without a close delimiter, or without any delimiter, is an error.
//!
//! xAPI rules sit on top: [`check_xapi_part`] (first part `application/json`; every later part
//! with `X-Experience-API-Hash` and, when given, `Content-Transfer-Encoding: binary`),
//! [`XapiParts`] (a sink adapter that applies it and checks each part's data against its
//! declared hash), and [`check_attachment_parts`] (parts matched to attachment objects by SHA-2
//! only).

use serde_json::{Map, Value};
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// Every `rule` name a [`MultipartError`] carries, with what it means.
pub const RULES: &[(&str, &str)] = &[
    (
        "not-multipart-mixed",
        "the Content-Type is not multipart/mixed (Communication §1.5.2)",
    ),
    (
        "missing-boundary",
        "the multipart/mixed Content-Type has no boundary parameter (RFC 2046 §5.1.1)",
    ),
    (
        "invalid-boundary",
        "the boundary is empty, longer than 70 characters or has characters RFC 2046 forbids",
    ),
    (
        "no-parts",
        "the body has no boundary delimiter, or closes before its first part",
    ),
    (
        "malformed-delimiter",
        "a line starts with the delimiter but is not a delimiter line (RFC 2046 §5.1.1)",
    ),
    (
        "unterminated",
        "the body ends before the close delimiter --boundary-- (RFC 2046 §5.1.1)",
    ),
    (
        "malformed-header",
        "a part header line is not `name: value`",
    ),
    (
        "header-too-large",
        "a part's headers are longer than the configured limit",
    ),
    ("too-many-parts", "the body has more parts than the limit"),
    (
        "invalid-content-length",
        "a part's Content-Length is not a non-negative integer",
    ),
    (
        "content-length-mismatch",
        "a part's data is not as long as its Content-Length says",
    ),
    (
        "first-part-not-json",
        "the first part is not application/json (Communication §1.5.2)",
    ),
    (
        "missing-hash-header",
        "an attachment part has no X-Experience-API-Hash (Communication §1.5.2)",
    ),
    (
        "invalid-hash-header",
        "X-Experience-API-Hash is not a hex SHA-2 digest",
    ),
    (
        "bad-transfer-encoding",
        "an attachment part's Content-Transfer-Encoding is not binary (Communication §1.5.2)",
    ),
    (
        "duplicate-header",
        "Content-Type, Content-Transfer-Encoding or X-Experience-API-Hash given twice in a part",
    ),
    (
        "invalid-content-type",
        "a part's Content-Type is not an internet media type",
    ),
    (
        "hash-mismatch",
        "an attachment part's data does not hash to its X-Experience-API-Hash",
    ),
    (
        "missing-attachment-part",
        "an attachment object has neither a fileUrl nor a part with its sha2 (Communication §1.5.2); \
         a signature attachment always needs its part (Data §2.6)",
    ),
    (
        "unreferenced-part",
        "a part's hash is the sha2 of no attachment object (Communication §1.5.2)",
    ),
    (
        "content-type-mismatch",
        "a part's Content-Type differs from its attachment object's contentType (Communication §1.5.2)",
    ),
    (
        "aborted",
        "the parser was used again after the sink refused a part",
    ),
];

/// Limits applied while parsing; both guard memory, not the body size (the HTTP layer does that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of header lines (with their CRLFs) in one part.
    pub max_header_bytes: usize,
    /// The most parts in one body, the statement part included.
    pub max_parts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 16 * 1024,
            max_parts: 1_000,
        }
    }
}

/// Why a multipart body was refused: where (`Content-Type` for the request header,
/// `multipart[i]` for the i-th part counting the statement part as 0, or
/// `multipart[i].<Header-Name>`; statement paths such as `$[0].attachments[1].sha2` from
/// [`check_attachment_parts`]), a rule name from [`RULES`], and a message. Every one is a client
/// error (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message} ({rule})")]
pub struct MultipartError {
    path: String,
    rule: &'static str,
    message: String,
}

/// The headers of one part, in order, with names as sent; lookups ignore the case of names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartHeaders {
    fields: Vec<(String, String)>,
}

/// Receives the parts of a body as the [`Parser`] finds them: `part_start`, then `part_data`
/// zero or more times (chunks of the part's data, in order), then `part_end`.
///
/// Errors of the sink's own (a size limit, say) stop the parse and come back from
/// [`Parser::feed`] unchanged; the parser's errors are converted into the sink's error type.
pub trait PartSink {
    type Error: From<MultipartError>;
    fn part_start(&mut self, headers: &PartHeaders) -> Result<(), Self::Error>;
    fn part_data(&mut self, data: &[u8]) -> Result<(), Self::Error>;
    fn part_end(&mut self) -> Result<(), Self::Error>;
}

/// A push parser for one `multipart/mixed` body: [`Parser::feed`] each chunk as it arrives,
/// then [`Parser::finish`]. After an error every further call fails.
#[derive(Debug)]
pub struct Parser {
    /// CRLF `--` boundary.
    delimiter: Vec<u8>,
    limits: Limits,
    state: State,
    /// Bytes received but not yet consumed: at most a partial header block, or a possible
    /// start of a delimiter.
    buf: Vec<u8>,
    parts: usize,
    headers: PartHeaders,
    header_bytes: usize,
    /// How much of the pending header line was already searched for its CRLF, so that a
    /// line fed in small chunks is not searched again from its start each time.
    header_scanned: usize,
    declared_len: Option<u64>,
    body_len: u64,
    failed: Option<MultipartError>,
}

/// One whole part, as [`parse_all`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub headers: PartHeaders,
    pub body: Vec<u8>,
}

/// A [`PartSink`] adapter that applies the xAPI rules: [`check_xapi_part`] on each part's
/// headers, and, for each attachment part, that its data hashes to its
/// `X-Experience-API-Hash` (with the SHA-2 function the digest's length names), before passing
/// each event on to the inner sink.
#[derive(Debug)]
pub struct XapiParts<S> {
    inner: S,
    index: usize,
    digest: Option<(Sha2Stream, String)>,
}

/// A SHA-2 digest computed chunk by chunk, for attachment data (Data §2.4.11 `sha2`; the
/// function is chosen by the length of the declared hex digest: 56, 64, 96 or 128 digits).
#[derive(Debug, Clone)]
pub struct Sha2Stream {
    hasher: Sha2Hasher,
}

/// One attachment part to write with [`write_mixed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentData<'a> {
    pub content_type: &'a str,
    pub sha2: &'a str,
    pub data: &'a [u8],
}

/// The boundary of a `multipart/mixed` Content-Type header value, quoted or not
/// (RFC 2046 §5.1.1; RFC 2045 §5.1 parameter syntax). The media type must be
/// `multipart/mixed` (any case); anything else, `multipart/form-data` included, is refused
/// with `not-multipart-mixed`.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let header_error = |rule, message: String| MultipartError::new("Content-Type", rule, message);
    let (essence, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !essence.trim().eq_ignore_ascii_case("multipart/mixed") {
        return Err(header_error(
            "not-multipart-mixed",
            format!("{:?} is not multipart/mixed", essence.trim()),
        ));
    }
    let params =
        parse_params(params).map_err(|message| header_error("invalid-boundary", message))?;
    let mut found = params
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("boundary"));
    let Some((_, value)) = found.next() else {
        return Err(header_error(
            "missing-boundary",
            "multipart/mixed requires a boundary parameter".to_owned(),
        ));
    };
    if found.next().is_some() {
        return Err(header_error(
            "invalid-boundary",
            "the boundary parameter is given twice".to_owned(),
        ));
    }
    check_boundary(&value)?;
    Ok(value)
}

/// The Content-Type header value of a response written with [`write_mixed`]: the boundary is
/// quoted when it is not a token. It comes first among the parameters, where the ADL suite
/// looks for it.
pub fn response_content_type(boundary: &str) -> String {
    if !boundary.is_empty() && boundary.bytes().all(is_token_byte) {
        format!("multipart/mixed; boundary={boundary}")
    } else {
        format!("multipart/mixed; boundary=\"{boundary}\"")
    }
}

/// Parses a whole body in memory: for tests and small bodies. The same parser as the streaming
/// path, fed the body in one chunk.
pub fn parse_all(body: &[u8], boundary: &str, limits: Limits) -> Result<Vec<Part>, MultipartError> {
    let mut parser = Parser::new(boundary, limits)?;
    let mut collector = Collector::default();
    parser.feed(body, &mut collector)?;
    parser.finish(&mut collector)?;
    Ok(collector.parts)
}

/// The xAPI rules on one part's headers (Communication §1.5.2), `index` counting the statement
/// part as 0. The same in 1.0.3 and 2.0.0 (the ADL suite sends the same cases to both).
///
/// - part 0 MUST have `Content-Type: application/json` (parameters such as `charset` allowed).
/// - every later part MUST have `X-Experience-API-Hash`, a hex SHA-2 digest.
/// - a later part's `Content-Transfer-Encoding`, when given, MUST be `binary`; when absent it is
///   taken to be binary ("an LRS SHOULD assume a Content-Transfer-Encoding of binary").
/// - a later part's `Content-Type` SHOULD be given; when given it must be a media type.
/// - none of these three headers may appear twice in a part.
pub fn check_xapi_part(index: usize, headers: &PartHeaders) -> Result<(), MultipartError> {
    let at = |name: &str| format!("multipart[{index}].{name}");
    for name in [
        "Content-Type",
        "Content-Transfer-Encoding",
        "X-Experience-API-Hash",
    ] {
        if headers.count(name) > 1 {
            return Err(MultipartError::new(
                at(name),
                "duplicate-header",
                format!("{name} is given more than once"),
            ));
        }
    }
    if index == 0 {
        return match headers.media_type() {
            Some(media) if media == "application/json" => Ok(()),
            Some(media) => Err(MultipartError::new(
                at("Content-Type"),
                "first-part-not-json",
                format!("the first part must be the statements as application/json, not {media}"),
            )),
            None => Err(MultipartError::new(
                at("Content-Type"),
                "first-part-not-json",
                "the first part must have Content-Type: application/json",
            )),
        };
    }
    match headers.hash() {
        None | Some("") => {
            return Err(MultipartError::new(
                at("X-Experience-API-Hash"),
                "missing-hash-header",
                "every part after the first must carry X-Experience-API-Hash",
            ));
        }
        Some(hash) if !xapi::is_sha2_hex(hash) => {
            return Err(MultipartError::new(
                at("X-Experience-API-Hash"),
                "invalid-hash-header",
                format!("{hash:?} is not a hex sha-2 digest"),
            ));
        }
        Some(_) => {}
    }
    if let Some(encoding) = headers.transfer_encoding()
        && !encoding.eq_ignore_ascii_case("binary")
    {
        return Err(MultipartError::new(
            at("Content-Transfer-Encoding"),
            "bad-transfer-encoding",
            format!("attachment parts must be sent binary, not {encoding:?}"),
        ));
    }
    if let Some(content_type) = headers.content_type()
        && !xapi::is_media_type(content_type)
    {
        return Err(MultipartError::new(
            at("Content-Type"),
            "invalid-content-type",
            format!("{content_type:?} is not an internet media type"),
        ));
    }
    Ok(())
}

/// Matches the attachment parts to the attachment objects of the statements in the first part,
/// by SHA-2 only (Communication §1.5.2: "It MUST not do so any other way"):
///
/// - each attachment object (of a statement or its SubStatement) must have a part whose
///   `X-Experience-API-Hash` equals its `sha2` (hex case ignored), unless it has a `fileUrl`
///   — except a signature attachment (usageType
///   `http://adlnet.gov/expapi/attachments/signature`), which always needs its part, since the
///   LRS must verify it (Data §2.6; ADL XAPI-00115).
/// - every part must be the data of some attachment object ("excess multi-part sections that
///   are not attachments" are rejected, ADL XAPI-00128). A part may serve several objects.
/// - where a part has a Content-Type, its media type (without parameters, any case) must be the
///   object's `contentType` media type.
///
/// `statements` are the validated statements of the first part; `array` says whether that part
/// was a JSON array (error paths `$[k].attachments[i]`) or one statement (`$.attachments[i]`).
/// `parts` are the headers of the parts after the first, in order.
pub fn check_attachment_parts(
    statements: &[&Map<String, Value>],
    array: bool,
    parts: &[PartHeaders],
) -> Result<(), MultipartError> {
    let part_hashes: Vec<Option<String>> = parts
        .iter()
        .map(|h| h.hash().map(str::to_ascii_lowercase))
        .collect();
    let mut used = vec![false; parts.len()];
    for (k, statement) in statements.iter().enumerate() {
        let root = if array {
            format!("$[{k}]")
        } else {
            "$".to_owned()
        };
        let sub = statement
            .get("object")
            .filter(|o| o.get("objectType").and_then(Value::as_str) == Some("SubStatement"));
        let lists = [
            (format!("{root}.attachments"), statement.get("attachments")),
            (
                format!("{root}.object.attachments"),
                sub.and_then(|o| o.get("attachments")),
            ),
        ];
        for (list_path, list) in lists {
            let Some(Value::Array(list)) = list else {
                continue;
            };
            for (i, attachment) in list.iter().enumerate() {
                let path = format!("{list_path}[{i}]");
                let sha2 = attachment
                    .get("sha2")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let mut matched = false;
                for (j, hash) in part_hashes.iter().enumerate() {
                    if hash.as_deref() != Some(sha2.as_str()) {
                        continue;
                    }
                    matched = true;
                    used[j] = true;
                    let declared = attachment.get("contentType").and_then(Value::as_str);
                    if let (Some(part_type), Some(declared)) = (parts[j].media_type(), declared)
                        && part_type != media_essence(declared)
                    {
                        return Err(MultipartError::new(
                            format!("multipart[{}].Content-Type", j + 1),
                            "content-type-mismatch",
                            format!(
                                "the part is {part_type} but {path}.contentType is {declared:?}"
                            ),
                        ));
                    }
                }
                if matched {
                    continue;
                }
                let is_signature = attachment.get("usageType").and_then(Value::as_str)
                    == Some(xapi::SIGNATURE_USAGE_TYPE);
                if is_signature {
                    return Err(MultipartError::new(
                        format!("{path}.sha2"),
                        "missing-attachment-part",
                        "a signature attachment must be sent as a part with its sha2 as X-Experience-API-Hash",
                    ));
                }
                if attachment.get("fileUrl").is_none() {
                    return Err(MultipartError::new(
                        format!("{path}.sha2"),
                        "missing-attachment-part",
                        "no part has this sha2 as X-Experience-API-Hash and there is no fileUrl",
                    ));
                }
            }
        }
    }
    if let Some(j) = used.iter().position(|u| !u) {
        return Err(MultipartError::new(
            format!("multipart[{}].X-Experience-API-Hash", j + 1),
            "unreferenced-part",
            "this part is the data of no attachment object in the statements",
        ));
    }
    Ok(())
}

/// Writes a `multipart/mixed` body (Communication §1.5.2 transmission format, used for
/// `attachments=true` responses): the statement part first with
/// `Content-Type: application/json`, then one part per attachment with `Content-Type`,
/// `Content-Transfer-Encoding: binary` and `X-Experience-API-Hash`, then the close delimiter.
///
/// The boundary must not occur in any part; a random one of 128 bits (e.g. a v4 UUID's hex)
/// makes that certain in practice. Header values are written without control characters.
/// Send it with [`response_content_type`].
pub fn write_mixed<'a>(
    boundary: &str,
    json: &[u8],
    attachments: impl IntoIterator<Item = AttachmentData<'a>>,
) -> Vec<u8> {
    let attachments: Vec<AttachmentData<'a>> = attachments.into_iter().collect();
    let size = json.len()
        + attachments
            .iter()
            .map(|a| a.data.len() + a.content_type.len() + 200)
            .sum::<usize>()
        + 100;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: application/json\r\n\r\n");
    out.extend_from_slice(json);
    for attachment in attachments {
        out.extend_from_slice(b"\r\n--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Type: ");
        push_header_value(&mut out, attachment.content_type);
        out.extend_from_slice(b"\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ");
        push_header_value(&mut out, attachment.sha2);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(attachment.data);
    }
    out.extend_from_slice(b"\r\n--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

/// The lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl MultipartError {
    /// An error of a sink, for sinks whose error type is `MultipartError`.
    pub fn new(path: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        MultipartError {
            path: path.into(),
            rule,
            message: message.into(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// A short stable name from [`RULES`], e.g. `missing-hash-header`.
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<MultipartError> for xapi::ValidationError {
    fn from(e: MultipartError) -> Self {
        xapi::ValidationError {
            path: e.path,
            rule: e.rule,
            message: e.message,
        }
    }
}

impl PartHeaders {
    /// Headers from `(name, value)` pairs, e.g. to test a sink.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        PartHeaders {
            fields: pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }

    /// The first value of a header, whatever the case of its name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How many times a header occurs.
    pub fn count(&self, name: &str) -> usize {
        self.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// All headers in order, names as sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn content_type(&self) -> Option<&str> {
        self.get("Content-Type")
    }

    /// The Content-Type without parameters, lowercased: `text/plain` for
    /// `Text/Plain; charset=ascii`.
    pub fn media_type(&self) -> Option<String> {
        self.content_type().map(media_essence)
    }

    pub fn transfer_encoding(&self) -> Option<&str> {
        self.get("Content-Transfer-Encoding")
    }

    /// `X-Experience-API-Hash`: the SHA-2 of the part's data, hex.
    pub fn hash(&self) -> Option<&str> {
        self.get("X-Experience-API-Hash")
    }

    fn push(&mut self, name: String, value: String) {
        self.fields.push((name, value));
    }

    fn continue_last(&mut self, more: &str) -> bool {
        match self.fields.last_mut() {
            Some((_, value)) => {
                if !value.is_empty() && !more.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
                true
            }
            None => false,
        }
    }
}

/// Where the parser is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Just after a boundary: padding and CRLF, or `--` for the close delimiter.
    AfterBoundary,
    /// Reading a part's header lines.
    Headers,
    /// Reading a part's data, up to the next delimiter.
    Body,
    /// After the close delimiter; everything is ignored.
    Epilogue,
}

/// What stopped a step: the parser's own error, or the sink's.
enum Stop<E> {
    Parse(MultipartError),
    Sink(E),
}

impl<E> From<MultipartError> for Stop<E> {
    fn from(e: MultipartError) -> Self {
        Stop::Parse(e)
    }
}

/// Whether a byte string starts with the delimiter.
enum Prefix {
    Full,
    /// The bytes so far are the start of the delimiter; more are needed to decide.
    Partial,
    No,
}

/// Transport padding (RFC 2046 §5.1.1) longer than this after a boundary is refused.
const MAX_PADDING: usize = 256;

impl Parser {
    /// A parser for a body with this boundary (as [`boundary`] returns it). Fails with
    /// `invalid-boundary` when the boundary breaks RFC 2046.
    pub fn new(boundary: &str, limits: Limits) -> Result<Parser, MultipartError> {
        check_boundary(boundary)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Ok(Parser {
            delimiter,
            limits,
            state: State::Preamble,
            // A CRLF in front of the body lets a delimiter that opens the body be found like
            // any other: "--boundary" at offset 0 is "CRLF--boundary" here.
            buf: b"\r\n".to_vec(),
            parts: 0,
            headers: PartHeaders::default(),
            header_bytes: 0,
            header_scanned: 0,
            declared_len: None,
            body_len: 0,
            failed: None,
        })
    }

    /// Consumes the next chunk of the body, reporting what it completes to the sink. Chunk
    /// boundaries do not matter: any split of a body yields the same events and outcome.
    pub fn feed<S: PartSink>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), S::Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone().into());
        }
        self.buf.extend_from_slice(chunk);
        let mut pos = 0;
        let outcome = loop {
            match self.step(&mut pos, sink) {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(stop) => break Err(stop),
            }
        };
        self.buf.drain(..pos);
        match outcome {
            Ok(()) => Ok(()),
            Err(Stop::Parse(e)) => {
                self.failed = Some(e.clone());
                Err(e.into())
            }
            Err(Stop::Sink(e)) => {
                self.failed = Some(MultipartError::new(
                    self.part_path(),
                    "aborted",
                    "the parse was stopped by an earlier error",
                ));
                Err(e)
            }
        }
    }

    /// Ends the body: fails with `unterminated` unless the close delimiter was seen, or
    /// `no-parts` when no delimiter was seen at all.
    pub fn finish<S: PartSink>(self, _sink: &mut S) -> Result<(), S::Error> {
        if let Some(e) = self.failed {
            return Err(e.into());
        }
        match self.state {
            State::Epilogue => Ok(()),
            State::Preamble => Err(MultipartError::new(
                "multipart",
                "no-parts",
                "the body has no boundary delimiter",
            )
            .into()),
            State::AfterBoundary | State::Headers | State::Body => Err(MultipartError::new(
                "multipart",
                "unterminated",
                "the body ends before the close delimiter",
            )
            .into()),
        }
    }

    /// How many parts have started so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    fn part_path(&self) -> String {
        format!("multipart[{}]", self.parts.saturating_sub(1))
    }

    /// Advances from `pos` in the buffer; `Ok(false)` when more input is needed.
    fn step<S: PartSink>(&mut self, pos: &mut usize, sink: &mut S) -> Result<bool, Stop<S::Error>> {
        let dlen = self.delimiter.len();
        match self.state {
            State::Preamble => {
                let hay = &self.buf[*pos..];
                match find(hay, &self.delimiter) {
                    Some(i) => {
                        *pos += i + dlen;
                        self.state = State::AfterBoundary;
                        Ok(true)
                    }
                    None => {
                        *pos += hay.len() - partial_suffix(hay, &self.delimiter);
                        Ok(false)
                    }
                }
            }
            State::AfterBoundary => {
                let hay = &self.buf[*pos..];
                match hay {
                    [] | [b'-'] => return Ok(false),
                    [b'-', b'-', ..] => {
                        if self.parts == 0 {
                            return Err(MultipartError::new(
                                "multipart",
                                "no-parts",
                                "the body closes before its first part",
                            )
                            .into());
                        }
                        *pos = self.buf.len();
                        self.state = State::Epilogue;
                        return Ok(false);
                    }
                    _ => {}
                }
                let padding = hay.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
                if padding > MAX_PADDING {
                    return Err(self.delimiter_error().into());
                }
                match &hay[padding..] {
                    [] | [b'\r'] => Ok(false),
                    [b'\r', b'\n', ..] => {
                        *pos += padding + 2;
                        self.start_headers()?;
                        Ok(true)
                    }
                    _ => Err(self.delimiter_error().into()),
                }
            }
            State::Headers => {
                let hay = &self.buf[*pos..];
                let max = self.limits.max_header_bytes;
                let from = self.header_scanned.saturating_sub(1).min(hay.len());
                let Some(i) = find(&hay[from..], b"\r\n").map(|i| i + from) else {
                    self.header_scanned = hay.len();
                    if self.header_bytes + hay.len() > max {
                        return Err(self.header_too_large().into());
                    }
                    return Ok(false);
                };
                self.header_scanned = 0;
                if self.header_bytes + i + 2 > max {
                    return Err(self.header_too_large().into());
                }
                if i > 0 {
                    let line = &hay[..i];
                    parse_header_line(line, &mut self.headers).map_err(|message| {
                        MultipartError::new(self.part_path(), "malformed-header", message)
                    })?;
                    self.header_bytes += i + 2;
                    *pos += i + 2;
                    return Ok(true);
                }
                // A blank line ends the headers, unless its CRLF opens the next delimiter: then
                // the part has no body (RFC 2046: body-part := MIME-part-headers [CRLF *OCTET]).
                match prefix(hay, &self.delimiter) {
                    Prefix::Partial => Ok(false),
                    Prefix::Full => {
                        self.start_part(sink)?;
                        self.end_part(sink)?;
                        *pos += dlen;
                        self.state = State::AfterBoundary;
                        Ok(true)
                    }
                    Prefix::No => {
                        *pos += 2;
                        self.start_part(sink)?;
                        self.state = State::Body;
                        Ok(true)
                    }
                }
            }
            State::Body => {
                let hay = &self.buf[*pos..];
                let (data_len, found) = match find(hay, &self.delimiter) {
                    Some(i) => (i, true),
                    None => (hay.len() - partial_suffix(hay, &self.delimiter), false),
                };
                if data_len > 0 {
                    sink.part_data(&hay[..data_len]).map_err(Stop::Sink)?;
                    self.body_len += data_len as u64;
                }
                *pos += data_len;
                if !found {
                    return Ok(false);
                }
                *pos += dlen;
                self.end_part(sink)?;
                self.state = State::AfterBoundary;
                Ok(true)
            }
            State::Epilogue => {
                *pos = self.buf.len();
                Ok(false)
            }
        }
    }

    fn start_headers(&mut self) -> Result<(), MultipartError> {
        self.parts += 1;
        if self.parts > self.limits.max_parts {
            return Err(MultipartError::new(
                self.part_path(),
                "too-many-parts",
                format!("the body has more than {} parts", self.limits.max_parts),
            ));
        }
        self.headers = PartHeaders::default();
        self.header_bytes = 0;
        self.header_scanned = 0;
        self.body_len = 0;
        self.declared_len = None;
        self.state = State::Headers;
        Ok(())
    }

    fn start_part<S: PartSink>(&mut self, sink: &mut S) -> Result<(), Stop<S::Error>> {
        if let Some(value) = self.headers.get("Content-Length") {
            let declared = Some(value)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match declared {
                Some(n) => self.declared_len = Some(n),
                None => {
                    return Err(MultipartError::new(
                        format!("{}.Content-Length", self.part_path()),
                        "invalid-content-length",
                        format!("{value:?} is not a length in octets"),
                    )
                    .into());
                }
            }
        }
        sink.part_start(&self.headers).map_err(Stop::Sink)
    }

    fn end_part<S: PartSink>(&mut self, sink: &mut S) -> Result<(), Stop<S::Error>> {
        if let Some(declared) = self.declared_len
            && declared != self.body_len
        {
            return Err(MultipartError::new(
                format!("{}.Content-Length", self.part_path()),
                "content-length-mismatch",
                format!(
                    "Content-Length is {declared} but the part has {} octets",
                    self.body_len
                ),
            )
            .into());
        }
        sink.part_end().map_err(Stop::Sink)
    }

    fn delimiter_error(&self) -> MultipartError {
        MultipartError::new(
            "multipart",
            "malformed-delimiter",
            "a line starts with the boundary delimiter but is not a delimiter line",
        )
    }

    fn header_too_large(&self) -> MultipartError {
        MultipartError::new(
            self.part_path(),
            "header-too-large",
            format!(
                "the part's headers are longer than {} bytes",
                self.limits.max_header_bytes
            ),
        )
    }
}

impl<S> XapiParts<S> {
    pub fn new(inner: S) -> Self {
        XapiParts {
            inner,
            index: 0,
            digest: None,
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: PartSink> PartSink for XapiParts<S> {
    type Error = S::Error;

    fn part_start(&mut self, headers: &PartHeaders) -> Result<(), S::Error> {
        check_xapi_part(self.index, headers)?;
        self.digest = match headers.hash() {
            Some(hash) if self.index > 0 => {
                Sha2Stream::for_hex(hash).map(|stream| (stream, hash.to_ascii_lowercase()))
            }
            _ => None,
        };
        self.index += 1;
        self.inner.part_start(headers)
    }

    fn part_data(&mut self, data: &[u8]) -> Result<(), S::Error> {
        if let Some((stream, _)) = &mut self.digest {
            stream.update(data);
        }
        self.inner.part_data(data)
    }

    fn part_end(&mut self) -> Result<(), S::Error> {
        if let Some((stream, declared)) = self.digest.take() {
            let actual = stream.finish_hex();
            if actual != declared {
                return Err(MultipartError::new(
                    format!(
                        "multipart[{}].X-Experience-API-Hash",
                        self.index.saturating_sub(1)
                    ),
                    "hash-mismatch",
                    format!("the part's data hashes to {actual}, not {declared}"),
                )
                .into());
            }
        }
        self.inner.part_end()
    }
}

#[derive(Debug, Clone)]
enum Sha2Hasher {
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Sha2Stream {
    pub fn sha256() -> Self {
        Sha2Stream {
            hasher: Sha2Hasher::Sha256(Sha256::new()),
        }
    }

    /// The SHA-2 function whose hex digest is as long as `declared` (56, 64, 96 or 128 hex
    /// digits: SHA-224, -256, -384, -512); `None` for any other length.
    pub fn for_hex(declared: &str) -> Option<Self> {
        let hasher = match declared.len() {
            56 => Sha2Hasher::Sha224(Sha224::new()),
            64 => Sha2Hasher::Sha256(Sha256::new()),
            96 => Sha2Hasher::Sha384(Sha384::new()),
            128 => Sha2Hasher::Sha512(Sha512::new()),
            _ => return None,
        };
        Some(Sha2Stream { hasher })
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.hasher {
            Sha2Hasher::Sha224(h) => h.update(data),
            Sha2Hasher::Sha256(h) => h.update(data),
            Sha2Hasher::Sha384(h) => h.update(data),
            Sha2Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The digest as lowercase hex.
    pub fn finish_hex(self) -> String {
        match self.hasher {
            Sha2Hasher::Sha224(h) => hex::encode(h.finalize()),
            Sha2Hasher::Sha256(h) => hex::encode(h.finalize()),
            Sha2Hasher::Sha384(h) => hex::encode(h.finalize()),
            Sha2Hasher::Sha512(h) => hex::encode(h.finalize()),
        }
    }
}

/// Collects whole parts in memory, for [`parse_all`].
#[derive(Default)]
struct Collector {
    parts: Vec<Part>,
}

impl PartSink for Collector {
    type Error = MultipartError;

    fn part_start(&mut self, headers: &PartHeaders) -> Result<(), MultipartError> {
        self.parts.push(Part {
            headers: headers.clone(),
            body: Vec::new(),
        });
        Ok(())
    }

    fn part_data(&mut self, data: &[u8]) -> Result<(), MultipartError> {
        if let Some(part) = self.parts.last_mut() {
            part.body.extend_from_slice(data);
        }
        Ok(())
    }

    fn part_end(&mut self) -> Result<(), MultipartError> {
        Ok(())
    }
}

/// RFC 2046 §5.1.1: 1 to 70 of `bchars`, not ending in a space.
fn check_boundary(boundary: &str) -> Result<(), MultipartError> {
    let bchar = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'\''
                    | b'('
                    | b')'
                    | b'+'
                    | b'_'
                    | b','
                    | b'-'
                    | b'.'
                    | b'/'
                    | b':'
                    | b'='
                    | b'?'
                    | b' '
            )
    };
    let problem = if boundary.is_empty() {
        Some("the boundary is empty".to_owned())
    } else if boundary.len() > 70 {
        Some(format!(
            "the boundary is {} characters long; at most 70 are allowed",
            boundary.len()
        ))
    } else if !boundary.bytes().all(bchar) || boundary.ends_with(' ') {
        Some(format!(
            "{boundary:?} has characters a boundary may not have"
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(MultipartError::new(
            "Content-Type",
            "invalid-boundary",
            message,
        )),
        None => Ok(()),
    }
}

/// The parameters after the media type (`; name=value` with token or quoted-string values,
/// RFC 2045 §5.1). Empty parameters (`multipart/mixed;`) are skipped.
fn parse_params(input: &str) -> Result<Vec<(String, String)>, String> {
    let mut params = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return Ok(params);
        }
        let Some(split) = rest
            .find(['=', ';'])
            .filter(|&i| rest.as_bytes()[i] == b'=')
        else {
            // A parameter without a value says nothing about the boundary; skip it.
            rest = rest.split_once(';').map_or("", |(_, r)| r);
            continue;
        };
        let name = rest[..split].trim().to_owned();
        let after = rest[split + 1..].trim_start_matches([' ', '\t']);
        if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, escaped)) => value.push(escaped),
                        None => break,
                    },
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let Some(end) = end else {
                return Err(format!("the value of {name} has no closing quote"));
            };
            params.push((name, value));
            rest = &quoted[end..];
        } else {
            let (value, next) = after.split_once(';').unwrap_or((after, ""));
            params.push((name, value.trim().to_owned()));
            rest = next;
        }
    }
}

/// One header line (without its CRLF) into `headers`: `name: value`, or a folded continuation.
fn parse_header_line(line: &[u8], headers: &mut PartHeaders) -> Result<(), String> {
    let text =
        std::str::from_utf8(line).map_err(|_| "a header line is not valid utf-8".to_owned())?;
    if text
        .bytes()
        .any(|b| (b.is_ascii_control() && b != b'\t') || b == 0x7f)
    {
        return Err("a header line has control characters".to_owned());
    }
    if text.starts_with([' ', '\t']) {
        if headers.continue_last(text.trim_matches([' ', '\t'])) {
            return Ok(());
        }
        return Err("the headers start with a continuation line".to_owned());
    }
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!("{text:?} is not a header (name: value)"));
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("{name:?} is not a header name"));
    }
    headers.push(name.to_owned(), value.trim_matches([' ', '\t']).to_owned());
    Ok(())
}

/// `type/subtype` of a media type, lowercased, without parameters.
fn media_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_token_byte(b: u8) -> bool {
    xapi::is_token_byte(b)
}

fn push_header_value(out: &mut Vec<u8>, value: &str) {
    out.extend(value.bytes().filter(|b| !b.is_ascii_control()));
}

/// The first occurrence of `needle` (non-empty) in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut start = 0;
    while let Some(offset) = hay[start..].iter().position(|&b| b == first) {
        let at = start + offset;
        if hay.len() - at < needle.len() {
            return None;
        }
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// The length of the longest end of `hay` that is the start of `delimiter` (which must be
/// kept until more input decides). The delimiter holds a single CR, its first byte, since no
/// boundary character is a CR; so only the last CR of `hay` can start such an end.
fn partial_suffix(hay: &[u8], delimiter: &[u8]) -> usize {
    let window = hay.len().saturating_sub(delimiter.len() - 1);
    match hay[window..].iter().rposition(|&b| b == b'\r') {
        Some(offset) if delimiter.starts_with(&hay[window + offset..]) => {
            hay.len() - window - offset
        }
        _ => 0,
    }
}

fn prefix(hay: &[u8], delimiter: &[u8]) -> Prefix {
    if hay.starts_with(delimiter) {
        Prefix::Full
    } else if delimiter.starts_with(hay) {
        Prefix::Partial
    } else {
        Prefix::No
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    const B: &str = "-------314159265358979323846";
    const CRLF: &str = "\r\n";

    /// What a sink saw, with adjacent data chunks merged.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Event {
        Start(Vec<(String, String)>),
        Data(Vec<u8>),
        End,
    }

    #[derive(Default)]
    struct Recorder {
        events: Vec<Event>,
    }

    impl PartSink for Recorder {
        type Error = MultipartError;

        fn part_start(&mut self, headers: &PartHeaders) -> Result<(), MultipartError> {
            let fields = headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect();
            self.events.push(Event::Start(fields));
            Ok(())
        }

        fn part_data(&mut self, data: &[u8]) -> Result<(), MultipartError> {
            assert!(!data.is_empty(), "empty data chunks are not reported");
            if let Some(Event::Data(bytes)) = self.events.last_mut() {
                bytes.extend_from_slice(data);
            } else {
                self.events.push(Event::Data(data.to_vec()));
            }
            Ok(())
        }

        fn part_end(&mut self) -> Result<(), MultipartError> {
            self.events.push(Event::End);
            Ok(())
        }
    }

    /// Feeds `body` split at `cuts` (offsets, any order) and returns the events and outcome.
    fn run_split(
        body: &[u8],
        boundary: &str,
        limits: Limits,
        cuts: &[usize],
    ) -> (Vec<Event>, Result<(), MultipartError>) {
        let mut parser = Parser::new(boundary, limits).unwrap();
        let mut sink = Recorder::default();
        let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        offsets.push(0);
        offsets.push(body.len());
        offsets.sort_unstable();
        let mut result = Ok(());
        for pair in offsets.windows(2) {
            result = parser.feed(&body[pair[0]..pair[1]], &mut sink);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = parser.finish(&mut sink);
        }
        (sink.events, result)
    }

    fn run(body: &[u8]) -> (Vec<Event>, Result<(), MultipartError>) {
        run_split(body, B, Limits::default(), &[])
    }

    /// The rule a whole body fails with, after the xAPI part rules and hash checks.
    fn xapi_outcome(body: &[u8]) -> Result<Vec<Part>, &'static str> {
        let mut parser = Parser::new(B, Limits::default()).map_err(|e| e.rule())?;
        let mut sink = XapiParts::new(Collector::default());
        parser.feed(body, &mut sink).map_err(|e| e.rule())?;
        parser.finish(&mut sink).map_err(|e| e.rule())?;
        Ok(sink.into_inner().parts)
    }

    fn statement_json(attachments: &[(&str, &str)]) -> String {
        let list: Vec<String> = attachments
            .iter()
            .map(|(content_type, data)| {
                format!(
                    r#"{{"usageType":"http://example.com/attachment-usage/test","display":{{"en-US":"A test attachment"}},"contentType":"{content_type}","length":{},"sha2":"{}"}}"#,
                    data.len(),
                    sha256_hex(data.as_bytes())
                )
            })
            .collect();
        format!(
            r#"{{"actor":{{"mbox":"mailto:a@example.com"}},"verb":{{"id":"http://adlnet.gov/expapi/verbs/answered"}},"object":{{"id":"http://example.com/activities/multipart"}},"attachments":[{}]}}"#,
            list.join(",")
        )
    }

    /// A body in the shape the ADL suite builds: each part is (header lines, data).
    fn body_of(parts: &[(Vec<String>, String)]) -> Vec<u8> {
        let mut msg = String::new();
        for (headers, data) in parts {
            msg += &format!("--{B}{CRLF}");
            for header in headers {
                msg += header;
                msg += CRLF;
            }
            msg += CRLF;
            msg += data;
            msg += CRLF;
        }
        msg += &format!("--{B}--{CRLF}");
        msg.into_bytes()
    }

    fn json_part(json: &str) -> (Vec<String>, String) {
        (
            vec!["Content-Type: application/json".to_owned()],
            json.to_owned(),
        )
    }

    fn text_part(data: &str, headers: &[&str]) -> (Vec<String>, String) {
        let mut lines = vec!["Content-Type: text/plain".to_owned()];
        lines.extend(headers.iter().map(|h| (*h).to_owned()));
        (lines, data.to_owned())
    }

    const TEXT1: &str = "here is a simple attachment";
    const TEXT2: &str = "here is another simple attachment";
    const TEXT3: &str = "and a third, unannounced, attachment";

    fn hash_header(data: &str) -> String {
        format!("X-Experience-API-Hash: {}", sha256_hex(data.as_bytes()))
    }

    #[test]
    fn boundary_of_content_types() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "multipart/mixed; boundary=-------314159265358979323846",
                Ok("-------314159265358979323846"),
            ),
            (
                r#"multipart/mixed; boundary="abcABC0123'()+_,-./:=?""#,
                Ok("abcABC0123'()+_,-./:=?"),
            ),
            ("Multipart/Mixed;BOUNDARY=x", Ok("x")),
            (
                "multipart/mixed; charset=utf-8; boundary=\"a b\"; x=y",
                Ok("a b"),
            ),
            ("multipart/mixed; foo=\"a;b\"; boundary=z", Ok("z")),
            ("multipart/mixed; junk; boundary=z", Ok("z")),
            (
                "multipart/mixed; boundary=\"a\\\"b\"",
                Err("invalid-boundary"),
            ),
            ("multipart/mixed;", Err("missing-boundary")),
            ("multipart/mixed", Err("missing-boundary")),
            ("multipart/mixed; charset=utf-8", Err("missing-boundary")),
            (
                "multipart/form-data; boundary=-------314159265358979323846",
                Err("not-multipart-mixed"),
            ),
            ("application/json", Err("not-multipart-mixed")),
            ("", Err("not-multipart-mixed")),
            ("multipart/mixed; boundary=", Err("invalid-boundary")),
            ("multipart/mixed; boundary=\"\"", Err("invalid-boundary")),
            ("multipart/mixed; boundary=\"abc", Err("invalid-boundary")),
            (
                "multipart/mixed; boundary=\"abc \"",
                Err("invalid-boundary"),
            ),
            ("multipart/mixed; boundary=a{b}", Err("invalid-boundary")),
            (
                "multipart/mixed; boundary=a; boundary=b",
                Err("invalid-boundary"),
            ),
        ];
        for (input, expected) in cases {
            let outcome = boundary(input);
            match (&outcome, expected) {
                (Ok(b), Ok(want)) => assert_eq!(b, want, "{input}"),
                (Err(e), Err(rule)) => {
                    assert_eq!(e.rule(), *rule, "{input}");
                    assert_eq!(e.path(), "Content-Type");
                }
                _ => panic!("{input}: {outcome:?}, expected {expected:?}"),
            }
        }
        let long = "x".repeat(71);
        assert_eq!(
            boundary(&format!("multipart/mixed; boundary={long}"))
                .unwrap_err()
                .rule(),
            "invalid-boundary"
        );
        assert!(boundary(&format!("multipart/mixed; boundary={}", &long[1..])).is_ok());
    }

    #[test]
    fn framing_cases() {
        let ok = |body: &str, parts: &[(&[(&str, &str)], &str)]| {
            let (events, result) = run(body.as_bytes());
            assert_eq!(result, Ok(()), "{body:?}");
            let mut want = Vec::new();
            for (headers, data) in parts {
                want.push(Event::Start(
                    headers
                        .iter()
                        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                        .collect(),
                ));
                if !data.is_empty() {
                    want.push(Event::Data(data.as_bytes().to_vec()));
                }
                want.push(Event::End);
            }
            assert_eq!(events, want, "{body:?}");
        };
        let ct = [("Content-Type", "text/plain")];
        // The spec's example shape: a CRLF before the first boundary, no space after colons.
        ok(
            &format!("\r\n--{B}\r\nContent-Type:text/plain\r\n\r\nhi\r\n--{B}--"),
            &[(&ct, "hi")],
        );
        // Preamble and epilogue are ignored, transport padding after boundaries is allowed.
        ok(
            &format!(
                "preamble\r\nmore --{B} preamble\r\n--{B}  \t\r\nContent-Type: text/plain\r\n\r\nhi\r\n--{B}-- \r\nepilogue --{B}\r\n"
            ),
            &[(&ct, "hi")],
        );
        // Data keeps CRs, LFs, dashes and near-delimiters; only CRLF--boundary ends it.
        let tricky = format!("a\r\n\r\n--{}\r\n-{B}\n--{B}\r--{B}x", &B[..B.len() - 1]);
        ok(
            &format!("--{B}\r\nContent-Type: text/plain\r\n\r\n{tricky}\r\n--{B}--"),
            &[(&ct, &tricky)],
        );
        // A part without headers, and parts without bodies.
        ok(
            &format!(
                "--{B}\r\n\r\nbare\r\n--{B}\r\n\r\n--{B}\r\nContent-Type: text/plain\r\n\r\n--{B}\r\nContent-Type: text/plain\r\n\r\n\r\n--{B}--"
            ),
            &[(&[], "bare"), (&[], ""), (&ct, ""), (&ct, "")],
        );
        // Folded header lines, names in any case, values trimmed.
        ok(
            &format!(
                "--{B}\r\ncontent-type: text/plain;\r\n\tcharset=ascii\r\nX-Other:  v  \r\n\r\nx\r\n--{B}--"
            ),
            &[(
                &[
                    ("content-type", "text/plain; charset=ascii"),
                    ("X-Other", "v"),
                ],
                "x",
            )],
        );
        // Content-Length, when given, must be right.
        ok(
            &format!("--{B}\r\nContent-Length: 2\r\n\r\nhi\r\n--{B}--"),
            &[(&[("Content-Length", "2")], "hi")],
        );
    }

    #[test]
    fn malformed_framing() {
        let cases: &[(String, &str)] = &[
            (String::new(), "no-parts"),
            ("just some text".to_owned(), "no-parts"),
            // No boundary before the first part's headers: all of it is preamble, and the
            // body still lacks a delimiter (ADL XAPI-00131 sends such a first part).
            (
                "Content-Type: application/json\r\n\r\n{}\r\n".to_owned(),
                "no-parts",
            ),
            (format!("--{B}--\r\n"), "no-parts"),
            (format!("--{B}"), "unterminated"),
            (format!("--{B}\r\n"), "unterminated"),
            (
                format!("--{B}\r\nContent-Type: text/plain\r\n"),
                "unterminated",
            ),
            (
                format!("--{B}\r\nContent-Type: text/plain\r\n\r\ndata"),
                "unterminated",
            ),
            (
                format!("--{B}\r\nContent-Type: text/plain\r\n\r\ndata\r\n--{B}\r\n"),
                "unterminated",
            ),
            (
                format!("--{B}\r\nContent-Type: text/plain\r\n\r\ndata\r\n--{B}-"),
                "unterminated",
            ),
            // Bare LF line ends are not line ends: the delimiter is never found.
            (
                format!("--{B}\r\nContent-Type: text/plain\n\ndata\n--{B}--\n"),
                "unterminated",
            ),
            (
                format!("--{B}x\r\n\r\ndata\r\n--{B}--"),
                "malformed-delimiter",
            ),
            (
                format!("--{B}\r\n\r\ndata\r\n--{B}-x"),
                "malformed-delimiter",
            ),
            (
                format!("--{B}\r\n\r\ndata\r\n--{B} x\r\n"),
                "malformed-delimiter",
            ),
            (
                format!("--{B}{}\r\n\r\nx\r\n--{B}--", " ".repeat(300)),
                "malformed-delimiter",
            ),
            (
                format!("--{B}\r\nno colon here\r\n\r\nx\r\n--{B}--"),
                "malformed-header",
            ),
            (
                format!("--{B}\r\n folded first\r\n\r\nx\r\n--{B}--"),
                "malformed-header",
            ),
            (
                format!("--{B}\r\n: no name\r\n\r\nx\r\n--{B}--"),
                "malformed-header",
            ),
            (
                format!("--{B}\r\nBad Name: v\r\n\r\nx\r\n--{B}--"),
                "malformed-header",
            ),
            (
                format!("--{B}\r\nName: a\rb\r\n\r\nx\r\n--{B}--"),
                "malformed-header",
            ),
            (
                format!("--{B}\r\nContent-Length: 3\r\n\r\nhi\r\n--{B}--"),
                "content-length-mismatch",
            ),
            (
                format!("--{B}\r\nContent-Length: -2\r\n\r\nhi\r\n--{B}--"),
                "invalid-content-length",
            ),
            (
                format!("--{B}\r\nX-Big: {}\r\n\r\nx\r\n--{B}--", "v".repeat(20_000)),
                "header-too-large",
            ),
        ];
        for (body, rule) in cases {
            let (_, result) = run(body.as_bytes());
            assert_eq!(result.map_err(|e| e.rule()), Err(*rule), "{body:?}");
        }
        let bad_utf8 = [
            format!("--{B}\r\nName: ").into_bytes(),
            vec![0xff, 0xfe],
            format!("\r\n\r\nx\r\n--{B}--").into_bytes(),
        ]
        .concat();
        assert_eq!(run(&bad_utf8).1.unwrap_err().rule(), "malformed-header");
    }

    #[test]
    fn limits() {
        let parts = |n: usize| {
            let mut body = String::new();
            for _ in 0..n {
                body += &format!("--{B}\r\n\r\nx\r\n");
            }
            body + &format!("--{B}--")
        };
        let limits = Limits {
            max_header_bytes: 64,
            max_parts: 3,
        };
        assert_eq!(run_split(parts(3).as_bytes(), B, limits, &[]).1, Ok(()));
        let (events, result) = run_split(parts(4).as_bytes(), B, limits, &[]);
        let error = result.unwrap_err();
        assert_eq!(
            (error.rule(), error.path()),
            ("too-many-parts", "multipart[3]")
        );
        assert_eq!(events.iter().filter(|e| **e == Event::End).count(), 3);
        // The header limit counts each line with its CRLF; exactly at the limit is fine.
        let header = |len: usize| {
            format!(
                "--{B}\r\nX: {}\r\n\r\nx\r\n--{B}--",
                "v".repeat(len - "X: \r\n".len())
            )
        };
        assert_eq!(run_split(header(62).as_bytes(), B, limits, &[]).1, Ok(()));
        for cut in 0..80 {
            let (_, result) = run_split(header(63).as_bytes(), B, limits, &[cut]);
            assert_eq!(result.unwrap_err().rule(), "header-too-large");
        }
    }

    #[test]
    fn failed_parser_stays_failed() {
        let mut parser = Parser::new(B, Limits::default()).unwrap();
        let mut sink = Recorder::default();
        let error = parser
            .feed(format!("--{B}\r\nbad\r\n\r\n").as_bytes(), &mut sink)
            .unwrap_err();
        assert_eq!(error.rule(), "malformed-header");
        assert_eq!(parser.feed(b"more", &mut sink), Err(error.clone()));
        assert_eq!(parser.finish(&mut sink), Err(error));
    }

    #[test]
    fn sink_errors_stop_the_parse() {
        #[derive(Debug, PartialEq)]
        enum MyError {
            Full,
            Parse(&'static str),
        }
        impl From<MultipartError> for MyError {
            fn from(e: MultipartError) -> Self {
                MyError::Parse(e.rule())
            }
        }
        struct Small(usize);
        impl PartSink for Small {
            type Error = MyError;
            fn part_start(&mut self, _: &PartHeaders) -> Result<(), MyError> {
                Ok(())
            }
            fn part_data(&mut self, data: &[u8]) -> Result<(), MyError> {
                self.0 += data.len();
                if self.0 > 4 {
                    Err(MyError::Full)
                } else {
                    Ok(())
                }
            }
            fn part_end(&mut self) -> Result<(), MyError> {
                Ok(())
            }
        }
        let mut parser = Parser::new(B, Limits::default()).unwrap();
        let mut sink = Small(0);
        let body = format!("--{B}\r\n\r\n0123456789\r\n--{B}--");
        assert_eq!(parser.feed(body.as_bytes(), &mut sink), Err(MyError::Full));
        assert_eq!(parser.feed(b"", &mut sink), Err(MyError::Parse("aborted")));
    }

    #[test]
    fn invalid_boundaries_are_refused_by_the_parser() {
        for b in ["", "a\rb", "ends with space ", &"x".repeat(71)] {
            assert_eq!(
                Parser::new(b, Limits::default()).unwrap_err().rule(),
                "invalid-boundary"
            );
        }
    }

    /// The malformed shapes of the ADL suite (Communication 1.5 / 4.1.3 Content Types,
    /// Statement Resource, Signed Statements), rebuilt: each must be refused by the multipart
    /// layer (parser, part rules, hash check, part matching) or by statement parsing.
    #[test]
    fn adl_suite_shapes() {
        let one = statement_json(&[("text/plain", TEXT1)]);
        let two = statement_json(&[("text/plain", TEXT1), ("text/plain", TEXT2)]);
        let binary = "Content-Transfer-Encoding: binary";
        let good = body_of(&[
            json_part(&one),
            text_part(TEXT1, &[binary, &hash_header(TEXT1)]),
        ]);
        let parts = xapi_outcome(&good).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body, one.as_bytes());
        assert_eq!(parts[1].body, TEXT1.as_bytes());
        assert_eq!(match_parts(&parts), Ok(()));
        // Two attachments, two parts (the attachments=true setup).
        let both = body_of(&[
            json_part(&two),
            text_part(TEXT1, &[binary, &hash_header(TEXT1)]),
            text_part(TEXT2, &[binary, &hash_header(TEXT2)]),
        ]);
        assert_eq!(match_parts(&xapi_outcome(&both).unwrap()), Ok(()));
        // A statement part only (2.0: fileUrl attachments or none, sent as multipart/mixed).
        let alone = body_of(&[json_part(&statement_json(&[]))]);
        assert_eq!(match_parts(&xapi_outcome(&alone).unwrap()), Ok(()));

        // XAPI-00134: first part not application/json.
        let not_json = body_of(&[
            (vec!["Content-Type: text/plain".to_owned()], one.clone()),
            text_part(TEXT1, &[binary, &hash_header(TEXT1)]),
        ]);
        assert_eq!(xapi_outcome(&not_json).unwrap_err(), "first-part-not-json");
        // XAPI-00132: an attachment part without X-Experience-API-Hash.
        let no_hash = body_of(&[json_part(&one), text_part(TEXT1, &[binary])]);
        assert_eq!(xapi_outcome(&no_hash).unwrap_err(), "missing-hash-header");
        // XAPI-00135: Content-Transfer-Encoding other than binary.
        let base64 = body_of(&[
            json_part(&one),
            text_part(
                TEXT1,
                &["Content-Transfer-Encoding: base64", &hash_header(TEXT1)],
            ),
        ]);
        assert_eq!(xapi_outcome(&base64).unwrap_err(), "bad-transfer-encoding");
        // XAPI-00133: the statements split over two application/json parts.
        let split = body_of(&[
            json_part(&one),
            json_part(&one),
            text_part(TEXT1, &[binary, &hash_header(TEXT1)]),
        ]);
        assert_eq!(xapi_outcome(&split).unwrap_err(), "missing-hash-header");
        // XAPI-00131: no boundary before the first part's headers. The attachment part
        // becomes the first part.
        let mut no_first_boundary =
            format!("Content-Type: application/json{CRLF}{CRLF}{one}{CRLF}");
        no_first_boundary +=
            &String::from_utf8(body_of(&[text_part(TEXT1, &[binary, &hash_header(TEXT1)])]))
                .unwrap();
        assert_eq!(
            xapi_outcome(no_first_boundary.as_bytes()).unwrap_err(),
            "first-part-not-json"
        );
        // XAPI-00130: no boundary before the attachment part's headers. The attachment joins
        // the statement part, whose JSON then does not parse.
        let mut joined =
            format!("--{B}{CRLF}Content-Type: application/json{CRLF}{CRLF}{one}{CRLF}");
        joined += &format!(
            "Content-Type: text/plain{CRLF}{binary}{CRLF}{}{CRLF}{CRLF}{TEXT1}{CRLF}--{B}--{CRLF}",
            hash_header(TEXT1)
        );
        let parts = xapi_outcome(joined.as_bytes()).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(
            xapi::parse_statements(
                &parts[0].body,
                xapi::Version::V1_0_3,
                xapi::JsonLimits::default()
            )
            .is_err()
        );
        // XAPI-00132: a hash header naming no attachment (and not the data's hash).
        let other_hash = body_of(&[
            json_part(&one),
            text_part(
                TEXT1,
                &[
                    binary,
                    "X-Experience-API-Hash: b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89",
                ],
            ),
        ]);
        assert_eq!(xapi_outcome(&other_hash).unwrap_err(), "hash-mismatch");
        // The same, with a hash header that is the data's: the attachment has no part (and
        // the part is the data of no attachment).
        let unannounced = body_of(&[
            json_part(&one),
            text_part(TEXT3, &[binary, &hash_header(TEXT3)]),
        ]);
        let parts = xapi_outcome(&unannounced).unwrap();
        assert_eq!(
            rule_of(match_parts(&parts)),
            Some("missing-attachment-part")
        );
        // XAPI-00128: excess parts that are no attachment.
        let excess = body_of(&[
            json_part(&two),
            text_part(TEXT1, &[binary, &hash_header(TEXT1)]),
            text_part(TEXT2, &[binary, &hash_header(TEXT2)]),
            text_part(TEXT3, &[binary, &hash_header(TEXT3)]),
        ]);
        let parts = xapi_outcome(&excess).unwrap();
        let error = match_parts(&parts).unwrap_err();
        assert_eq!(
            (error.rule(), error.path()),
            ("unreferenced-part", "multipart[3].X-Experience-API-Hash")
        );
        // XAPI-00129: an attachment without a part and without fileUrl.
        let missing = body_of(&[
            json_part(&two),
            text_part(TEXT1, &[binary, &hash_header(TEXT1)]),
        ]);
        let error = match_parts(&xapi_outcome(&missing).unwrap()).unwrap_err();
        assert_eq!(
            (error.rule(), error.path()),
            ("missing-attachment-part", "$.attachments[1].sha2")
        );
        // A part whose Content-Type contradicts the attachment's contentType.
        let wrong_type = body_of(&[
            json_part(&one),
            (
                vec![
                    "Content-Type: image/jpeg".to_owned(),
                    binary.to_owned(),
                    hash_header(TEXT1),
                ],
                TEXT1.to_owned(),
            ),
        ]);
        assert_eq!(
            rule_of(match_parts(&xapi_outcome(&wrong_type).unwrap())),
            Some("content-type-mismatch")
        );
        // The signed-statement body shape: a CRLF before the first boundary, no spaces after
        // colons, no CRLF after the close delimiter.
        let jws = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
        let signed = format!(
            "\r\n--{B}\r\nContent-Type:application/json\r\n\r\n{}\r\n--{B}\r\nContent-Type:application/octet-stream\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash:{}\r\n\r\n{jws}\r\n--{B}--",
            statement_json(&[("application/octet-stream", jws)]),
            sha256_hex(jws.as_bytes())
        );
        let parts = xapi_outcome(signed.as_bytes()).unwrap();
        assert_eq!(parts[1].body, jws.as_bytes());
        assert_eq!(match_parts(&parts), Ok(()));
    }

    fn rule_of(result: Result<(), MultipartError>) -> Option<&'static str> {
        result.err().map(|e| e.rule())
    }

    fn match_parts(parts: &[Part]) -> Result<(), MultipartError> {
        let statements = xapi::parse_statements(
            &parts[0].body,
            xapi::Version::V2_0_0,
            xapi::JsonLimits::default(),
        )
        .unwrap();
        let json: Vec<&Map<String, Value>> = statements.iter().map(|s| s.json()).collect();
        let headers: Vec<PartHeaders> = parts[1..].iter().map(|p| p.headers.clone()).collect();
        check_attachment_parts(&json, false, &headers)
    }

    #[test]
    fn xapi_part_rules() {
        let h = |pairs: &[(&str, &str)]| PartHeaders::from_pairs(pairs.iter().copied());
        let hash = sha256_hex(b"x");
        type Case = (usize, PartHeaders, Result<(), (&'static str, &'static str)>);
        let cases: Vec<Case> = vec![
            (0, h(&[("Content-Type", "application/json")]), Ok(())),
            (
                0,
                h(&[("content-type", "Application/JSON; charset=UTF-8")]),
                Ok(()),
            ),
            (
                0,
                h(&[]),
                Err(("multipart[0].Content-Type", "first-part-not-json")),
            ),
            (
                0,
                h(&[("Content-Type", "text/plain")]),
                Err(("multipart[0].Content-Type", "first-part-not-json")),
            ),
            (
                0,
                h(&[
                    ("Content-Type", "application/json"),
                    ("Content-Type", "application/json"),
                ]),
                Err(("multipart[0].Content-Type", "duplicate-header")),
            ),
            (1, h(&[("X-Experience-API-Hash", &hash)]), Ok(())),
            (
                2,
                h(&[
                    ("Content-Type", "image/jpeg"),
                    ("content-transfer-encoding", "BINARY"),
                    ("x-experience-api-hash", &hash.to_uppercase()),
                ]),
                Ok(()),
            ),
            (
                1,
                h(&[("Content-Type", "text/plain")]),
                Err(("multipart[1].X-Experience-API-Hash", "missing-hash-header")),
            ),
            (
                1,
                h(&[("X-Experience-API-Hash", "")]),
                Err(("multipart[1].X-Experience-API-Hash", "missing-hash-header")),
            ),
            (
                1,
                h(&[("X-Experience-API-Hash", "not-hex")]),
                Err(("multipart[1].X-Experience-API-Hash", "invalid-hash-header")),
            ),
            (
                1,
                h(&[
                    ("X-Experience-API-Hash", &hash),
                    ("X-Experience-API-Hash", &hash),
                ]),
                Err(("multipart[1].X-Experience-API-Hash", "duplicate-header")),
            ),
            (
                3,
                h(&[
                    ("X-Experience-API-Hash", &hash),
                    ("Content-Transfer-Encoding", "base64"),
                ]),
                Err((
                    "multipart[3].Content-Transfer-Encoding",
                    "bad-transfer-encoding",
                )),
            ),
            (
                1,
                h(&[("X-Experience-API-Hash", &hash), ("Content-Type", "text")]),
                Err(("multipart[1].Content-Type", "invalid-content-type")),
            ),
        ];
        for (index, headers, expected) in cases {
            let outcome = check_xapi_part(index, &headers);
            assert_eq!(
                outcome
                    .as_ref()
                    .map(|_| ())
                    .map_err(|e| (e.path(), e.rule())),
                expected,
                "{index} {headers:?}"
            );
        }
    }

    #[test]
    fn part_hashes_of_every_sha2_length() {
        let data = b"attachment bytes";
        let digests = [
            hex::encode(Sha224::digest(data)),
            hex::encode(Sha256::digest(data)),
            hex::encode(Sha384::digest(data)),
            hex::encode(Sha512::digest(data)),
        ];
        for digest in digests {
            let json = r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}}"#;
            let body = format!(
                "--{B}\r\nContent-Type: application/json\r\n\r\n{json}\r\n--{B}\r\nX-Experience-API-Hash: {}\r\n\r\nattachment bytes\r\n--{B}--",
                digest.to_uppercase()
            );
            let parts = xapi_outcome(body.as_bytes()).unwrap();
            assert_eq!(parts[1].body, data);
            let mut stream = Sha2Stream::for_hex(&digest).unwrap();
            stream.update(&data[..5]);
            stream.update(&data[5..]);
            assert_eq!(stream.finish_hex(), digest);
        }
        assert!(Sha2Stream::for_hex("abc").is_none());
        let mut stream = Sha2Stream::sha256();
        stream.update(b"x");
        assert_eq!(stream.finish_hex(), sha256_hex(b"x"));
    }

    #[test]
    fn attachment_matching() {
        let sig = xapi::SIGNATURE_USAGE_TYPE;
        let h1 = sha256_hex(b"one");
        let h2 = sha256_hex(b"two");
        let attachment = |usage: &str, content_type: &str, sha2: &str, file_url: bool| {
            let mut a = serde_json::json!({
                "usageType": usage, "display": {"en-US": "a"},
                "contentType": content_type, "length": 3, "sha2": sha2
            });
            if file_url {
                a["fileUrl"] = Value::String("http://over.there.com/file.txt".to_owned());
            }
            a
        };
        let statement = |attachments: Vec<Value>| {
            serde_json::json!({
                "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://x.org/v"},
                "object": {"id": "http://x.org/a"},
                "attachments": attachments
            })
            .as_object()
            .unwrap()
            .clone()
        };
        let part = |hash: &str, content_type: Option<&str>| {
            let mut pairs = vec![("X-Experience-API-Hash".to_owned(), hash.to_owned())];
            if let Some(ct) = content_type {
                pairs.push(("Content-Type".to_owned(), ct.to_owned()));
            }
            PartHeaders::from_pairs(pairs)
        };
        let usage = "http://example.com/usage";
        type Case = (
            Vec<Map<String, Value>>,
            bool,
            Vec<PartHeaders>,
            Option<(&'static str, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            // fileUrl attachments need no part.
            (
                vec![statement(vec![attachment(usage, "text/plain", &h1, true)])],
                false,
                vec![],
                None,
            ),
            // A part may be sent once for several attachments, across statements; hex case
            // and media type parameters do not matter.
            (
                vec![
                    statement(vec![attachment(
                        usage,
                        "Text/Plain; charset=ascii",
                        &h1,
                        false,
                    )]),
                    statement(vec![attachment(
                        usage,
                        "text/plain",
                        &h1.to_uppercase(),
                        false,
                    )]),
                ],
                true,
                vec![part(&h1, Some("text/plain"))],
                None,
            ),
            // A part for a fileUrl attachment is fine too.
            (
                vec![statement(vec![attachment(usage, "text/plain", &h1, true)])],
                false,
                vec![part(&h1, None)],
                None,
            ),
            (
                vec![
                    statement(vec![]),
                    statement(vec![attachment(usage, "text/plain", &h2, false)]),
                ],
                true,
                vec![part(&h1, None)],
                Some(("$[1].attachments[0].sha2", "missing-attachment-part")),
            ),
            // A signature needs its part even with a fileUrl (Data §2.6, XAPI-00115).
            (
                vec![statement(vec![attachment(
                    sig,
                    "application/octet-stream",
                    &h1,
                    true,
                )])],
                false,
                vec![],
                Some(("$.attachments[0].sha2", "missing-attachment-part")),
            ),
            (
                vec![statement(vec![attachment(usage, "text/plain", &h1, false)])],
                false,
                vec![part(&h1, None), part(&h2, None)],
                Some(("multipart[2].X-Experience-API-Hash", "unreferenced-part")),
            ),
            (
                vec![statement(vec![attachment(usage, "text/plain", &h1, false)])],
                false,
                vec![part(&h1, Some("image/png"))],
                Some(("multipart[1].Content-Type", "content-type-mismatch")),
            ),
        ];
        for (statements, array, parts, expected) in cases {
            let refs: Vec<&Map<String, Value>> = statements.iter().collect();
            let outcome = check_attachment_parts(&refs, array, &parts);
            assert_eq!(
                outcome.as_ref().err().map(|e| (e.path(), e.rule())),
                expected,
                "{statements:?}"
            );
        }
        // SubStatement attachments are matched too.
        let mut with_sub = statement(vec![]);
        with_sub.insert(
            "object".to_owned(),
            serde_json::json!({
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://x.org/v"},
                "object": {"id": "http://x.org/a"},
                "attachments": [attachment(usage, "text/plain", &h2, false)]
            }),
        );
        assert_eq!(
            check_attachment_parts(&[&with_sub], false, &[part(&h2, None)]),
            Ok(())
        );
        let error = check_attachment_parts(&[&with_sub], false, &[]).unwrap_err();
        assert_eq!(error.path(), "$.object.attachments[0].sha2");
    }

    #[test]
    fn write_then_parse() {
        let json = br#"{"statements":[],"more":""}"#;
        let image: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let text = b"line one\r\nline two\r\n";
        let attachments = [
            AttachmentData {
                content_type: "image/png",
                sha2: &sha256_hex(&image),
                data: &image,
            },
            AttachmentData {
                content_type: "text/plain; charset=utf-8",
                sha2: &sha256_hex(text),
                data: text,
            },
            AttachmentData {
                content_type: "application/octet-stream",
                sha2: &sha256_hex(b""),
                data: b"",
            },
        ];
        let boundary = "0f4c7a4e9b2d4c3e8a1f6b5d7c9e0a1b";
        let body = write_mixed(boundary, json, attachments);
        assert!(body.starts_with(
            format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes()
        ));
        assert!(body.ends_with(format!("\r\n--{boundary}--\r\n").as_bytes()));
        let header = response_content_type(boundary);
        assert_eq!(header, format!("multipart/mixed; boundary={boundary}"));
        let parsed_boundary = super::boundary(&header).unwrap();
        let mut parser = Parser::new(&parsed_boundary, Limits::default()).unwrap();
        let mut sink = XapiParts::new(Collector::default());
        parser.feed(&body, &mut sink).unwrap();
        parser.finish(&mut sink).unwrap();
        let parts = sink.into_inner().parts;
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].body, json);
        for (part, attachment) in parts[1..].iter().zip(&attachments) {
            assert_eq!(part.body, attachment.data);
            assert_eq!(part.headers.content_type(), Some(attachment.content_type));
            assert_eq!(part.headers.transfer_encoding(), Some("binary"));
            assert_eq!(part.headers.hash(), Some(attachment.sha2));
        }
        // No attachments: the statement part alone.
        let alone = write_mixed(boundary, json, []);
        let parts = parse_all(&alone, boundary, Limits::default()).unwrap();
        assert_eq!(parts.len(), 1);
        // Header values cannot break out of their line.
        let sneaky = write_mixed(
            boundary,
            b"{}",
            [AttachmentData {
                content_type: "text/plain\r\nX-Injected: 1",
                sha2: "ab",
                data: b"",
            }],
        );
        let parts = parse_all(&sneaky, boundary, Limits::default()).unwrap();
        assert_eq!(parts[1].headers.get("X-Injected"), None);
        // Boundaries that are not tokens are quoted, and read back.
        let quoted = response_content_type("abc ABC'()+_,-./:=?");
        assert_eq!(quoted, "multipart/mixed; boundary=\"abc ABC'()+_,-./:=?\"");
        assert_eq!(super::boundary(&quoted).unwrap(), "abc ABC'()+_,-./:=?");
    }

    #[test]
    fn every_rule_is_documented_once() {
        let mut names: Vec<&str> = RULES.iter().map(|(name, _)| *name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    /// Bodies built from pieces that stress the delimiter search: CRs, LFs, dashes and
    /// prefixes of the boundary.
    fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"-".to_vec()),
            Just(b"--".to_vec()),
            Just(b"\r\n--".to_vec()),
            Just(b"\r\n--bou".to_vec()),
            Just(b"bound".to_vec()),
            Just(b"boundar".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    /// A part's headers and data; no data means no blank line either (a part without body).
    fn part_strategy() -> impl Strategy<Value = (Vec<(String, String)>, Option<Vec<u8>>)> {
        let header = (
            prop_oneof![
                Just("Content-Type".to_owned()),
                Just("X-Experience-API-Hash".to_owned()),
                Just("x-other".to_owned()),
            ],
            "[a-z0-9/;= -]{0,12}",
        );
        (
            proptest::collection::vec(header, 0..3),
            proptest::option::weighted(0.8, tricky_bytes()),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any body, well formed or not, split anywhere, gives the same events and outcome as
        /// the whole body fed at once.
        #[test]
        fn chunking_does_not_matter(
            parts in proptest::collection::vec(part_strategy(), 0..4),
            preamble in tricky_bytes(),
            epilogue in tricky_bytes(),
            close in any::<bool>(),
            noise in proptest::collection::vec((any::<usize>(), tricky_bytes()), 0..2),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let boundary = "boundary";
            let mut body = preamble.clone();
            let mut expected = Vec::new();
            for (headers, data) in &parts {
                body.extend_from_slice(b"\r\n--boundary\r\n");
                for (name, value) in headers {
                    body.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
                }
                if let Some(data) = data {
                    body.extend_from_slice(b"\r\n");
                    body.extend_from_slice(data);
                }
                let trimmed: Vec<(String, String)> = headers
                    .iter()
                    .map(|(n, v)| (n.clone(), v.trim().to_owned()))
                    .collect();
                expected.push(Event::Start(trimmed));
                if let Some(data) = data.as_ref().filter(|d| !d.is_empty()) {
                    expected.push(Event::Data(data.clone()));
                }
                expected.push(Event::End);
            }
            if close {
                body.extend_from_slice(b"\r\n--boundary--");
                body.extend_from_slice(&epilogue);
            }
            // Composers keep the delimiter out of the preamble and the parts (RFC 2046); the
            // CRLF in front stands for the body's start and for a part's blank line.
            let clean = |bytes: &[u8]| {
                find(&[b"\r\n", bytes].concat(), b"\r\n--boundary").is_none()
            };
            let well_formed = close
                && !parts.is_empty()
                && clean(&preamble)
                && parts.iter().all(|(_, data)| data.as_deref().is_none_or(clean));
            let mut mangled = body.clone();
            for (at, bytes) in &noise {
                let at = at % (mangled.len() + 1);
                mangled.splice(at..at, bytes.iter().copied());
            }
            for input in [&body, &mangled] {
                let whole = run_split(input, boundary, Limits::default(), &[]);
                let split = run_split(input, boundary, Limits::default(), &cuts);
                prop_assert_eq!(&split, &whole);
                let bytewise: Vec<usize> = (0..input.len()).collect();
                prop_assert_eq!(&run_split(input, boundary, Limits::default(), &bytewise), &whole);
            }
            if well_formed {
                let whole = run_split(&body, boundary, Limits::default(), &[]);
                prop_assert_eq!(whole, (expected, Ok(())));
            }
        }
    }
}
