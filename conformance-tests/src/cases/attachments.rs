//! Attachments (Communication 1.5, 2.1.3; Data 2.4.11): statements sent in
//! `multipart/mixed` with their attachment data, fileUrl-only attachments in plain JSON,
//! GET with `attachments=true|false`, and every malformed multipart shape refused with 400
//! and nothing stored.

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::{Ctx, Reply};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};
use crate::multipart::{self, Part, attachment_object};
use crate::ops;

const BOUNDARY: &str = "conformance-boundary-7c1e'()+_,-./:=?";
const TEXT: &[u8] = b"here is a conformance attachment";

/// How a refused request is malformed.
#[derive(Clone, Copy, Debug)]
enum Malformed {
    JsonWithoutFileUrl,
    MissingPart,
    MissingHashHeader,
    HashMatchesNothing,
    DataNotMatchingHash,
    FirstPartNotJson,
    NoBoundary,
    WrongBoundary,
    ExcessPart,
    StatementsSplit,
    Base64Encoding,
    FormData,
    FormDataFileUrl,
    PutMissingPart,
}

const MALFORMED: [(Malformed, &str); 14] = [
    (
        Malformed::JsonWithoutFileUrl,
        "Communication 1.5.2.s2.b1 / XAPI-00129: an application/json statement with an attachment that has no fileUrl is rejected with 400 and not stored",
    ),
    (
        Malformed::MissingPart,
        "Communication 1.5.2.s3.b5: multipart/mixed without a part for an attachment that has no fileUrl is rejected with 400 and not stored",
    ),
    (
        Malformed::MissingHashHeader,
        "Communication 1.5.2.s2.b2.b3 / XAPI-00132: an attachment part without X-Experience-API-Hash is rejected with 400 and not stored",
    ),
    (
        Malformed::HashMatchesNothing,
        "Communication 1.5.2.s1.b4 / XAPI-00132: an attachment part whose X-Experience-API-Hash matches no sha2 is rejected with 400 and not stored",
    ),
    (
        Malformed::DataNotMatchingHash,
        "Communication 1.5.2.s1.b4: an attachment part whose data does not hash to its X-Experience-API-Hash is rejected with 400 and not stored",
    ),
    (
        Malformed::FirstPartNotJson,
        "Communication 1.5.2.s2.b2.b1 / XAPI-00134: multipart/mixed whose first part is not application/json is rejected with 400 and not stored",
    ),
    (
        Malformed::NoBoundary,
        "RFC 2046 5.1.1, Communication 1.5.2 / XAPI-00131: multipart/mixed without a boundary parameter is rejected with 400 and not stored",
    ),
    (
        Malformed::WrongBoundary,
        "RFC 2046 5.1.1, Communication 1.5.2 / XAPI-00130: multipart/mixed whose body does not use the declared boundary is rejected with 400 and not stored",
    ),
    (
        Malformed::ExcessPart,
        "Communication 1.5.2 / XAPI-00128: multipart/mixed with an excess part that is no attachment is rejected with 400 and not stored",
    ),
    (
        Malformed::StatementsSplit,
        "Communication 1.5.2.s2.b2.b1 / XAPI-00133: multipart/mixed with the statements split over two parts is rejected with 400 and not stored",
    ),
    (
        Malformed::Base64Encoding,
        "Communication 1.5.2.s2.b2.b4 / XAPI-00135: an attachment part with Content-Transfer-Encoding base64 is rejected with 400 and not stored",
    ),
    (
        Malformed::FormData,
        "Communication 1.5 / XAPI-00127: a statement with attachment data sent as multipart/form-data is rejected with 400 and not stored",
    ),
    (
        Malformed::FormDataFileUrl,
        "Communication 1.5 / XAPI-00127: a statement with a fileUrl attachment sent as multipart/form-data is rejected with 400 and not stored",
    ),
    (
        Malformed::PutMissingPart,
        "Communication 1.5.2.s3.b5: PUT multipart/mixed without a part for an attachment that has no fileUrl is rejected with 400 and not stored",
    ),
];

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::both(
            "Communication 1.5.2.s3.b4: POST multipart/mixed with a statement and its attachment part returns 200 and stores the statement",
            post_multipart,
        ),
        Case::both(
            "Communication 1.5.2.s3.b4: PUT multipart/mixed with a statement and its attachment part returns 204 and stores the statement",
            put_multipart,
        ),
        Case::both(
            "Communication 2.1.3.s2.b6, 1.5.2.s3.b1: GET by statementId with attachments=true returns multipart/mixed with the statement first and the raw attachment data",
            get_single_with_attachments,
        ),
        Case::both(
            "Communication 2.1.3.s2.b6 / XAPI-00167: GET of a query with attachments=true returns multipart/mixed with the StatementResult first and the raw attachment data",
            get_query_with_attachments,
        ),
        Case::both(
            "Communication 2.1.3.s2.b7 / XAPI-00161: GET with attachments=false returns application/json with the attachment objects and no data",
            get_without_attachments,
        ),
        Case::both(
            "Communication 1.5.2: binary attachment data (every byte value, CRLF and dashes included) comes back byte for byte",
            binary_round_trip,
        ),
        Case::both(
            "Communication 1.5.2.s2.b2.b5: two statements sharing one attachment sent once are both stored and both return the data",
            shared_attachment,
        ),
        Case::both(
            "Communication 1.5.1.s1.b2: an application/json statement whose attachments all have a fileUrl is accepted and keeps the fileUrl",
            file_url_json,
        ),
        Case::both(
            "Communication 1.5.2.s3.b9 (SHOULD*): multipart/mixed with only fileUrl attachments is accepted",
            file_url_multipart,
        ),
        Case::both(
            "Communication 1.5.2.s3.b8 (SHOULD*): multipart/mixed with a statement without attachments is accepted",
            no_attachments_multipart,
        ),
    ];
    for (malformed, name) in MALFORMED {
        cases.push(Case::both(name, move |ctx| refused(ctx, malformed)));
    }
    cases
}

/// A statement carrying `attachments`.
fn with_attachments(fx: &Fx, attachments: Vec<Value>) -> Value {
    let mut statement = fx.statement();
    statement["attachments"] = Value::Array(attachments);
    statement
}

async fn send(ctx: &Ctx, body: Vec<u8>, content_type: &str) -> Result<Reply, String> {
    ctx.post("statements")
        .raw_body(body, content_type)
        .send()
        .await
}

async fn send_parts(ctx: &Ctx, parts: &[Part]) -> Result<Reply, String> {
    send(
        ctx,
        multipart::body(BOUNDARY, parts),
        &multipart::content_type(BOUNDARY),
    )
    .await
}

/// POSTs `statement` with one part per `(data, content type)`; expects 200.
async fn post_with_data(ctx: &Ctx, statement: &Value, data: &[(&[u8], &str)]) -> CaseResult {
    let mut parts = vec![Part::json(statement)];
    parts.extend(data.iter().map(|(d, ct)| Part::attachment(d, ct)));
    let reply = send_parts(ctx, &parts).await?;
    reply.expect(200)?;
    let ids = ops::ids_of(&reply)?;
    check::same_ids_in_order("POST ids", &ids, &[id_of(statement)])
}

async fn post_multipart(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", None)]);
    post_with_data(&ctx, &statement, &[(TEXT, "text/plain")]).await?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
}

async fn put_multipart(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", None)]);
    let id = id_of(&statement);
    let parts = [Part::json(&statement), Part::attachment(TEXT, "text/plain")];
    let reply = ctx
        .put("statements")
        .query(&[("statementId", &id)])
        .raw_body(
            multipart::body(BOUNDARY, &parts),
            &multipart::content_type(BOUNDARY),
        )
        .send()
        .await?;
    reply.expect(204)?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
}

/// GETs with `params` plus `attachments=true`; expects 200 and multipart/mixed, and returns
/// the first part as JSON and the other parts.
async fn get_multipart(ctx: &Ctx, params: &[(&str, &str)]) -> Result<(Value, Vec<Part>), String> {
    let mut all = params.to_vec();
    all.push(("attachments", "true"));
    let reply = ctx.get("statements").query(&all).send().await?;
    reply.expect(200)?;
    let content_type = reply.header("content-type")?;
    ensure(reply.media_type()? == "multipart/mixed", || {
        format!("expected multipart/mixed, got {content_type:?}")
    })?;
    let mut parts = multipart::parse(content_type, &reply.body)?.into_iter();
    let first = parts
        .next()
        .ok_or_else(|| format!("the multipart response has no parts: {}", reply.describe()))?;
    let first_type = first.header("content-type").unwrap_or("");
    ensure(
        first_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")),
        || format!("the first part's Content-Type is {first_type:?}, not application/json"),
    )?;
    let json = serde_json::from_slice(&first.body)
        .map_err(|e| format!("the first part is not JSON: {e}"))?;
    Ok((json, parts.collect()))
}

/// Fails unless `parts` hold `data` under its SHA-256, with binary transfer encoding.
fn holds_data(parts: &[Part], data: &[u8]) -> CaseResult {
    let hash = multipart::sha256_hex(data);
    let part = parts
        .iter()
        .find(|p| {
            p.header("x-experience-api-hash")
                .is_some_and(|h| h.eq_ignore_ascii_case(&hash))
        })
        .ok_or_else(|| format!("no part has X-Experience-API-Hash {hash}"))?;
    ensure(part.body == data, || {
        format!(
            "the part for {hash} holds {} bytes that differ from the {} sent",
            part.body.len(),
            data.len()
        )
    })?;
    let encoding = part.header("content-transfer-encoding").unwrap_or("binary");
    ensure(encoding.eq_ignore_ascii_case("binary"), || {
        format!("the part's Content-Transfer-Encoding is {encoding:?}, not binary")
    })
}

async fn get_single_with_attachments(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", None)]);
    post_with_data(&ctx, &statement, &[(TEXT, "text/plain")]).await?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let (first, parts) = get_multipart(&ctx, &[("statementId", &id)]).await?;
    check::statement_round_trip(&statement, &first)?;
    holds_data(&parts, TEXT)
}

async fn get_query_with_attachments(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", None)]);
    post_with_data(&ctx, &statement, &[(TEXT, "text/plain")]).await?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let verb = fx.verb_id("did");
    let (first, parts) = get_multipart(&ctx, &[("verb", &verb)]).await?;
    let statements = first
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("the first part is not a StatementResult: {first}"))?;
    check::same_id_set("statements", &ops::ids(statements), &[id])?;
    holds_data(&parts, TEXT)
}

async fn get_without_attachments(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", None)]);
    post_with_data(&ctx, &statement, &[(TEXT, "text/plain")]).await?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    for params in [
        vec![("statementId", id.as_str()), ("attachments", "false")],
        vec![("statementId", id.as_str())],
    ] {
        let reply = ctx.get("statements").query(&params).send().await?;
        reply.expect(200)?;
        let media = reply.media_type()?;
        ensure(media == "application/json", || {
            format!("with {params:?}: Content-Type {media:?}, not application/json")
        })?;
        check::statement_round_trip(&statement, &reply.json()?)
            .map_err(|e| format!("with {params:?}: {e}"))?;
    }
    Ok(())
}

async fn binary_round_trip(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut data: Vec<u8> = (0..=255u8).collect();
    data.extend_from_slice(format!("\r\n--{BOUNDARY}\r\n--\r\n").as_bytes());
    data.extend((0..=255u8).rev());
    let content_type = "application/octet-stream";
    let statement = with_attachments(&fx, vec![attachment_object(&data, content_type, None)]);
    // The boundary occurs in the data, so this request uses another one (RFC 2046 5.1.1).
    let boundary = "binary-safe-boundary-31415926";
    let parts = [
        Part::json(&statement),
        Part::attachment(&data, content_type),
    ];
    let reply = send(
        &ctx,
        multipart::body(boundary, &parts),
        &multipart::content_type(boundary),
    )
    .await?;
    reply.expect(200)?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let (_, parts) = get_multipart(&ctx, &[("statementId", &id)]).await?;
    holds_data(&parts, &data)
}

async fn shared_attachment(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let object = attachment_object(TEXT, "text/plain", None);
    let first = with_attachments(&fx, vec![object.clone()]);
    let second = with_attachments(&fx, vec![object]);
    let batch = json!([first, second]);
    let parts = [Part::json(&batch), Part::attachment(TEXT, "text/plain")];
    let reply = send_parts(&ctx, &parts).await?;
    reply.expect(200)?;
    let ids = ops::ids_of(&reply)?;
    check::same_ids_in_order("POST ids", &ids, &[id_of(&first), id_of(&second)])?;
    ctx.settle(&[&ids[0], &ids[1]]).await?;
    for id in &ids {
        let (_, parts) = get_multipart(&ctx, &[("statementId", id)]).await?;
        holds_data(&parts, TEXT).map_err(|e| format!("statement {id}: {e}"))?;
    }
    Ok(())
}

async fn file_url_json(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let url = format!("http://conformance.example.com/files/{}.txt", fx.tag);
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", Some(&url))]);
    ctx.post_statements(&statement).await?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
}

async fn file_url_multipart(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let url = format!("http://conformance.example.com/files/{}.txt", fx.tag);
    let statement = with_attachments(&fx, vec![attachment_object(TEXT, "text/plain", Some(&url))]);
    post_with_data(&ctx, &statement, &[]).await
}

async fn no_attachments_multipart(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    post_with_data(&ctx, &fx.statement(), &[]).await
}

async fn refused(ctx: Ctx, malformed: Malformed) -> CaseResult {
    let fx = Fx::new();
    let object = attachment_object(TEXT, "text/plain", None);
    let statement = with_attachments(&fx, vec![object]);
    let id = id_of(&statement);
    let good = || vec![Part::json(&statement), Part::attachment(TEXT, "text/plain")];
    let content_type = multipart::content_type(BOUNDARY);
    let reply = match malformed {
        Malformed::JsonWithoutFileUrl => ctx.post("statements").json(&statement).send().await?,
        Malformed::MissingPart => send_parts(&ctx, &[Part::json(&statement)]).await?,
        Malformed::MissingHashHeader => {
            let mut parts = good();
            parts[1] = parts[1].clone().without("X-Experience-API-Hash");
            send_parts(&ctx, &parts).await?
        }
        Malformed::HashMatchesNothing => {
            let mut parts = good();
            let other = multipart::sha256_hex(b"some other data");
            parts[1] = parts[1].clone().with("X-Experience-API-Hash", &other);
            send_parts(&ctx, &parts).await?
        }
        Malformed::DataNotMatchingHash => {
            let mut parts = good();
            parts[1].body = b"here is a different attachment!!".to_vec();
            send_parts(&ctx, &parts).await?
        }
        Malformed::FirstPartNotJson => {
            let mut parts = good();
            parts[0] = parts[0].clone().with("Content-Type", "text/plain");
            send_parts(&ctx, &parts).await?
        }
        Malformed::NoBoundary => {
            send(&ctx, multipart::body(BOUNDARY, &good()), "multipart/mixed").await?
        }
        Malformed::WrongBoundary => {
            let body = multipart::body("a-boundary-not-declared", &good());
            send(&ctx, body, &content_type).await?
        }
        Malformed::ExcessPart => {
            let mut parts = good();
            parts.push(Part::attachment(
                b"nobody asked for this part",
                "text/plain",
            ));
            send_parts(&ctx, &parts).await?
        }
        Malformed::StatementsSplit => {
            let second = fx.statement();
            let mut parts = good();
            parts.insert(1, Part::json(&second));
            let reply = send_parts(&ctx, &parts).await?;
            expect_not_stored(&ctx, &id_of(&second)).await?;
            reply
        }
        Malformed::Base64Encoding => {
            let mut parts = good();
            parts[1] = parts[1].clone().with("Content-Transfer-Encoding", "base64");
            send_parts(&ctx, &parts).await?
        }
        Malformed::FormData => {
            let body = multipart::body(BOUNDARY, &good());
            let form = format!("multipart/form-data; boundary=\"{BOUNDARY}\"");
            send(&ctx, body, &form).await?
        }
        Malformed::FormDataFileUrl => {
            let url = format!("http://conformance.example.com/files/{}.txt", fx.tag);
            let mut with_url = statement.clone();
            with_url["attachments"][0]["fileUrl"] = json!(url);
            let body = multipart::body(BOUNDARY, &[Part::json(&with_url)]);
            let form = format!("multipart/form-data; boundary=\"{BOUNDARY}\"");
            send(&ctx, body, &form).await?
        }
        Malformed::PutMissingPart => {
            ctx.put("statements")
                .query(&[("statementId", &id)])
                .raw_body(
                    multipart::body(BOUNDARY, &[Part::json(&statement)]),
                    &content_type,
                )
                .send()
                .await?
        }
    };
    reply.expect_error(&ctx, 400)?;
    expect_not_stored(&ctx, &id).await
}

async fn expect_not_stored(ctx: &Ctx, id: &str) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("statementId", id)])
        .send()
        .await?;
    reply
        .expect(404)
        .map_err(|e| format!("the refused statement was stored: {e}"))
}
