//! The fuzz targets of the parsers that take untrusted input, as plain functions from bytes.
//!
//! Each function feeds the bytes to the real public API the server uses on that input (no
//! copy of the parsing logic lives here) and asserts what must hold for every input: it never
//! panics, and where a parse succeeds its result satisfies the invariants named in each
//! function's documentation. The cargo-fuzz project in `fuzz/` calls them under libFuzzer;
//! `tests/corpus.rs` replays the committed corpus through them on every `cargo test`, so a
//! finding once fixed stays fixed without a nightly toolchain.

use std::io::Cursor as IoCursor;

use lrs::multipart::{
    self, AttachmentData, MultipartError, Part, PartHeaders, PartSink, XapiParts,
};
use lrs::statements::{self, Authority, Cursor, QueryLimits, StatementGet};
use scorm_player::runtime::{self, ElementValue, PriorAttempt};
use scorm_player::sequencing::{self, NavRequest};
use scorm_player::{
    ActivityTree, ErrorCode, LaunchData, Limits, PackageArchive, RuntimeOptions, RuntimeState,
    ScormVersion, SequencingState, Start, XmlLimits, has_errors, parse_manifest,
    validate_package_bytes,
};
use serde_json::{Map, Value};
use xapi::{JsonLimits, Statement, Version};

/// A fuzz target: any bytes in, nothing out; it panics only when an invariant is broken.
pub type Target = fn(&[u8]);

/// Every target by name, in the order of the docs; the corpus of target `name` lives in
/// `fuzz/corpus/<name>/`.
pub const TARGETS: [(&str, Target); 6] = [
    ("statement", statement),
    ("multipart", multipart),
    ("manifest", manifest),
    ("package_zip", package_zip),
    ("cmi", cmi),
    ("statement_query", statement_query),
];

const VERSIONS: [Version; 2] = [Version::V1_0_3, Version::V2_0_0];

/// A Statement Resource body (one statement or an array), parsed and validated for both xAPI
/// versions, then taken through what the LRS does with an accepted statement.
///
/// Invariants of every accepted statement: its JSON re-serialises and re-parses to an equal
/// statement; it is equivalent to itself; after `prepare` (id, authority, version set) it
/// still validates when read back from storage (`from_stored`) and is equivalent to what was
/// sent; 2.0.0 storage normalisation keeps it valid.
pub fn statement(data: &[u8]) {
    for version in VERSIONS {
        let Ok(parsed) = xapi::parse_statements(data, version, JsonLimits::default()) else {
            continue;
        };
        for statement in parsed {
            check_statement(&statement, version);
        }
    }
}

/// A `multipart/mixed` statement body. The input is a `Content-Type` header value up to the
/// first line feed, then the body. The boundary is read from the header with
/// `multipart::boundary`, and the body streamed through `multipart::Parser` in chunks whose
/// size comes from the header's length, as the HTTP layer feeds it; the xAPI part rules,
/// the statements of the first part, the attachment matching and any signature follow.
///
/// Invariants: the outcome and the parts do not depend on how the body is split into
/// chunks; a body written by `write_mixed` from the parts parses back to the same parts.
pub fn multipart(data: &[u8]) {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let Ok(content_type) = std::str::from_utf8(&data[..newline]) else {
        return;
    };
    let body = &data[newline + 1..];
    let Ok(boundary) = multipart::boundary(content_type) else {
        return;
    };
    let limits = multipart::Limits {
        max_header_bytes: 1024,
        max_parts: 16,
    };
    let whole = multipart::parse_all(body, &boundary, limits);
    let chunk = content_type.len() % 7 + 1;
    let streamed = stream(body, &boundary, limits, chunk, Collect::default());
    match (&whole, &streamed) {
        (Ok(parts), Ok(collected)) => {
            assert_eq!(parts, &collected.parts, "parts differ by chunking")
        }
        (Err(a), Err(b)) => assert_eq!(
            (a.rule(), a.path()),
            (b.rule(), b.path()),
            "errors differ by chunking"
        ),
        _ => panic!("outcome differs by chunking: whole {whole:?}, chunked {streamed:?}"),
    }
    let Ok(parts) = whole else {
        return;
    };
    check_rewrite(&parts, limits);

    // The request path: the same body through the xAPI part rules, then the statements.
    let Ok(checked) = stream(
        body,
        &boundary,
        limits,
        chunk,
        XapiParts::new(Collect::default()),
    ) else {
        return;
    };
    let parts = checked.into_inner().parts;
    let Some((first, attachments)) = parts.split_first() else {
        return;
    };
    let headers: Vec<PartHeaders> = attachments.iter().map(|p| p.headers.clone()).collect();
    for version in VERSIONS {
        let Ok(parsed) = xapi::parse_statements(&first.body, version, JsonLimits::default()) else {
            continue;
        };
        let array = first.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
        let jsons: Vec<&Map<String, Value>> = parsed.iter().map(Statement::json).collect();
        if multipart::check_attachment_parts(&jsons, array, &headers).is_err() {
            continue;
        }
        for statement in &parsed {
            let Ok(signatures) = xapi::signature_attachments(statement.json()) else {
                continue;
            };
            for signature in signatures {
                let data = attachments.iter().find(|part| {
                    part.headers
                        .hash()
                        .is_some_and(|h| h.eq_ignore_ascii_case(signature.sha2))
                });
                if let Some(part) = data {
                    let _ = xapi::verify_signature(statement.json(), &part.body, version);
                }
            }
        }
    }
}

/// `imsmanifest.xml` bytes, parsed as at import, then its default organization built into
/// an activity tree and sequenced (start, the navigation answers, the outline, a few
/// requests), as the player does for a package whose manifest was accepted.
///
/// Invariant: parsing is pure (the same bytes give the same model and diagnostics).
pub fn manifest(data: &[u8]) {
    let limits = XmlLimits::default();
    let (model, diagnostics) = parse_manifest(data, &limits);
    let (again, again_diagnostics) = parse_manifest(data, &limits);
    // Compared as Debug text: a model may hold NaN, which is unequal to itself.
    assert_eq!(
        format!("{model:?}"),
        format!("{again:?}"),
        "manifest parse is not pure"
    );
    assert_eq!(
        diagnostics, again_diagnostics,
        "manifest diagnostics are not pure"
    );
    let _ = serde_json::to_vec(&model);
    let Ok(tree) = ActivityTree::build(&model, None) else {
        return;
    };
    sequence(&tree, data.len() as u64);
}

/// A SCORM package zip, validated as at import with limits small enough for a fuzzer.
///
/// Invariants of an accepted package: no error diagnostic; the manifest is present and
/// parses; every listed file can be read through `PackageArchive` and has exactly the size
/// validation counted.
pub fn package_zip(data: &[u8]) {
    let limits = Limits {
        max_package_bytes: 1024 * 1024,
        max_entries: 64,
        max_file_bytes: 256 * 1024,
        max_total_bytes: 1024 * 1024,
        max_compression_ratio: 200,
        ratio_threshold_bytes: 16 * 1024,
        xml: XmlLimits::default(),
    };
    let Ok((package, warnings)) = validate_package_bytes(data, &limits) else {
        return;
    };
    assert!(
        !has_errors(&warnings),
        "an accepted package has errors: {warnings:?}"
    );
    let mut archive = match PackageArchive::open(IoCursor::new(data), &package) {
        Ok(archive) => archive,
        Err(error) => panic!("a validated package does not open: {error}"),
    };
    for file in &package.files {
        match archive.read(&file.path) {
            Ok(bytes) => assert_eq!(bytes.len() as u64, file.size, "size of {}", file.path),
            Err(error) => panic!("a validated file does not read: {error}"),
        }
    }
    if let Ok(tree) = ActivityTree::build(&package.manifest, None) {
        sequence(&tree, 0);
    }
}

/// A session of SCO calls on the run-time data model. The input is text, one call per line:
/// the first line picks the version (`1` SCORM 1.2, `2`/`3`/`4` SCORM 2004 2nd/3rd/4th
/// Edition) and, with an `s`, strict mode; then `I<param>` Initialize, `G<element>`
/// GetValue, `S<element>=<value>` SetValue, `C<param>` Commit, `T<param>` Terminate,
/// `E<code>` GetLastError/GetErrorString/GetDiagnostic, `R` a new session after the current
/// one (resume or continue, by the specs' rules).
///
/// Invariant: every payload a commit or terminate returns replays on the server (a fresh
/// session, the same launch data, each value set in order) without error, to the same
/// attempt summary: the server never refuses what its own data model accepted in the browser.
pub fn cmi(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let header = lines.next().unwrap_or_default();
    let version = match header.chars().next() {
        Some('1') => ScormVersion::Scorm12,
        Some('2') => ScormVersion::Scorm2004Ed2,
        Some('3') => ScormVersion::Scorm2004Ed3,
        _ => ScormVersion::Scorm2004Ed4,
    };
    let options = RuntimeOptions {
        strict: header.contains('s'),
        max_value_chars: 4096,
        max_records: 32,
        max_total_chars: 64 * 1024,
    };
    let launch = launch_data(version);
    let mut start = Start::New;
    let mut state = RuntimeState::new(version, launch.clone(), start.clone(), options);
    for line in lines.take(512) {
        let mut chars = line.chars();
        let op = chars.next();
        let rest = chars.as_str();
        let payload = match op {
            Some('I') => {
                let _ = state.initialize(rest);
                None
            }
            Some('G') => {
                let _ = state.get_value(rest);
                None
            }
            Some('S') => {
                let (element, value) = rest.split_once('=').unwrap_or((rest, ""));
                let _ = state.set_value(element, value);
                None
            }
            Some('C') => state.commit(rest).ok(),
            Some('T') => state.terminate(rest).ok(),
            Some('E') => {
                let code = ErrorCode(rest.trim().parse().unwrap_or(state.last_error().0));
                let _ = state.error_string(code);
                let _ = state.diagnostic(code);
                None
            }
            Some('R') => {
                let prior = PriorAttempt {
                    payload: state.commit_payload(),
                    total_time: state.summary().total_time,
                };
                start = Start::after(version, prior);
                state = RuntimeState::new(version, launch.clone(), start.clone(), options);
                None
            }
            _ => None,
        };
        if let Some(payload) = payload {
            check_replay(&state, &payload, version, &launch, &start, options);
        }
    }
    let _ = state.summary();
}

/// The query string of a statement GET (`/xapi/statements?…`), read as the handler reads it:
/// the pairs of the URI's query, a `more` cursor alone resolved into the parameters it
/// carries, then `parse_get` for both versions.
///
/// Invariants: a query's limit is between 1 and the maximum; a decoded cursor and the cursor
/// of a parsed query encode and decode back to themselves.
pub fn statement_query(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let mut params: Vec<(String, String)> =
        match axum::http::Uri::try_from(format!("/xapi/statements?{query}")) {
            Ok(uri) => lrs::http::query_pairs(&uri),
            // The server never sees such a URI, but percent-decoding yields any string, so
            // the parameter parser is still held to arbitrary pairs.
            Err(_) => url::form_urlencoded::parse(data)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        };
    if let [(name, value)] = params.as_slice()
        && name == "more"
    {
        let Ok(cursor) = Cursor::decode(value) else {
            return;
        };
        check_cursor(&cursor);
        params = cursor.params;
    }
    for version in VERSIONS {
        for max_limit in [1, 100] {
            let limits = QueryLimits { max_limit };
            match statements::parse_get(&params, version, limits) {
                Ok(StatementGet::Query { query, params, .. }) => {
                    assert!(
                        (1..=max_limit).contains(&query.limit),
                        "limit {} outside 1..={max_limit}",
                        query.limit
                    );
                    check_cursor(&Cursor {
                        params,
                        after: data.iter().take(16).copied().collect(),
                    });
                }
                Ok(StatementGet::Single { .. }) | Err(_) => {}
            }
        }
    }
}

fn check_statement(statement: &Statement, version: Version) {
    let json = statement.json();
    let bytes = match serde_json::to_vec(json) {
        Ok(bytes) => bytes,
        Err(error) => panic!("an accepted statement does not serialise: {error}"),
    };
    match xapi::parse_statements(&bytes, version, JsonLimits::default()) {
        Ok(again) => assert_eq!(again.as_slice(), std::slice::from_ref(statement)),
        Err(error) => panic!("a re-serialised statement is refused: {error}"),
    }
    assert!(
        xapi::equivalent(json, json),
        "a statement is not equivalent to itself"
    );
    let _ = statement.index_terms();
    let _ = xapi::format_ids(json);
    let _ = xapi::format_canonical(json, &["en-US".to_owned(), "*".to_owned()]);
    let mut normalized = json.clone();
    xapi::normalize_for_storage(&mut normalized, version);
    xapi::context_activities_as_arrays(&mut normalized);
    if let Err(error) = Statement::parse(Value::Object(normalized), version, "$") {
        panic!("a statement normalised for storage is refused: {error}");
    }
    let authority = Authority::for_credential("https://lrs.example/", "key");
    let prepared = statements::prepare(statement.clone(), version, &authority);
    assert!(
        xapi::equivalent(&prepared.json, json),
        "a prepared statement is not equivalent to what was sent"
    );
    if let Err(error) = statements::from_stored(prepared.json) {
        panic!("a prepared statement is refused when read back: {error}");
    }
}

/// Collects whole parts from the parser's events.
#[derive(Debug, Default)]
struct Collect {
    parts: Vec<Part>,
}

impl PartSink for Collect {
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

fn stream<S: PartSink<Error = MultipartError>>(
    body: &[u8],
    boundary: &str,
    limits: multipart::Limits,
    chunk: usize,
    mut sink: S,
) -> Result<S, MultipartError> {
    let mut parser = multipart::Parser::new(boundary, limits)?;
    for piece in body.chunks(chunk) {
        parser.feed(piece, &mut sink)?;
    }
    parser.finish(&mut sink)?;
    Ok(sink)
}

/// Writes the parts again with `write_mixed` (the response writer) and parses the result.
fn check_rewrite(parts: &[Part], limits: multipart::Limits) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    // The writer puts these headers on every attachment part; values it cannot carry (line
    // breaks) are cleaned by it, so only parts with plain values are compared.
    let plain = |v: &str| !v.is_empty() && v.chars().all(|c| !c.is_control());
    let mut attachments = Vec::new();
    for part in rest {
        let content_type = part
            .headers
            .content_type()
            .unwrap_or("application/octet-stream");
        let Some(sha2) = part.headers.hash() else {
            return;
        };
        if !plain(content_type) || !plain(sha2) || content_type.trim() != content_type {
            return;
        }
        attachments.push(AttachmentData {
            content_type,
            sha2: sha2.trim(),
            data: &part.body,
        });
    }
    let boundary = "fuzz-rewrite-3b1f0c9e";
    let contains = |hay: &[u8]| {
        hay.windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    };
    if contains(&first.body) || rest.iter().any(|p| contains(&p.body)) {
        return;
    }
    let written = multipart::write_mixed(boundary, &first.body, attachments.iter().copied());
    match multipart::parse_all(&written, boundary, multipart::Limits::default()) {
        Ok(again) => {
            let bodies: Vec<&[u8]> = again.iter().map(|p| p.body.as_slice()).collect();
            let expected: Vec<&[u8]> = parts.iter().map(|p| p.body.as_slice()).collect();
            assert_eq!(bodies, expected, "a written body parses to other parts");
        }
        Err(error) => panic!("a body written by write_mixed is refused: {error} ({limits:?})"),
    }
}

/// Starts the tree's sequencing and exercises the navigation the player offers.
fn sequence(tree: &ActivityTree, seed: u64) {
    let mut state = SequencingState::with_seed(tree, seed);
    let _ = sequencing::navigation(tree, &state);
    let _ = sequencing::outline(tree, &state);
    let requests = [
        "start",
        "continue",
        "previous",
        "suspendAll",
        "resumeAll",
        "exitAll",
    ];
    for request in requests.iter().filter_map(|r| NavRequest::parse(r)) {
        let _ = sequencing::navigate(tree, &mut state, &request);
        let _ = sequencing::navigation(tree, &state);
    }
    let _ = sequencing::outline(tree, &state);
}

fn launch_data(version: ScormVersion) -> LaunchData {
    LaunchData {
        learner_id: "learner-1".to_owned(),
        learner_name: "Lovelace, Ada".to_owned(),
        launch_data: Some("start=1".to_owned()),
        mastery_score: (version == ScormVersion::Scorm12).then_some(80.0),
        completion_threshold: version.is_2004().then_some(0.5),
        scaled_passing_score: version.is_2004().then_some(0.6),
        objective_ids: if version.is_2004() {
            vec!["obj-a".to_owned()]
        } else {
            Vec::new()
        },
        ..LaunchData::default()
    }
}

fn check_replay(
    state: &RuntimeState,
    payload: &runtime::CommitPayload,
    version: ScormVersion,
    launch: &LaunchData,
    start: &Start,
    options: RuntimeOptions,
) {
    match runtime::replay(version, launch.clone(), start.clone(), options, payload) {
        Ok(replayed) => assert_eq!(
            format!("{:?}", replayed.summary()),
            format!("{:?}", state.summary()),
            "a replayed payload gives another summary"
        ),
        Err(error) => {
            let values: Vec<&ElementValue> = payload.values.iter().collect();
            panic!("the server refuses a payload its data model produced: {error}; {values:?}")
        }
    }
}

fn check_cursor(cursor: &Cursor) {
    match Cursor::decode(&cursor.encode()) {
        Ok(again) => assert_eq!(&again, cursor, "a cursor does not round-trip"),
        Err(error) => panic!("an encoded cursor is refused: {error}"),
    }
}
