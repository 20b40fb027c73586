//! Concurrency (Communication 3.1): quoted ETags on document GETs, If-Match and
//! If-None-Match on PUT, POST and DELETE, and the 409 for a PUT without either header on an
//! existing document. xAPI 1.0.3 exempts the State Resource from the 409 ("will permit PUT,
//! POST and DELETE requests without concurrency headers"); xAPI 2.0 applies it to all three
//! resources (ADL 2.0 suite, 4.1.4 Concurrency).

use reqwest::Method;
use serde_json::{Value, json};
use sha1::Digest as _;

use crate::check::ensure;
use crate::client::{Ctx, Reply};
use crate::docs::{Body, DocAddr, DocResource, Precondition};
use crate::fixtures::Fx;
use crate::harness::{Case, CaseResult, Versions, XapiVersion};

/// A tag no LRS hands out for these documents.
const WRONG_TAG: &str = "\"0000000000000000000000000000000000000000\"";

#[derive(Clone, Copy, Debug)]
enum Check {
    EtagQuoted,
    EtagSha1,
    PutIfMatchWrong,
    PutIfMatchRight,
    PutIfMatchAbsent,
    PutIfNoneMatchExisting,
    PutIfNoneMatchAbsent,
    PutWithoutHeadersConflict,
    PutWithoutHeadersStateOverwrites,
    PutWithoutHeadersNew,
    PostIfMatchWrong,
    PostIfMatchRight,
    PostIfNoneMatchExisting,
    DeleteIfMatchWrong,
    DeleteIfMatchRight,
}

const CHECKS: [Check; 15] = [
    Check::EtagQuoted,
    Check::EtagSha1,
    Check::PutIfMatchWrong,
    Check::PutIfMatchRight,
    Check::PutIfMatchAbsent,
    Check::PutIfNoneMatchExisting,
    Check::PutIfNoneMatchAbsent,
    Check::PutWithoutHeadersConflict,
    Check::PutWithoutHeadersStateOverwrites,
    Check::PutWithoutHeadersNew,
    Check::PostIfMatchWrong,
    Check::PostIfMatchRight,
    Check::PostIfNoneMatchExisting,
    Check::DeleteIfMatchWrong,
    Check::DeleteIfMatchRight,
];

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for resource in DocResource::ALL {
        for check in CHECKS {
            let Some((versions, name)) = check.applies(resource) else {
                continue;
            };
            cases.push(Case::new(name, versions, move |ctx| {
                run(ctx, resource, check)
            }));
        }
    }
    cases
}

impl Check {
    /// The versions the check applies to for `r`, and its name; `None` when it does not apply.
    fn applies(self, r: DocResource) -> Option<(Versions, String)> {
        let label = r.label();
        let both = Versions::Both;
        let v1 = Versions::Only(XapiVersion::V1_0_3);
        let state = r == DocResource::State;
        Some(match self {
            Check::EtagQuoted => (
                both,
                format!(
                    "Communication 3.1.s4.b1, 3.1.s4.b4 / XAPI-00322: {label} GET carries an ETag enclosed in quotes"
                ),
            ),
            Check::EtagSha1 => (
                v1,
                format!(
                    "Communication 3.1.s4.b2 / XAPI-00322: {label} GET without transfer encoding has as ETag the lowercase hex SHA-1 of the contents"
                ),
            ),
            Check::PutIfMatchWrong => (
                both,
                format!(
                    "Communication 3.1.s4.b5, 3.1.s5 / XAPI-00322: {label} PUT with a stale If-Match is rejected with 412 and changes nothing"
                ),
            ),
            Check::PutIfMatchRight => (
                both,
                format!(
                    "Communication 3.1.s4.b5 / XAPI-00322: {label} PUT with the current ETag in If-Match replaces the document and changes the ETag"
                ),
            ),
            Check::PutIfMatchAbsent => (
                both,
                format!(
                    "Communication 3.1.s4.b5, RFC 7232 3.1: {label} PUT with If-Match of a document that does not exist is rejected with 412 and stores nothing"
                ),
            ),
            Check::PutIfNoneMatchExisting => (
                both,
                format!(
                    "Communication 3.1.s4.b6, 3.1.s5 / XAPI-00322: {label} PUT with If-None-Match: * of an existing document is rejected with 412 and changes nothing"
                ),
            ),
            Check::PutIfNoneMatchAbsent => (
                both,
                format!(
                    "Communication 3.1.s4.b6 / XAPI-00322: {label} PUT with If-None-Match: * of a new document stores it"
                ),
            ),
            Check::PutWithoutHeadersConflict if !state => (
                both,
                format!(
                    "Communication 3.1.s7 / XAPI-00322: {label} PUT without If-Match or If-None-Match of an existing document is rejected with 409, an explanation, and no change"
                ),
            ),
            Check::PutWithoutHeadersConflict => (
                Versions::Only(XapiVersion::V2_0_0),
                format!(
                    "xAPI 2.0 4.1.4 (Communication 3.1.s7): {label} PUT without If-Match or If-None-Match of an existing document is rejected with 409, an explanation, and no change"
                ),
            ),
            Check::PutWithoutHeadersStateOverwrites if state => (
                v1,
                format!(
                    "Communication 3.1.s3: {label} PUT without concurrency headers of an existing document replaces it (1.0.3 exempts State)"
                ),
            ),
            Check::PutWithoutHeadersStateOverwrites => return None,
            Check::PutWithoutHeadersNew if !state => (
                v1,
                format!(
                    "Communication 3.1.s3.b1 / XAPI-00273: {label} PUT of a new document without If-Match or If-None-Match is rejected with 400 and stores nothing"
                ),
            ),
            Check::PutWithoutHeadersNew => return None,
            Check::PostIfMatchWrong => (
                both,
                format!(
                    "Communication 3.1.s4.b7, 3.1.s6 (SHOULD*): {label} POST with a stale If-Match is rejected with 412 and changes nothing"
                ),
            ),
            Check::PostIfMatchRight => (
                both,
                format!(
                    "Communication 3.1.s4.b7 (SHOULD*): {label} POST with the current ETag in If-Match merges"
                ),
            ),
            Check::PostIfNoneMatchExisting => (
                both,
                format!(
                    "Communication 3.1.s4.b8, 3.1.s6 (SHOULD*): {label} POST with If-None-Match: * of an existing document is rejected with 412 and changes nothing"
                ),
            ),
            Check::DeleteIfMatchWrong => (
                both,
                format!(
                    "Communication 3.1.s4.b7, 3.1.s6 (SHOULD*): {label} DELETE with a stale If-Match is rejected with 412 and deletes nothing"
                ),
            ),
            Check::DeleteIfMatchRight => (
                both,
                format!(
                    "Communication 3.1.s4.b7 (SHOULD*): {label} DELETE with the current ETag in If-Match deletes the document"
                ),
            ),
        })
    }
}

async fn run(ctx: Ctx, r: DocResource, check: Check) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "concurrency-doc");
    let original = json!({ "version": 1, "kept": "yes" });
    let replacement = json!({ "version": 2 });
    match check {
        Check::EtagQuoted => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            ensure(is_quoted(&tag), || {
                format!("the ETag {tag:?} is not a quoted string (RFC 7232 2.3)")
            })
        }
        Check::EtagSha1 => etag_sha1(&ctx, &addr).await,
        Check::PutIfMatchWrong => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = put(
                &ctx,
                &addr,
                &replacement,
                Precondition::IfMatch(WRONG_TAG.into()),
            )
            .await?;
            reply.expect_error(&ctx, 412)?;
            unchanged(&ctx, &addr, &original, &tag).await
        }
        Check::PutIfMatchRight => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = put(
                &ctx,
                &addr,
                &replacement,
                Precondition::IfMatch(tag.clone()),
            )
            .await?;
            reply.expect(204)?;
            ctx.doc_json_is(&addr, &replacement).await?;
            let new_tag = ctx.doc_etag(&addr).await?;
            ensure(new_tag != tag, || {
                format!("the ETag {tag} did not change with the document")
            })
        }
        Check::PutIfMatchAbsent => {
            let reply = put(
                &ctx,
                &addr,
                &replacement,
                Precondition::IfMatch(WRONG_TAG.into()),
            )
            .await?;
            reply.expect_error(&ctx, 412)?;
            ctx.doc_absent(&addr).await
        }
        Check::PutIfNoneMatchExisting => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = put(
                &ctx,
                &addr,
                &replacement,
                Precondition::IfNoneMatch("*".into()),
            )
            .await?;
            reply.expect_error(&ctx, 412)?;
            unchanged(&ctx, &addr, &original, &tag).await
        }
        Check::PutIfNoneMatchAbsent => {
            let reply = put(
                &ctx,
                &addr,
                &original,
                Precondition::IfNoneMatch("*".into()),
            )
            .await?;
            reply.expect(204)?;
            ctx.doc_json_is(&addr, &original).await
        }
        Check::PutWithoutHeadersConflict => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = put(&ctx, &addr, &replacement, Precondition::None).await?;
            reply.expect_error(&ctx, 409)?;
            explains_if_match(&reply)?;
            unchanged(&ctx, &addr, &original, &tag).await
        }
        Check::PutWithoutHeadersStateOverwrites => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let reply = put(&ctx, &addr, &replacement, Precondition::None).await?;
            reply.expect(204)?;
            ctx.doc_json_is(&addr, &replacement).await
        }
        Check::PutWithoutHeadersNew => {
            let reply = put(&ctx, &addr, &original, Precondition::None).await?;
            reply.expect_error(&ctx, 400)?;
            ctx.doc_absent(&addr).await
        }
        Check::PostIfMatchWrong => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = post(
                &ctx,
                &addr,
                &replacement,
                Precondition::IfMatch(WRONG_TAG.into()),
            )
            .await?;
            reply.expect_error(&ctx, 412)?;
            unchanged(&ctx, &addr, &original, &tag).await
        }
        Check::PostIfMatchRight => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = post(&ctx, &addr, &replacement, Precondition::IfMatch(tag)).await?;
            reply.expect(204)?;
            ctx.doc_json_is(&addr, &json!({ "version": 2, "kept": "yes" }))
                .await
        }
        Check::PostIfNoneMatchExisting => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = post(
                &ctx,
                &addr,
                &replacement,
                Precondition::IfNoneMatch("*".into()),
            )
            .await?;
            reply.expect_error(&ctx, 412)?;
            unchanged(&ctx, &addr, &original, &tag).await
        }
        Check::DeleteIfMatchWrong => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = delete(&ctx, &addr, WRONG_TAG).await?;
            reply.expect_error(&ctx, 412)?;
            unchanged(&ctx, &addr, &original, &tag).await
        }
        Check::DeleteIfMatchRight => {
            ctx.doc_create(&addr, &Body::json(&original)).await?;
            let tag = ctx.doc_etag(&addr).await?;
            let reply = delete(&ctx, &addr, &tag).await?;
            reply.expect(204)?;
            ctx.doc_absent(&addr).await
        }
    }
}

/// A strong entity tag: `"…"` with no `W/` prefix (RFC 7232 2.3).
fn is_quoted(tag: &str) -> bool {
    tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"')
}

async fn put(ctx: &Ctx, addr: &DocAddr, value: &Value, pre: Precondition) -> Result<Reply, String> {
    ctx.doc_write(Method::PUT, addr, &Body::json(value), &pre)
        .await
}

async fn post(
    ctx: &Ctx,
    addr: &DocAddr,
    value: &Value,
    pre: Precondition,
) -> Result<Reply, String> {
    ctx.doc_write(Method::POST, addr, &Body::json(value), &pre)
        .await
}

async fn delete(ctx: &Ctx, addr: &DocAddr, tag: &str) -> Result<Reply, String> {
    ctx.doc_request(Method::DELETE, addr.resource, &addr.params())
        .header("If-Match", tag)
        .send()
        .await
}

/// The document is still `expected`, under the same ETag.
async fn unchanged(ctx: &Ctx, addr: &DocAddr, expected: &Value, tag: &str) -> CaseResult {
    ctx.doc_json_is(addr, expected)
        .await
        .map_err(|e| format!("the refused request changed the document: {e}"))?;
    let now = ctx.doc_etag(addr).await?;
    ensure(now == tag, || {
        format!("the ETag changed from {tag} to {now} after a refused request")
    })
}

/// Communication 3.1: the 409 "MUST return a response explaining that the Learning Record
/// Provider SHOULD ... set the If-Match header with the current ETag".
fn explains_if_match(reply: &Reply) -> CaseResult {
    let text = String::from_utf8_lossy(&reply.body).to_ascii_lowercase();
    ensure(text.contains("if-match"), || {
        format!(
            "the 409 does not explain that If-Match with the current ETag resolves the conflict: {}",
            reply.describe()
        )
    })
}

async fn etag_sha1(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let body = Body::new(
        b"conformance contents for a sha-1 etag".to_vec(),
        "text/plain",
    );
    ctx.doc_create(addr, &body).await?;
    let reply = ctx.doc_get(addr).await?;
    let encoding = reply
        .headers
        .get("transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_ascii_lowercase();
    if encoding != "identity" {
        // The requirement applies only without a transfer encoding (Communication 3.1.s4.b3).
        return Ok(());
    }
    let tag = reply.header("etag")?;
    let expected = format!("\"{}\"", hex(&sha1::Sha1::digest(&reply.body)));
    ensure(tag == expected, || {
        format!("the ETag is {tag}, the SHA-1 of the contents is {expected}")
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
