//! The Alternate Request Syntax (Communication 1.3, xAPI 1.0.3 only): a POST with
//! `?method=X` and nothing else in the query, whose form body carries the headers
//! (Authorization, X-Experience-API-Version, Content-Type, If-Match, If-None-Match), the
//! query parameters and the content. xAPI 2.0 removed the syntax: every `method=` request is
//! refused (ADL 2.0 suite, Communication 1.3).

use reqwest::Method;
use serde_json::json;

use crate::check::{self, ensure};
use crate::client::{Auth, Ctx, Reply, Req};
use crate::docs::{Body, DocAddr, DocResource};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult, Versions, XapiVersion};
use crate::ops;

pub fn cases() -> Vec<Case> {
    let v1 = Versions::Only(XapiVersion::V1_0_3);
    let v2 = Versions::Only(XapiVersion::V2_0_0);
    vec![
        Case::new(
            "Communication 1.3.s3.b15 / XAPI-00336, XAPI-00148: POST ?method=GET with statementId, Authorization and X-Experience-API-Version as form fields returns the statement",
            v1,
            get_by_form,
        ),
        Case::new(
            "Communication 1.3.s3.b14: POST ?method=GET with query parameters as form fields returns the matching StatementResult",
            v1,
            query_by_form,
        ),
        Case::new(
            "Communication 1.3.s3.b6: headers sent as ordinary HTTP headers still apply with the alternate syntax",
            v1,
            headers_as_headers,
        ),
        Case::new(
            "Communication 1.3.s3.b4 / XAPI-00336: POST ?method=PUT with the statement URL-encoded in content stores it (204)",
            v1,
            put_by_form,
        ),
        Case::new(
            "Communication 1.3.s3.b4: POST ?method=POST with statements in content stores them and returns their ids",
            v1,
            post_by_form,
        ),
        Case::new(
            "Communication 1.3: the alternate syntax reaches the State Resource: method=PUT stores a document that method=GET returns",
            v1,
            state_by_form,
        ),
        Case::new(
            "Communication 1.3.s3.b7: If-None-Match sent as a form field is treated as the header (412 on an existing Activity Profile document)",
            v1,
            if_none_match_by_form,
        ),
        Case::new(
            "Communication 1.3.s3.b3: an alternate-syntax request with another query parameter besides method is rejected with 400",
            v1,
            extra_query_parameter,
        ),
        Case::new(
            "Communication 1.3.s3.b1: an alternate-syntax request not sent as POST is rejected with 400",
            v1,
            not_a_post,
        ),
        Case::new(
            "Communication 1.3.s3.b4: method=PUT without a content form field is rejected with 400 and stores nothing",
            v1,
            put_without_content,
        ),
        Case::new(
            "Communication 1.3.s3.b4: method=PUT whose body is not URL-encoded form data is rejected with 400 and stores nothing",
            v1,
            put_not_url_encoded,
        ),
        Case::new(
            "Communication 1.3.s3.b2: a method that is not an xAPI method is rejected with 400",
            v1,
            unknown_method,
        ),
        Case::new(
            "xAPI 2.0 (Communication 1.3 removed): POST ?method=GET is rejected with a 4xx",
            v2,
            v2_get_refused,
        ),
        Case::new(
            "xAPI 2.0 (Communication 1.3 removed): POST ?method=PUT with content is rejected with a 4xx and stores nothing",
            v2,
            v2_put_refused,
        ),
        Case::new(
            "xAPI 2.0 (Communication 1.3 removed): POST ?method=POST with content is rejected with a 4xx and stores nothing",
            v2,
            v2_post_refused,
        ),
    ]
}

/// `POST <resource>?method=<method>` with `fields` and, as form fields, the credentials and
/// the version header; no Authorization or version HTTP header.
fn alternate(ctx: &Ctx, resource: &str, method: &str, fields: Vec<(&str, String)>) -> Req {
    let mut all = vec![
        ("Authorization", ctx.basic_auth()),
        ("X-Experience-API-Version", ctx.version.header().to_owned()),
    ];
    all.extend(fields);
    ctx.post(resource)
        .query(&[("method", method)])
        .auth(Auth::Absent)
        .version(None)
        .form(all)
}

async fn stored(ctx: &Ctx) -> Result<(Fx, String), String> {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id]).await?;
    Ok((fx, id))
}

async fn get_by_form(ctx: Ctx) -> CaseResult {
    let (_, id) = stored(&ctx).await?;
    let reply = alternate(&ctx, "statements", "GET", vec![("statementId", id.clone())])
        .send()
        .await?;
    reply.expect(200)?;
    let got = reply.json()?;
    ensure(got["id"] == json!(id), || {
        format!("expected statement {id}: {}", reply.describe())
    })
}

async fn query_by_form(ctx: Ctx) -> CaseResult {
    let (fx, id) = stored(&ctx).await?;
    let reply = alternate(&ctx, "statements", "GET", vec![("verb", fx.verb_id("did"))])
        .send()
        .await?;
    reply.expect(200)?;
    let result = ops::parse_result(&reply)?;
    check::same_id_set("statements", &ops::ids(&result.statements), &[id])
}

async fn headers_as_headers(ctx: Ctx) -> CaseResult {
    let (_, id) = stored(&ctx).await?;
    let reply = ctx
        .post("statements")
        .query(&[("method", "GET")])
        .form([("statementId", id.as_str())])
        .send()
        .await?;
    reply.expect(200)?;
    let got = reply.json()?;
    ensure(got["id"] == json!(id), || {
        format!("expected statement {id}: {}", reply.describe())
    })
}

async fn put_by_form(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    let reply = alternate(
        &ctx,
        "statements",
        "PUT",
        vec![
            ("statementId", id.clone()),
            ("Content-Type", "application/json".to_owned()),
            ("content", statement.to_string()),
        ],
    )
    .send()
    .await?;
    reply.expect(204)?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
}

async fn post_by_form(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let first = fx.statement();
    let second = fx.statement();
    let reply = alternate(
        &ctx,
        "statements",
        "POST",
        vec![
            ("Content-Type", "application/json".to_owned()),
            ("content", json!([first, second]).to_string()),
        ],
    )
    .send()
    .await?;
    reply.expect(200)?;
    let ids = ops::ids_of(&reply)?;
    check::same_ids_in_order("ids", &ids, &[id_of(&first), id_of(&second)])?;
    ctx.settle(&[&ids[0], &ids[1]]).await.map(|_| ())
}

async fn state_by_form(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(DocResource::State, &fx, "alternate");
    let document = json!({ "via": "alternate request syntax" });
    let mut fields: Vec<(&str, String)> = addr.params();
    fields.push(("Content-Type", "application/json".to_owned()));
    fields.push(("content", document.to_string()));
    let reply = alternate(&ctx, DocResource::State.path(), "PUT", fields)
        .send()
        .await?;
    reply.expect(204)?;
    let reply = alternate(&ctx, DocResource::State.path(), "GET", addr.params())
        .send()
        .await?;
    reply.expect(200)?;
    let got = reply.json()?;
    ensure(got == document, || {
        format!("expected the document {document}, got {got}")
    })
}

async fn if_none_match_by_form(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(DocResource::ActivityProfile, &fx, "alternate");
    let original = json!({ "original": true });
    ctx.doc_create(&addr, &Body::json(&original)).await?;
    let mut fields: Vec<(&str, String)> = addr.params();
    fields.push(("If-None-Match", "*".to_owned()));
    fields.push(("Content-Type", "application/json".to_owned()));
    fields.push(("content", json!({ "replaced": true }).to_string()));
    let reply = alternate(&ctx, DocResource::ActivityProfile.path(), "PUT", fields)
        .send()
        .await?;
    reply.expect_error(&ctx, 412)?;
    ctx.doc_json_is(&addr, &original).await
}

async fn extra_query_parameter(ctx: Ctx) -> CaseResult {
    let (_, id) = stored(&ctx).await?;
    let reply = ctx
        .post("statements")
        .query(&[("method", "GET"), ("statementId", &id)])
        .auth(Auth::Absent)
        .version(None)
        .form([
            ("Authorization", ctx.basic_auth()),
            ("X-Experience-API-Version", ctx.version.header().to_owned()),
        ])
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn not_a_post(ctx: Ctx) -> CaseResult {
    let (_, id) = stored(&ctx).await?;
    let reply = ctx
        .request(Method::GET, ctx.resource_url("statements"))
        .query(&[("method", "GET")])
        .form([("statementId", id.as_str())])
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn not_stored(ctx: &Ctx, id: &str) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("statementId", id)])
        .send()
        .await?;
    reply
        .expect(404)
        .map_err(|e| format!("the refused statement was stored: {e}"))
}

async fn put_without_content(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = id_of(&fx.statement());
    let reply = alternate(
        &ctx,
        "statements",
        "PUT",
        vec![
            ("statementId", id.clone()),
            ("Content-Type", "application/json".to_owned()),
        ],
    )
    .send()
    .await?;
    reply.expect_error(&ctx, 400)?;
    not_stored(&ctx, &id).await
}

async fn put_not_url_encoded(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    let reply = ctx
        .post("statements")
        .query(&[("method", "PUT")])
        .raw_body(
            statement.to_string().into_bytes(),
            "application/x-www-form-urlencoded",
        )
        .send()
        .await?;
    ensure(reply.status == 400, || {
        format!("expected 400, got: {}", reply.describe())
    })?;
    not_stored(&ctx, &id).await
}

async fn unknown_method(ctx: Ctx) -> CaseResult {
    let (_, id) = stored(&ctx).await?;
    let reply = alternate(&ctx, "statements", "PATCH", vec![("statementId", id)])
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

fn client_error(reply: &Reply) -> CaseResult {
    ensure((400..500).contains(&reply.status), || {
        format!("expected a 4xx, got: {}", reply.describe())
    })
}

async fn v2_get_refused(ctx: Ctx) -> CaseResult {
    let (_, id) = stored(&ctx).await?;
    let reply = ctx
        .post("statements")
        .query(&[("method", "GET")])
        .form([("statementId", id.as_str())])
        .send()
        .await?;
    client_error(&reply)
}

async fn v2_put_refused(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    let reply = ctx
        .post("statements")
        .query(&[("method", "PUT")])
        .form([
            ("statementId", id.clone()),
            ("Content-Type", "application/json".to_owned()),
            ("content", statement.to_string()),
        ])
        .send()
        .await?;
    client_error(&reply)?;
    not_stored(&ctx, &id).await
}

async fn v2_post_refused(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    let reply = alternate(
        &ctx,
        "statements",
        "POST",
        vec![
            ("Content-Type", "application/json".to_owned()),
            ("content", statement.to_string()),
        ],
    )
    .send()
    .await?;
    client_error(&reply)?;
    not_stored(&ctx, &id).await
}
