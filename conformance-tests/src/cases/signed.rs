//! Signed statements (Data 2.6): a statement carrying a JWS signature attachment is accepted
//! when the JWS uses RS256, RS384 or RS512, its payload is logically equivalent to the
//! statement and, when the header has an `x5c` certificate, the signature verifies; every
//! malformed signature is refused with 400 and nothing is stored.

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::{Ctx, Reply};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};
use crate::jws::{self, Alg, SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE};
use crate::multipart::{self, Part};

const BOUNDARY: &str = "conformance-signed-statement-boundary";

/// What is wrong with a refused signature.
#[derive(Clone, Copy, Debug)]
enum Bad {
    Hs256,
    AlgNone,
    NotCompact,
    NotBase64,
    WrongContentType,
    PayloadDiffers,
    PayloadNotStatement,
    PayloadNotJson,
    SignatureDoesNotVerify,
}

const BAD: [(Bad, &str); 9] = [
    (
        Bad::Hs256,
        "Data 2.6.s4.b4 / XAPI-00117: a signature with alg HS256 is rejected with 400 and not stored",
    ),
    (
        Bad::AlgNone,
        "Data 2.6.s4.b4 / XAPI-00117: a signature with alg none is rejected with 400 and not stored",
    ),
    (
        Bad::NotCompact,
        "Data 2.6.s4.b1, 2.6.s5.b1 / XAPI-00115: a signature that is not a JWS is rejected with 400 and not stored",
    ),
    (
        Bad::NotBase64,
        "Data 2.6.s4.b1, 2.6.s5.b1 / XAPI-00115: a JWS whose segments are not base64url is rejected with 400 and not stored",
    ),
    (
        Bad::WrongContentType,
        "Data 2.6.s4.b1 / XAPI-00115: a signature attachment whose contentType is not application/octet-stream is rejected with 400 and not stored",
    ),
    (
        Bad::PayloadDiffers,
        "Data 2.6.s5.b3: a signature whose payload is a different statement is rejected with 400 and not stored",
    ),
    (
        Bad::PayloadNotStatement,
        "Data 2.6.s4.b3 / XAPI-00116: a signature whose payload is JSON but not a statement is rejected with 400 and not stored",
    ),
    (
        Bad::PayloadNotJson,
        "Data 2.6.s4.b3 / XAPI-00116: a signature whose payload is not JSON is rejected with 400 and not stored",
    ),
    (
        Bad::SignatureDoesNotVerify,
        "Data 2.6.s5.b3: a signature that does not verify with the key of its x5c certificate is rejected with 400 and not stored",
    ),
];

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for alg in Alg::ALL {
        cases.push(Case::both(
            format!(
                "Data 2.6.s4.b4 / XAPI-00117: a statement signed with {} and an x5c certificate is accepted, and its JWS is returned with attachments=true",
                alg.name()
            ),
            move |ctx| accepted(ctx, alg, true),
        ));
    }
    cases.extend([
        Case::both(
            "Data 2.6.s5.b3 / XAPI-00117: a statement signed with RS256 without x5c (no certificate to verify against) is accepted",
            |ctx| accepted(ctx, Alg::Rs256, false),
        ),
        Case::both(
            "Data 2.6.s5.b3, 2.3.1: a signature whose payload serializes the same statement differently (key order, whitespace) is accepted",
            equivalent_payload,
        ),
    ]);
    for (bad, name) in BAD {
        cases.push(Case::both(name, move |ctx| refused(ctx, bad)));
    }
    cases
}

/// The statement with its signature attachment object for `jws`, and the request parts.
fn signed(statement: &Value, jws: &str, content_type: &str) -> (Value, Vec<Part>) {
    let mut with_signature = statement.clone();
    with_signature["attachments"] = json!([{
        "usageType": SIGNATURE_USAGE,
        "display": { "en-US": "Signature" },
        "contentType": content_type,
        "length": jws.len(),
        "sha2": multipart::sha256_hex(jws.as_bytes()),
    }]);
    let parts = vec![
        Part::json(&with_signature),
        Part::attachment(jws.as_bytes(), content_type),
    ];
    (with_signature, parts)
}

fn header(alg: &str, x5c: bool) -> Value {
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if x5c {
        header["x5c"] = jws::x5c();
    }
    header
}

async fn post(ctx: &Ctx, parts: &[Part]) -> Result<Reply, String> {
    ctx.post("statements")
        .raw_body(
            multipart::body(BOUNDARY, parts),
            &multipart::content_type(BOUNDARY),
        )
        .send()
        .await
}

async fn accepted(ctx: Ctx, alg: Alg, x5c: bool) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let payload = statement.to_string();
    let jws = jws::sign(alg, &header(alg.name(), x5c), payload.as_bytes())?;
    let (sent, parts) = signed(&statement, &jws, SIGNATURE_CONTENT_TYPE);
    let reply = post(&ctx, &parts).await?;
    reply.expect(200)?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&sent, &got)?;
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &id), ("attachments", "true")])
        .send()
        .await?;
    reply.expect(200)?;
    let parsed = multipart::parse(reply.header("content-type")?, &reply.body)?;
    let hash = multipart::sha256_hex(jws.as_bytes());
    let part = parsed
        .iter()
        .skip(1)
        .find(|p| p.header("x-experience-api-hash") == Some(hash.as_str()))
        .ok_or_else(|| format!("no part carries the signature (hash {hash})"))?;
    ensure(part.body == jws.as_bytes(), || {
        "the signature part does not hold the JWS as sent".to_owned()
    })
}

async fn equivalent_payload(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    // The same statement, properties in reverse order and pretty-printed.
    let mut reversed = serde_json::Map::new();
    if let Some(map) = statement.as_object() {
        for (key, value) in map.iter().rev() {
            reversed.insert(key.clone(), value.clone());
        }
    }
    let payload = serde_json::to_string_pretty(&Value::Object(reversed))
        .map_err(|e| format!("serializing the payload: {e}"))?;
    let jws = jws::sign(Alg::Rs256, &header("RS256", true), payload.as_bytes())?;
    let (_, parts) = signed(&statement, &jws, SIGNATURE_CONTENT_TYPE);
    let reply = post(&ctx, &parts).await?;
    reply.expect(200)
}

async fn refused(ctx: Ctx, bad: Bad) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let payload = statement.to_string();
    let good_header = header("RS256", true);
    let mut content_type = SIGNATURE_CONTENT_TYPE;
    let jws = match bad {
        Bad::Hs256 => jws::unsigned(
            &header("HS256", false),
            payload.as_bytes(),
            b"an hmac would go here, 32 bytes!",
        ),
        Bad::AlgNone => jws::unsigned(&header("none", false), payload.as_bytes(), b""),
        Bad::NotCompact => "this-is.not-a-jws".to_owned(),
        Bad::NotBase64 => "@@@@.####.$$$$".to_owned(),
        Bad::WrongContentType => {
            content_type = "text/plain";
            jws::sign(Alg::Rs256, &good_header, payload.as_bytes())?
        }
        Bad::PayloadDiffers => {
            let mut other = statement.clone();
            other["verb"] = fx.verb("forged");
            jws::sign(Alg::Rs256, &good_header, other.to_string().as_bytes())?
        }
        Bad::PayloadNotStatement => jws::sign(
            Alg::Rs256,
            &good_header,
            json!({ "not": "a statement" }).to_string().as_bytes(),
        )?,
        Bad::PayloadNotJson => jws::sign(Alg::Rs256, &good_header, b"this payload is not json")?,
        Bad::SignatureDoesNotVerify => {
            let good = jws::sign(Alg::Rs256, &good_header, payload.as_bytes())?;
            let (input, signature) = good
                .rsplit_once('.')
                .ok_or("the suite made a JWS without dots")?;
            // Another valid base64url signature of the same length: swap its first character.
            let mut chars: Vec<char> = signature.chars().collect();
            chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
            format!("{input}.{}", chars.into_iter().collect::<String>())
        }
    };
    let (_, parts) = signed(&statement, &jws, content_type);
    let reply = post(&ctx, &parts).await?;
    reply.expect_error(&ctx, 400)?;
    let check = ctx
        .get("statements")
        .query(&[("statementId", &id_of(&statement))])
        .send()
        .await?;
    check
        .expect(404)
        .map_err(|e| format!("the statement with the bad signature was stored: {e}"))
}
