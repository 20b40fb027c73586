//! Error codes (Communication 3.2) on the resources besides Statements: 401 for missing or
//! refused credentials, 404 for paths that name no resource, 413 for documents and
//! attachments over the LRS's limit, 405 with `Allow` for methods a resource does not have
//! (RFC 7231 6.5.5), and the version header on every error response (Communication 3.3).
//! 400, 409 and 412 on documents are checked with the resource they concern (documents,
//! concurrency); 403 with the scope cases (isolation).

use reqwest::Method;
use serde_json::json;

use crate::check::ensure;
use crate::client::{Auth, Ctx, Reply, VERSION_HEADER};
use crate::docs::{Body, DocAddr, DocResource, Precondition};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};
use crate::multipart::{self, Part, attachment_object};

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for resource in DocResource::ALL {
        let label = resource.label();
        cases.push(Case::both(
            format!("Communication 4.0 / XAPI-00334: {label} GET without credentials is rejected with 401"),
            move |ctx| doc_unauthenticated(ctx, resource, Method::GET, Auth::Absent),
        ));
        cases.push(Case::both(
            format!("Communication 4.0 / XAPI-00334: {label} PUT without credentials is rejected with 401 and stores nothing"),
            move |ctx| doc_unauthenticated(ctx, resource, Method::PUT, Auth::Absent),
        ));
        cases.push(Case::both(
            format!("Communication 4.0 / XAPI-00334: {label} DELETE with a wrong secret is rejected with 401 and deletes nothing"),
            move |ctx| {
                let auth = Auth::Basic(ctx.settings().key.clone(), "conformance-wrong-secret".to_owned());
                doc_unauthenticated(ctx, resource, Method::DELETE, auth)
            },
        ));
        cases.push(Case::both(
            format!("Communication 3.2.s3.b11: {label} PUT of a document larger than the LRS limit is rejected with 413 and stores nothing"),
            move |ctx| document_too_large(ctx, resource, Method::PUT),
        ));
    }
    cases.extend([
        Case::both(
            "Communication 3.2.s3.b11: a State POST larger than the LRS limit is rejected with 413 and changes nothing",
            |ctx| document_too_large(ctx, DocResource::State, Method::POST),
        ),
        Case::both(
            "Communication 3.2.s3.b11: a statement whose attachment makes the request larger than the LRS limit is rejected with 413 and not stored",
            attachment_too_large,
        ),
        Case::both(
            "Communication 3.2, RFC 7231 6.5.4: a path under the endpoint that names no resource is answered 404",
            unknown_path,
        ),
        Case::both(
            "Communication 3.2, RFC 7231 6.5.5: DELETE statements is refused with a 4xx; a 405 names the allowed methods in Allow",
            |ctx| method_refused(ctx, Method::DELETE, "statements", "GET"),
        ),
        Case::both(
            "Communication 3.2, RFC 7231 6.5.5: POST about is refused with a 4xx; a 405 names the allowed methods in Allow",
            |ctx| method_refused(ctx, Method::POST, "about", "GET"),
        ),
        Case::both(
            "Communication 3.2, RFC 7231 6.5.5: PATCH of the State Resource is refused with a 4xx; a 405 names the allowed methods in Allow",
            |ctx| method_refused(ctx, Method::PATCH, "activities/state", "PUT"),
        ),
    ]);
    for status in [400u16, 401, 404, 409, 412, 413] {
        cases.push(Case::both(
            format!("Communication 3.3.s3.b1: a {status} from a Document Resource carries X-Experience-API-Version"),
            move |ctx| version_on_error(ctx, status),
        ));
    }
    cases
}

async fn doc_unauthenticated(ctx: Ctx, r: DocResource, method: Method, auth: Auth) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "guarded");
    let original = json!({ "guarded": true });
    if method != Method::PUT {
        ctx.doc_create(&addr, &Body::json(&original)).await?;
    }
    let mut request = ctx
        .doc_request(method.clone(), r, &addr.params())
        .auth(auth);
    if method == Method::PUT {
        request = request
            .header("If-None-Match", "*")
            .json(&json!({ "intruder": true }));
    }
    let reply = request.send().await?;
    reply.expect_error(&ctx, 401)?;
    match method {
        Method::PUT => ctx.doc_absent(&addr).await,
        Method::DELETE => ctx.doc_json_is(&addr, &original).await,
        _ => Ok(()),
    }
}

async fn document_too_large(ctx: Ctx, r: DocResource, method: Method) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "large");
    let original = json!({ "small": true });
    if method == Method::POST {
        ctx.doc_create(&addr, &Body::json(&original)).await?;
    }
    let limit = ctx.settings().max_body_bytes;
    // A JSON object, so that a POST would be a valid merge if it were small enough.
    let mut body = b"{\"padding\":\"".to_vec();
    body.resize(limit + 1 - 2, b'x');
    body.extend_from_slice(b"\"}");
    let mut request = ctx
        .doc_request(method.clone(), r, &addr.params())
        .raw_body(body, "application/json");
    if method == Method::PUT {
        request = request.header("If-None-Match", "*");
    }
    let reply = request.send_allowing_early_reply().await?;
    reply.expect_error(&ctx, 413)?;
    if method == Method::POST {
        ctx.doc_json_is(&addr, &original).await
    } else {
        ctx.doc_absent(&addr).await
    }
}

async fn attachment_too_large(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let limit = ctx.settings().max_body_bytes;
    let data = vec![b'a'; limit + 1];
    let mut statement = fx.statement();
    statement["attachments"] = json!([attachment_object(&data, "text/plain", None)]);
    let boundary = "conformance-large-attachment";
    let parts = [
        Part::json(&statement),
        Part::attachment(&data, "text/plain"),
    ];
    let reply = ctx
        .post("statements")
        .raw_body(
            multipart::body(boundary, &parts),
            &multipart::content_type(boundary),
        )
        .send_allowing_early_reply()
        .await?;
    reply.expect_error(&ctx, 413)?;
    let check = ctx
        .get("statements")
        .query(&[("statementId", &id_of(&statement))])
        .send()
        .await?;
    check
        .expect(404)
        .map_err(|e| format!("the oversized statement was stored: {e}"))
}

async fn unknown_path(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("conformance-no-such-resource").send().await?;
    reply.expect(404)
}

async fn method_refused(ctx: Ctx, method: Method, resource: &str, allowed: &str) -> CaseResult {
    let reply = ctx
        .request(method.clone(), ctx.resource_url(resource))
        .send()
        .await?;
    ensure((400..500).contains(&reply.status), || {
        format!("expected a 4xx, got: {}", reply.describe())
    })?;
    if reply.status != 405 {
        return Ok(());
    }
    let allow = reply.header("allow")?;
    let methods: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .collect();
    ensure(methods.iter().any(|m| m == allowed), || {
        format!("Allow {allow:?} does not name {allowed}, which the resource has")
    })?;
    ensure(!methods.iter().any(|m| *m == method.as_str()), || {
        format!("Allow {allow:?} names {method}, which was just refused")
    })
}

async fn version_on_error(ctx: Ctx, status: u16) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(DocResource::ActivityProfile, &fx, "errors");
    let original = Body::json(&json!({ "a": 1 }));
    let reply: Reply = match status {
        400 => {
            ctx.doc_request(
                Method::GET,
                addr.resource,
                &[("activityId", "not an iri".to_owned())],
            )
            .send()
            .await?
        }
        401 => {
            ctx.doc_request(Method::GET, addr.resource, &addr.params())
                .auth(Auth::Absent)
                .send()
                .await?
        }
        404 => {
            ctx.doc_request(Method::GET, addr.resource, &addr.params())
                .send()
                .await?
        }
        409 => {
            ctx.doc_create(&addr, &original).await?;
            ctx.doc_write(Method::PUT, &addr, &original, &Precondition::None)
                .await?
        }
        412 => {
            ctx.doc_create(&addr, &original).await?;
            ctx.doc_write(
                Method::PUT,
                &addr,
                &original,
                &Precondition::IfNoneMatch("*".to_owned()),
            )
            .await?
        }
        _ => {
            let limit = ctx.settings().max_body_bytes;
            ctx.doc_request(Method::PUT, addr.resource, &addr.params())
                .header("If-None-Match", "*")
                .raw_body(vec![b'x'; limit + 1], "text/plain")
                .send_allowing_early_reply()
                .await?
        }
    };
    reply
        .expect(status)
        .map_err(|e| format!("could not provoke the response: {e}"))?;
    let value = reply.header(VERSION_HEADER)?;
    ensure(!value.trim().is_empty(), || {
        format!("empty {VERSION_HEADER}: {}", reply.describe())
    })
}
