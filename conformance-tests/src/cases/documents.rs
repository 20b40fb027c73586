//! The Document Resources (Communication 2.2): State (2.3), Agent Profile (2.6) and Activity
//! Profile (2.7). Single documents (PUT, POST merge, GET, DELETE, HEAD), id lists with
//! `since`, State registrations and DELETE of a whole context, required and forbidden
//! parameters, and the content type and bytes of a document kept as sent. Concurrency
//! (ETags, If-Match, If-None-Match) is its own module.

use chrono::{SecondsFormat, TimeDelta, Utc};
use reqwest::Method;
use serde_json::json;

use crate::check::{self, ensure};
use crate::client::{Ctx, VERSION_HEADER};
use crate::docs::{self, Body, DocAddr, DocResource, Precondition};
use crate::fixtures::{Fx, uuid};
use crate::harness::{Case, CaseResult};

/// A requirement each resource states on its own, with the ADL ids per resource.
#[derive(Clone, Copy, Debug)]
enum Check {
    PutGet,
    PostCreates,
    PostMerges,
    PostNonJsonOntoJson,
    PostJsonOntoNonJson,
    PostNotAnObject,
    PostInvalidJson,
    DeleteOne,
    GetAbsent,
    Ids,
    IdsEmpty,
    Since,
    SinceInvalid,
    Binary,
    ContentType,
    Head,
    HeadAbsent,
    HeadIds,
    LastModifiedOne,
    LastModifiedIds,
    UnknownParameterGet,
    UnknownParameterPut,
    ParameterCase,
    OwnersSeparate,
    AccountAgent,
    NoVersionHeader,
}

const CHECKS: [Check; 26] = [
    Check::PutGet,
    Check::PostCreates,
    Check::PostMerges,
    Check::PostNonJsonOntoJson,
    Check::PostJsonOntoNonJson,
    Check::PostNotAnObject,
    Check::PostInvalidJson,
    Check::DeleteOne,
    Check::GetAbsent,
    Check::Ids,
    Check::IdsEmpty,
    Check::Since,
    Check::SinceInvalid,
    Check::Binary,
    Check::ContentType,
    Check::Head,
    Check::HeadAbsent,
    Check::HeadIds,
    Check::LastModifiedOne,
    Check::LastModifiedIds,
    Check::UnknownParameterGet,
    Check::UnknownParameterPut,
    Check::ParameterCase,
    Check::OwnersSeparate,
    Check::AccountAgent,
    Check::NoVersionHeader,
];

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for resource in DocResource::ALL {
        for check in CHECKS {
            if matches!(check, Check::AccountAgent) && !resource.takes_agent() {
                continue;
            }
            cases.push(Case::both(check.name(resource), move |ctx| {
                run(ctx, resource, check)
            }));
        }
    }
    for (resource, method, omitted, id) in MISSING {
        cases.push(Case::both(
            format!(
                "Communication {}{}: {} {method} without \"{omitted}\" is rejected with 400",
                resource.section(),
                cite(id),
                resource.label()
            ),
            move |ctx| missing_parameter(ctx, resource, method_named(method), omitted),
        ));
    }
    for (resource, method, param, value, why, id) in BAD_VALUES {
        cases.push(Case::both(
            format!(
                "Communication {}{}: {} {method} with \"{param}\" {why} is rejected with 400",
                resource.section(),
                cite(id),
                resource.label()
            ),
            move |ctx| bad_parameter(ctx, resource, method_named(method), param, value),
        ));
    }
    for (resource, method, param, value) in FOREIGN {
        cases.push(Case::both(
            format!(
                "Communication 3.2.s3.b7 / XAPI-00324: {} {method} with \"{param}\" (not a parameter of this request) is rejected with 400",
                resource.label()
            ),
            move |ctx| foreign_parameter(ctx, resource, method_named(method), param, value),
        ));
    }
    cases.extend([
        Case::both(
            "Communication 2.6: an Agent Profile request whose agent is a Group is rejected with 400",
            agent_profile_group,
        ),
        Case::both(
            "Communication 2.3.s3.table1.row3 / XAPI-00218, XAPI-00220: State documents with and without a registration are separate documents",
            state_registrations_separate,
        ),
        Case::both(
            "Communication 2.3.s3.table1.row3 / XAPI-00227, XAPI-00219: State POST and DELETE with a registration act on that registration's document only",
            state_post_delete_registration,
        ),
        Case::both(
            "Communication 2.3.s4 / XAPI-00193: State GET of ids with a registration lists only that registration's documents",
            state_ids_registration,
        ),
        Case::both(
            "Communication 2.3.s5 / XAPI-00194: State DELETE without stateId and registration deletes every document of the Activity and Agent, and nothing else",
            state_delete_all,
        ),
        Case::both(
            "Communication 2.3.s5 / XAPI-00194: State DELETE without stateId with a registration deletes only that registration's documents",
            state_delete_all_registration,
        ),
        Case::both(
            "Communication 3.1: the State Resource accepts PUT, POST and DELETE without concurrency headers on new documents",
            state_without_headers,
        ),
    ]);
    cases
}

fn method_named(name: &str) -> Method {
    match name {
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => Method::GET,
    }
}

/// `" / XAPI-…"` when the ADL suite numbers the requirement.
fn cite(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!(" / {id}")
    }
}

impl Check {
    fn name(self, r: DocResource) -> String {
        let sec = r.section();
        let label = r.label();
        let ids = |state: &str, agent: &str, activity: &str| -> String {
            cite(match r {
                DocResource::State => state,
                DocResource::AgentProfile => agent,
                DocResource::ActivityProfile => activity,
            })
        };
        match self {
            Check::PutGet => format!(
                "Communication 2.2, {sec}{}: {label} PUT for an owner the LRS has never seen returns 204 and GET returns the document byte for byte with 200",
                ids(
                    "XAPI-00190, XAPI-00192",
                    "XAPI-00273, XAPI-00269",
                    "XAPI-00287, XAPI-00288"
                )
            ),
            Check::PostCreates => format!(
                "Communication 2.2.s7{}: {label} POST of a document not in the LRS stores it like a PUT",
                ids("XAPI-00233", "XAPI-00280", "XAPI-00310")
            ),
            Check::PostMerges => format!(
                "Communication 2.2.s7{}, XAPI-00183, XAPI-00184: {label} POST of a JSON object onto a JSON object merges top-level properties",
                ids("XAPI-00234", "XAPI-00279", "XAPI-00308")
            ),
            Check::PostNonJsonOntoJson => format!(
                "Communication 2.2.s8.b1{}: {label} POST of a non-JSON document onto a JSON document is rejected with 400 and changes nothing",
                ids("XAPI-00232", "XAPI-00278", "XAPI-00309")
            ),
            Check::PostJsonOntoNonJson => format!(
                "Communication 2.2.s8.b1{}: {label} POST of a JSON document onto a non-JSON document is rejected with 400 and changes nothing",
                ids("XAPI-00232", "XAPI-00278", "XAPI-00309")
            ),
            Check::PostNotAnObject => format!(
                "Communication 2.2.s8.b1{}: {label} POST of application/json that is not an object is rejected with 400 and changes nothing",
                ids("XAPI-00229", "XAPI-00281", "XAPI-00313")
            ),
            Check::PostInvalidJson => format!(
                "Communication 2.2.s8.b1{}: {label} POST of malformed application/json is rejected with 400 and stores nothing",
                ids("XAPI-00235", "XAPI-00284", "XAPI-00314")
            ),
            Check::DeleteOne => format!(
                "Communication {sec}{}: {label} DELETE of one document returns 204, removes it and keeps its siblings",
                ids(
                    "XAPI-00187, XAPI-00191",
                    "XAPI-00271",
                    "XAPI-00285, XAPI-00291"
                )
            ),
            Check::GetAbsent => format!(
                "Communication 3.2: {label} GET of a document that does not exist returns 404"
            ),
            Check::Ids => format!(
                "Communication {sec}{}: {label} GET without {} returns 200 and the array of the owner's document ids",
                ids("XAPI-00193", "XAPI-00270", "XAPI-00289"),
                r.id_param()
            ),
            Check::IdsEmpty => format!(
                "Communication 2.2: {label} GET of ids for an owner the LRS has never seen returns 200 and an empty array"
            ),
            Check::Since => format!(
                "Communication {sec}{}: {label} GET of ids with since lists only documents stored after it",
                ids(
                    "XAPI-00221, XAPI-00195",
                    "XAPI-00268, XAPI-00275",
                    "XAPI-00303, XAPI-00294"
                )
            ),
            Check::SinceInvalid => format!(
                "Communication {sec}{}: {label} GET of ids with a since that is not a timestamp is rejected with 400",
                ids("XAPI-00204", "XAPI-00260", "XAPI-00295")
            ),
            Check::Binary => format!(
                "Communication 2.2: {label} stores and returns a binary document byte for byte"
            ),
            Check::ContentType => format!(
                "Communication 1.5, 2.2: {label} GET returns the document with the Content-Type it was stored with"
            ),
            Check::Head => format!(
                "Communication 1.1 / XAPI-00125: {label} HEAD of a document answers like GET without a body"
            ),
            Check::HeadAbsent => format!(
                "Communication 1.1 / XAPI-00125: {label} HEAD of a document that does not exist answers 404 like GET"
            ),
            Check::HeadIds => format!(
                "Communication 1.1 / XAPI-00125: {label} HEAD of the ids answers 200 without a body"
            ),
            Check::LastModifiedOne => format!(
                "Communication 2.2 Last Modified (SHOULD*): {label} GET of one document carries Last-Modified"
            ),
            Check::LastModifiedIds => format!(
                "Communication 2.2 Last Modified (SHOULD*): {label} GET of ids carries the Last-Modified of the latest document"
            ),
            Check::UnknownParameterGet => format!(
                "Communication 3.2.s3.b7 / XAPI-00324: {label} GET with an unknown parameter is rejected with 400"
            ),
            Check::UnknownParameterPut => format!(
                "Communication 3.2.s3.b7 / XAPI-00324: {label} PUT with an unknown parameter is rejected with 400 and stores nothing"
            ),
            Check::ParameterCase => format!(
                "Communication 3.2.s3.b8 / XAPI-00325: {label} GET with {} in another case is rejected with 400",
                r.id_param()
            ),
            Check::OwnersSeparate => format!(
                "Communication {sec}: {label} documents with the same id under different owners are separate"
            ),
            Check::AccountAgent => {
                format!("Communication {sec}: {label} accepts an agent identified by an account")
            }
            Check::NoVersionHeader => format!(
                "Communication 3.3.s3.b4: {label} GET without X-Experience-API-Version is rejected with 400"
            ),
        }
    }
}

async fn run(ctx: Ctx, r: DocResource, check: Check) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "conformance-doc");
    match check {
        Check::PutGet => put_get(&ctx, &addr).await,
        Check::PostCreates => post_creates(&ctx, &addr).await,
        Check::PostMerges => post_merges(&ctx, &addr).await,
        Check::PostNonJsonOntoJson => {
            let stored = Body::json(&json!({ "kept": true }));
            let posted = Body::new("not json at all", "text/plain");
            post_refused(&ctx, &addr, &stored, &posted).await
        }
        Check::PostJsonOntoNonJson => {
            let stored = Body::new("plain text document", "text/plain");
            let posted = Body::json(&json!({ "merged": true }));
            post_refused(&ctx, &addr, &stored, &posted).await
        }
        Check::PostNotAnObject => {
            let stored = Body::json(&json!({ "kept": true }));
            let posted = Body::new(r#"["an", "array"]"#, "application/json");
            post_refused(&ctx, &addr, &stored, &posted).await
        }
        Check::PostInvalidJson => post_invalid_json(&ctx, &addr).await,
        Check::DeleteOne => delete_one(&ctx, &addr).await,
        Check::GetAbsent => {
            let reply = ctx
                .doc_request(Method::GET, r, &addr.params())
                .send()
                .await?;
            reply.expect_error(&ctx, 404)
        }
        Check::Ids => ids(&ctx, &addr).await,
        Check::IdsEmpty => {
            let got = ctx.doc_ids(&addr, &[]).await?;
            ensure(got.is_empty(), || format!("expected [], got {got:?}"))
        }
        Check::Since => since(&ctx, &addr).await,
        Check::SinceInvalid => {
            let mut params = addr.owner();
            params.push(("since", "last tuesday".to_owned()));
            let reply = ctx.doc_request(Method::GET, r, &params).send().await?;
            reply.expect_error(&ctx, 400)
        }
        Check::Binary => {
            let bytes: Vec<u8> = (0..=255u8).cycle().take(1500).collect();
            let body = Body::new(bytes.clone(), "application/octet-stream");
            ctx.doc_create(&addr, &body).await?;
            ctx.doc_is(&addr, &bytes).await
        }
        Check::ContentType => content_type(&ctx, &addr).await,
        Check::Head => head(&ctx, &addr).await,
        Check::HeadAbsent => {
            let reply = ctx
                .doc_request(Method::HEAD, r, &addr.params())
                .send()
                .await?;
            reply.expect(404)?;
            ensure(reply.body.is_empty(), || {
                format!("HEAD returned a {}-byte body", reply.body.len())
            })
        }
        Check::HeadIds => {
            ctx.doc_create(&addr, &Body::json(&json!({ "a": 1 })))
                .await?;
            let reply = ctx
                .doc_request(Method::HEAD, r, &addr.owner())
                .send()
                .await?;
            reply.expect(200)?;
            ensure(reply.body.is_empty(), || {
                format!("HEAD returned a {}-byte body", reply.body.len())
            })
        }
        Check::LastModifiedOne => last_modified_one(&ctx, &addr).await,
        Check::LastModifiedIds => last_modified_ids(&ctx, &addr).await,
        Check::UnknownParameterGet => {
            let mut params = addr.params();
            params.push(("conformanceUnknown", "1".to_owned()));
            let reply = ctx.doc_request(Method::GET, r, &params).send().await?;
            reply.expect_error(&ctx, 400)
        }
        Check::UnknownParameterPut => {
            let mut params = addr.params();
            params.push(("conformanceUnknown", "1".to_owned()));
            let reply = ctx
                .doc_request(Method::PUT, r, &params)
                .header("If-None-Match", "*")
                .json(&json!({ "a": 1 }))
                .send()
                .await?;
            reply.expect_error(&ctx, 400)?;
            ctx.doc_absent(&addr).await
        }
        Check::ParameterCase => {
            ctx.doc_create(&addr, &Body::json(&json!({ "a": 1 })))
                .await?;
            let mut params = addr.owner();
            let upper = match r.id_param() {
                "stateId" => "StateId",
                _ => "ProfileId",
            };
            params.push((upper, addr.id.clone()));
            let reply = ctx.doc_request(Method::GET, r, &params).send().await?;
            reply.expect_error(&ctx, 400)
        }
        Check::OwnersSeparate => owners_separate(&ctx, &addr, &fx).await,
        Check::AccountAgent => {
            let mut account = addr.clone();
            account.agent = json!({
                "objectType": "Agent",
                "account": { "homePage": "http://conformance.example.com/accounts", "name": format!("owner-{}", fx.tag) }
            });
            let body = json!({ "by": "account" });
            ctx.doc_create(&account, &Body::json(&body)).await?;
            ctx.doc_json_is(&account, &body).await?;
            let listed = ctx.doc_ids(&account, &[]).await?;
            check::same_id_set("ids", &listed, std::slice::from_ref(&account.id))
        }
        Check::NoVersionHeader => {
            ctx.doc_create(&addr, &Body::json(&json!({ "a": 1 })))
                .await?;
            let reply = ctx
                .doc_request(Method::GET, r, &addr.params())
                .version(None)
                .send()
                .await?;
            reply.expect_error(&ctx, 400)?;
            reply.header(VERSION_HEADER).map(|_| ())
        }
    }
}

async fn put_get(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let body = Body::json(&json!({ "progress": 0.5, "bookmark": "page-7", "flags": [1, 2] }));
    ctx.doc_create(addr, &body).await?;
    let reply = ctx.doc_get(addr).await?;
    ensure(reply.body == body.bytes, || {
        format!(
            "GET returned other bytes than were PUT ({}): {}",
            String::from_utf8_lossy(&body.bytes),
            reply.describe()
        )
    })?;
    let media = reply.media_type()?;
    ensure(media == "application/json", || {
        format!("Content-Type {media:?}, expected application/json")
    })
}

async fn post_creates(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let body = json!({ "created": "by post", "n": 1 });
    let reply = ctx
        .doc_write(Method::POST, addr, &Body::json(&body), &Precondition::None)
        .await?;
    reply.expect(204)?;
    ctx.doc_json_is(addr, &body).await
}

async fn post_merges(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let stored = json!({ "x": "foo", "y": "bar", "nested": { "a": 1, "b": 2 } });
    ctx.doc_create(addr, &Body::json(&stored)).await?;
    let posted = json!({ "x": "bash", "z": "faz", "nested": { "c": 3 } });
    let reply = ctx
        .doc_write(
            Method::POST,
            addr,
            &Body::json(&posted),
            &Precondition::None,
        )
        .await?;
    reply.expect(204)?;
    // Only top-level properties merge; a nested object is replaced whole (Communication 2.2).
    let expected = json!({ "x": "bash", "y": "bar", "z": "faz", "nested": { "c": 3 } });
    ctx.doc_json_is(addr, &expected).await
}

async fn post_refused(ctx: &Ctx, addr: &DocAddr, stored: &Body, posted: &Body) -> CaseResult {
    ctx.doc_create(addr, stored).await?;
    let reply = ctx
        .doc_write(Method::POST, addr, posted, &Precondition::None)
        .await?;
    reply.expect_error(ctx, 400)?;
    ctx.doc_is(addr, &stored.bytes)
        .await
        .map_err(|e| format!("the refused POST changed the document: {e}"))
}

async fn post_invalid_json(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let broken = Body::new(r#"{"x": "unterminated"#, "application/json");
    let fresh = addr.with_id("never-stored");
    let reply = ctx
        .doc_write(Method::POST, &fresh, &broken, &Precondition::None)
        .await?;
    reply
        .expect_error(ctx, 400)
        .map_err(|e| format!("onto no document: {e}"))?;
    ctx.doc_absent(&fresh).await?;
    let stored = Body::json(&json!({ "kept": true }));
    post_refused(ctx, addr, &stored, &broken)
        .await
        .map_err(|e| format!("onto a JSON document: {e}"))
}

async fn delete_one(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let sibling = addr.with_id("sibling");
    ctx.doc_create(addr, &Body::json(&json!({ "doomed": true })))
        .await?;
    ctx.doc_create(&sibling, &Body::json(&json!({ "kept": true })))
        .await?;
    let reply = ctx
        .doc_request(Method::DELETE, addr.resource, &addr.params())
        .send()
        .await?;
    reply.expect(204)?;
    ctx.doc_absent(addr).await?;
    ctx.doc_json_is(&sibling, &json!({ "kept": true }))
        .await
        .map_err(|e| format!("the sibling document: {e}"))
}

async fn ids(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let names = ["first", "second", "third"];
    for name in names {
        ctx.doc_create(&addr.with_id(name), &Body::json(&json!({ "name": name })))
            .await?;
    }
    let got = ctx.doc_ids(addr, &[]).await?;
    let expected: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    check::same_id_set("document ids", &got, &expected)
}

fn iso(instant: chrono::DateTime<chrono::FixedOffset>) -> String {
    instant
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn since(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let early = addr.with_id("early");
    let late = addr.with_id("late");
    let reply = ctx
        .doc_write(
            Method::PUT,
            &early,
            &Body::json(&json!({ "when": "early" })),
            &Precondition::IfNoneMatch("*".to_owned()),
        )
        .await?;
    reply.expect(204)?;
    // `early` was stored before this reply's Date (whole seconds) plus one second.
    let cut = docs::second_after(docs::http_date(&reply)?);
    ctx.wait_for_server_time(cut).await?;
    ctx.doc_create(&late, &Body::json(&json!({ "when": "late" })))
        .await?;
    let after = ctx.doc_ids(addr, &[("since", iso(cut))]).await?;
    check::same_id_set(
        &format!("ids since {}", iso(cut)),
        &after,
        std::slice::from_ref(&late.id),
    )?;
    let long_ago = cut - TimeDelta::hours(1);
    let all = ctx.doc_ids(addr, &[("since", iso(long_ago))]).await?;
    check::same_id_set(
        &format!("ids since {}", iso(long_ago)),
        &all,
        &[early.id.clone(), late.id.clone()],
    )
}

async fn content_type(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let types = [
        ("png", "image/png", vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a]),
        ("csv", "text/csv", b"a,b\n1,2\n".to_vec()),
        (
            "custom",
            "application/x-conformance-test",
            b"opaque".to_vec(),
        ),
    ];
    for (id, content_type, bytes) in types {
        let doc = addr.with_id(id);
        ctx.doc_create(&doc, &Body::new(bytes.clone(), content_type))
            .await?;
        let reply = ctx.doc_get(&doc).await?;
        let media = reply.media_type()?;
        ensure(media == content_type, || {
            format!("stored as {content_type}, returned as {media:?}")
        })?;
        ensure(reply.body == bytes, || {
            format!("the {content_type} document came back altered")
        })?;
    }
    Ok(())
}

async fn head(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    ctx.doc_create(addr, &Body::json(&json!({ "head": true })))
        .await?;
    let get = ctx.doc_get(addr).await?;
    let head = ctx
        .doc_request(Method::HEAD, addr.resource, &addr.params())
        .send()
        .await?;
    head.expect(200)?;
    ensure(head.body.is_empty(), || {
        format!("HEAD returned a {}-byte body", head.body.len())
    })?;
    for name in ["etag", "content-type", "last-modified"] {
        let get_values: Vec<_> = get.headers.get_all(name).iter().collect();
        let head_values: Vec<_> = head.headers.get_all(name).iter().collect();
        ensure(get_values == head_values, || {
            format!("header {name}: GET has {get_values:?}, HEAD has {head_values:?}")
        })?;
    }
    head.header(VERSION_HEADER).map(|_| ())
}

fn last_modified(
    reply: &crate::client::Reply,
) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    let text = reply.header("last-modified")?;
    chrono::DateTime::parse_from_rfc2822(text)
        .map_err(|e| format!("Last-Modified {text:?} is not an HTTP date: {e}"))
}

async fn last_modified_one(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    ctx.doc_create(addr, &Body::json(&json!({ "a": 1 })))
        .await?;
    let reply = ctx.doc_get(addr).await?;
    let modified = last_modified(&reply)?;
    let date = docs::http_date(&reply)?;
    ensure(modified <= date, || {
        format!("Last-Modified {modified} is after the response Date {date}")
    })
}

async fn last_modified_ids(ctx: &Ctx, addr: &DocAddr) -> CaseResult {
    let older = addr.with_id("older");
    let newer = addr.with_id("newer");
    let reply = ctx
        .doc_write(
            Method::PUT,
            &older,
            &Body::json(&json!({ "a": 1 })),
            &Precondition::IfNoneMatch("*".to_owned()),
        )
        .await?;
    reply.expect(204)?;
    ctx.wait_for_server_time(docs::second_after(docs::http_date(&reply)?))
        .await?;
    ctx.doc_create(&newer, &Body::json(&json!({ "b": 2 })))
        .await?;
    let newest = last_modified(&ctx.doc_get(&newer).await?)?;
    let oldest = last_modified(&ctx.doc_get(&older).await?)?;
    ensure(oldest < newest, || {
        format!("the documents' Last-Modified do not differ ({oldest}, {newest})")
    })?;
    let list = ctx
        .doc_request(Method::GET, addr.resource, &addr.owner())
        .send()
        .await?;
    list.expect(200)?;
    let listed = last_modified(&list)?;
    ensure(listed == newest, || {
        format!("the ids' Last-Modified is {listed}, the latest document's is {newest}")
    })
}

async fn owners_separate(ctx: &Ctx, addr: &DocAddr, fx: &Fx) -> CaseResult {
    let mut other = addr.clone();
    other.activity_id = fx.activity_id("other-documents");
    other.agent = json!({ "objectType": "Agent", "mbox": fx.mbox("other-owner") });
    let mine = json!({ "owner": "first" });
    let theirs = json!({ "owner": "second" });
    ctx.doc_create(addr, &Body::json(&mine)).await?;
    ctx.doc_create(&other, &Body::json(&theirs))
        .await
        .map_err(|e| format!("the same id under another owner: {e}"))?;
    ctx.doc_json_is(addr, &mine).await?;
    ctx.doc_json_is(&other, &theirs).await?;
    let reply = ctx
        .doc_request(Method::DELETE, addr.resource, &addr.params())
        .send()
        .await?;
    reply.expect(204)?;
    ctx.doc_json_is(&other, &theirs)
        .await
        .map_err(|e| format!("deleting the first owner's document touched the second's: {e}"))
}

/// Required parameters left out: (resource, method, omitted parameter, ADL ids).
const MISSING: [(DocResource, &str, &str, &str); 24] = [
    (DocResource::State, "PUT", "activityId", "XAPI-00210"),
    (DocResource::State, "POST", "activityId", "XAPI-00209"),
    (DocResource::State, "GET", "activityId", "XAPI-00208"),
    (DocResource::State, "DELETE", "activityId", "XAPI-00207"),
    (DocResource::State, "PUT", "agent", "XAPI-00215"),
    (DocResource::State, "POST", "agent", ""),
    (DocResource::State, "GET", "agent", "XAPI-00213"),
    (DocResource::State, "DELETE", "agent", "XAPI-00212"),
    (DocResource::State, "PUT", "stateId", "XAPI-00206"),
    (DocResource::State, "POST", "stateId", "XAPI-00211"),
    (DocResource::AgentProfile, "PUT", "agent", "XAPI-00264"),
    (DocResource::AgentProfile, "POST", "agent", "XAPI-00263"),
    (DocResource::AgentProfile, "GET", "agent", "XAPI-00261"),
    (DocResource::AgentProfile, "DELETE", "agent", "XAPI-00262"),
    (DocResource::AgentProfile, "PUT", "profileId", "XAPI-00267"),
    (DocResource::AgentProfile, "POST", "profileId", "XAPI-00266"),
    (
        DocResource::AgentProfile,
        "DELETE",
        "profileId",
        "XAPI-00265",
    ),
    (
        DocResource::ActivityProfile,
        "PUT",
        "activityId",
        "XAPI-00299",
    ),
    (
        DocResource::ActivityProfile,
        "POST",
        "activityId",
        "XAPI-00298",
    ),
    (
        DocResource::ActivityProfile,
        "GET",
        "activityId",
        "XAPI-00296",
    ),
    (
        DocResource::ActivityProfile,
        "DELETE",
        "activityId",
        "XAPI-00297",
    ),
    (
        DocResource::ActivityProfile,
        "PUT",
        "profileId",
        "XAPI-00302",
    ),
    (
        DocResource::ActivityProfile,
        "POST",
        "profileId",
        "XAPI-00301",
    ),
    (
        DocResource::ActivityProfile,
        "DELETE",
        "profileId",
        "XAPI-00300",
    ),
];

/// Parameters with values of the wrong form: (resource, method, parameter, value, why, ids).
const BAD_VALUES: [(DocResource, &str, &str, &str, &str, &str); 21] = [
    (
        DocResource::State,
        "PUT",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00199",
    ),
    (
        DocResource::State,
        "POST",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00198",
    ),
    (
        DocResource::State,
        "GET",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00197",
    ),
    (
        DocResource::State,
        "DELETE",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00196",
    ),
    (
        DocResource::State,
        "GET",
        "agent",
        r#"{"name":"no identifier"}"#,
        "without an identifier",
        "XAPI-00197",
    ),
    (
        DocResource::State,
        "PUT",
        "registration",
        "not-a-uuid",
        "that is not a UUID",
        "XAPI-00203",
    ),
    (
        DocResource::State,
        "POST",
        "registration",
        "not-a-uuid",
        "that is not a UUID",
        "XAPI-00202",
    ),
    (
        DocResource::State,
        "GET",
        "registration",
        "not-a-uuid",
        "that is not a UUID",
        "XAPI-00201",
    ),
    (
        DocResource::State,
        "DELETE",
        "registration",
        "not-a-uuid",
        "that is not a UUID",
        "XAPI-00200",
    ),
    (
        DocResource::State,
        "PUT",
        "activityId",
        "not an iri",
        "that is not an IRI",
        "",
    ),
    (
        DocResource::State,
        "GET",
        "activityId",
        "not an iri",
        "that is not an IRI",
        "",
    ),
    (
        DocResource::AgentProfile,
        "PUT",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00257",
    ),
    (
        DocResource::AgentProfile,
        "POST",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00256",
    ),
    (
        DocResource::AgentProfile,
        "GET",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00258",
    ),
    (
        DocResource::AgentProfile,
        "DELETE",
        "agent",
        "not-json",
        "that is not JSON",
        "XAPI-00255",
    ),
    (
        DocResource::AgentProfile,
        "PUT",
        "agent",
        r#"{"mbox":"mailto:a@example.com","openid":"http://example.com/a"}"#,
        "with two identifiers",
        "XAPI-00257",
    ),
    (
        DocResource::AgentProfile,
        "GET",
        "agent",
        r#"{"mbox":"a@example.com"}"#,
        "with an mbox that is not a mailto IRI",
        "XAPI-00258",
    ),
    (
        DocResource::ActivityProfile,
        "PUT",
        "activityId",
        "not an iri",
        "that is not an IRI",
        "",
    ),
    (
        DocResource::ActivityProfile,
        "POST",
        "activityId",
        "not an iri",
        "that is not an IRI",
        "",
    ),
    (
        DocResource::ActivityProfile,
        "GET",
        "activityId",
        "not an iri",
        "that is not an IRI",
        "",
    ),
    (
        DocResource::ActivityProfile,
        "DELETE",
        "activityId",
        "not an iri",
        "that is not an IRI",
        "",
    ),
];

/// Parameters of another resource or method: (resource, method, parameter, value). `since`
/// belongs to the GET of ids only; `registration` to State only; each resource takes only
/// its own owner parameters.
const FOREIGN: [(DocResource, &str, &str, &str); 7] = [
    (DocResource::State, "PUT", "since", "2020-01-01T00:00:00Z"),
    (DocResource::State, "GET", "profileId", "a-profile"),
    (
        DocResource::ActivityProfile,
        "PUT",
        "registration",
        "6fa459ea-ee8a-3ca4-894e-db77e160355e",
    ),
    (
        DocResource::ActivityProfile,
        "GET",
        "agent",
        r#"{"mbox":"mailto:someone@example.com"}"#,
    ),
    (
        DocResource::AgentProfile,
        "PUT",
        "activityId",
        "http://example.com/activity",
    ),
    (
        DocResource::AgentProfile,
        "POST",
        "since",
        "2020-01-01T00:00:00Z",
    ),
    (DocResource::AgentProfile, "GET", "stateId", "a-state"),
];

/// Sends a valid request for a fresh document plus `param`; expects 400 and nothing stored.
async fn foreign_parameter(
    ctx: Ctx,
    r: DocResource,
    method: Method,
    param: &'static str,
    value: &str,
) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "conformance-doc");
    let mut params = addr.params();
    params.push((param, value.to_owned()));
    let reply = send_with(&ctx, method.clone(), r, &params).await?;
    reply.expect_error(&ctx, 400)?;
    nothing_stored(&ctx, &addr, &method).await
}

/// Sends `method` to a fresh address without `omitted`; expects 400 and, for writes, that
/// nothing was stored for the owner.
async fn missing_parameter(ctx: Ctx, r: DocResource, method: Method, omitted: &str) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "conformance-doc");
    let params: Vec<(&str, String)> = addr
        .params()
        .into_iter()
        .filter(|(name, _)| *name != omitted)
        .collect();
    let reply = send_with(&ctx, method.clone(), r, &params).await?;
    reply.expect_error(&ctx, 400)?;
    nothing_stored(&ctx, &addr, &method).await
}

async fn bad_parameter(
    ctx: Ctx,
    r: DocResource,
    method: Method,
    param: &str,
    value: &str,
) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "conformance-doc");
    let mut params = addr.params();
    match params.iter_mut().find(|(name, _)| *name == param) {
        Some(entry) => entry.1 = value.to_owned(),
        None => params.push((param, value.to_owned())),
    }
    let reply = send_with(&ctx, method.clone(), r, &params).await?;
    reply.expect_error(&ctx, 400)?;
    nothing_stored(&ctx, &addr, &method).await
}

/// Sends `method` with `params`, a JSON body for writes and `If-None-Match: *` so that the
/// parameters are the only thing wrong with the request.
async fn send_with(
    ctx: &Ctx,
    method: Method,
    r: DocResource,
    params: &[(&str, String)],
) -> Result<crate::client::Reply, String> {
    let writes = matches!(method, Method::PUT | Method::POST);
    let mut request = ctx.doc_request(method, r, params);
    if writes {
        request = request
            .header("If-None-Match", "*")
            .json(&json!({ "should": "not be stored" }));
    }
    request.send().await
}

async fn nothing_stored(ctx: &Ctx, addr: &DocAddr, method: &Method) -> CaseResult {
    if !matches!(*method, Method::PUT | Method::POST) {
        return Ok(());
    }
    let listed = ctx.doc_ids(addr, &[]).await?;
    ensure(listed.is_empty(), || {
        format!("the rejected request stored documents: {listed:?}")
    })
}

async fn agent_profile_group(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut addr = DocAddr::new(DocResource::AgentProfile, &fx, "group-doc");
    addr.agent = json!({
        "objectType": "Group",
        "name": "a group",
        "mbox": fx.mbox("group"),
        "member": [{ "objectType": "Agent", "mbox": fx.mbox("member") }]
    });
    let reply = ctx
        .doc_write(
            Method::PUT,
            &addr,
            &Body::json(&json!({ "a": 1 })),
            &Precondition::IfNoneMatch("*".to_owned()),
        )
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn state_registrations_separate(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let plain = DocAddr::new(DocResource::State, &fx, "bookmark");
    let registered = plain.with_registration(&uuid());
    let plain_body = json!({ "registration": null });
    let registered_body = json!({ "registration": "given" });
    ctx.doc_create(&plain, &Body::json(&plain_body)).await?;
    ctx.doc_create(&registered, &Body::json(&registered_body))
        .await
        .map_err(|e| format!("with a registration: {e}"))?;
    ctx.doc_json_is(&plain, &plain_body).await?;
    ctx.doc_json_is(&registered, &registered_body).await?;
    let unknown = plain.with_registration(&uuid());
    ctx.doc_absent(&unknown)
        .await
        .map_err(|e| format!("under a registration never used: {e}"))
}

async fn state_post_delete_registration(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let plain = DocAddr::new(DocResource::State, &fx, "progress");
    let registered = plain.with_registration(&uuid());
    ctx.doc_create(&plain, &Body::json(&json!({ "plain": true })))
        .await?;
    let reply = ctx
        .doc_write(
            Method::POST,
            &registered,
            &Body::json(&json!({ "registered": 1 })),
            &Precondition::None,
        )
        .await?;
    reply.expect(204)?;
    let reply = ctx
        .doc_write(
            Method::POST,
            &registered,
            &Body::json(&json!({ "more": 2 })),
            &Precondition::None,
        )
        .await?;
    reply.expect(204)?;
    ctx.doc_json_is(&registered, &json!({ "registered": 1, "more": 2 }))
        .await?;
    let reply = ctx
        .doc_request(Method::DELETE, DocResource::State, &registered.params())
        .send()
        .await?;
    reply.expect(204)?;
    ctx.doc_absent(&registered).await?;
    ctx.doc_json_is(&plain, &json!({ "plain": true }))
        .await
        .map_err(|e| format!("the document without registration: {e}"))
}

async fn state_ids_registration(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let plain = DocAddr::new(DocResource::State, &fx, "plain");
    let registration = uuid();
    let registered = plain.with_registration(&registration).with_id("registered");
    ctx.doc_create(&plain, &Body::json(&json!({ "a": 1 })))
        .await?;
    ctx.doc_create(&registered, &Body::json(&json!({ "b": 2 })))
        .await?;
    let listed = ctx.doc_ids(&registered, &[]).await?;
    check::same_id_set(
        "ids with the registration",
        &listed,
        std::slice::from_ref(&registered.id),
    )?;
    let other = ctx.doc_ids(&plain.with_registration(&uuid()), &[]).await?;
    ensure(other.is_empty(), || {
        format!("ids under an unused registration: expected [], got {other:?}")
    })
}

async fn state_delete_all(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let a = DocAddr::new(DocResource::State, &fx, "a");
    let b = a.with_id("b");
    let registered = a.with_registration(&uuid()).with_id("c");
    let mut elsewhere = a.with_id("d");
    elsewhere.activity_id = fx.activity_id("another-activity");
    let mut someone_else = a.with_id("e");
    someone_else.agent = json!({ "objectType": "Agent", "mbox": fx.mbox("someone-else") });
    for doc in [&a, &b, &registered, &elsewhere, &someone_else] {
        ctx.doc_create(doc, &Body::json(&json!({ "id": doc.id })))
            .await?;
    }
    let reply = ctx
        .doc_request(Method::DELETE, DocResource::State, &a.owner())
        .send()
        .await?;
    reply.expect(204)?;
    for doc in [&a, &b, &registered] {
        ctx.doc_absent(doc)
            .await
            .map_err(|e| format!("state {:?}: {e}", doc.id))?;
    }
    for doc in [&elsewhere, &someone_else] {
        ctx.doc_json_is(doc, &json!({ "id": doc.id }))
            .await
            .map_err(|e| format!("state {:?} of another context: {e}", doc.id))?;
    }
    Ok(())
}

async fn state_delete_all_registration(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let plain = DocAddr::new(DocResource::State, &fx, "plain");
    let registration = uuid();
    let first = plain.with_registration(&registration).with_id("first");
    let second = plain.with_registration(&registration).with_id("second");
    let other = plain.with_registration(&uuid()).with_id("other");
    for doc in [&plain, &first, &second, &other] {
        ctx.doc_create(doc, &Body::json(&json!({ "id": doc.id })))
            .await?;
    }
    let reply = ctx
        .doc_request(Method::DELETE, DocResource::State, &first.owner())
        .send()
        .await?;
    reply.expect(204)?;
    for doc in [&first, &second] {
        ctx.doc_absent(doc)
            .await
            .map_err(|e| format!("state {:?}: {e}", doc.id))?;
    }
    for doc in [&plain, &other] {
        ctx.doc_json_is(doc, &json!({ "id": doc.id }))
            .await
            .map_err(|e| format!("state {:?} outside the registration: {e}", doc.id))?;
    }
    Ok(())
}

async fn state_without_headers(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(DocResource::State, &fx, "no-headers");
    let first = json!({ "a": 1 });
    let reply = ctx
        .doc_write(Method::PUT, &addr, &Body::json(&first), &Precondition::None)
        .await?;
    reply
        .expect(204)
        .map_err(|e| format!("PUT of a new document: {e}"))?;
    ctx.doc_json_is(&addr, &first).await?;
    let reply = ctx
        .doc_write(
            Method::POST,
            &addr,
            &Body::json(&json!({ "b": 2 })),
            &Precondition::None,
        )
        .await?;
    reply.expect(204).map_err(|e| format!("POST: {e}"))?;
    ctx.doc_json_is(&addr, &json!({ "a": 1, "b": 2 })).await?;
    let reply = ctx
        .doc_request(Method::DELETE, DocResource::State, &addr.params())
        .send()
        .await?;
    reply.expect(204).map_err(|e| format!("DELETE: {e}"))?;
    ctx.doc_absent(&addr).await
}
