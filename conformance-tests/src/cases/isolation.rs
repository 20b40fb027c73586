//! Isolation and scopes, where the ADL suite is silent. An LRS serving several tenants (or
//! several independent credentials) must not let one read what another stored: Communication
//! 3.2 ("permissions can also affect the response returned by an LRS to GET requests ... the
//! LRS will filter any returned Statements") and 4.2's scopes (`statements/read/mine`: "only
//! statements ... where the authority is the current user"), with 403 for what a credential
//! may not do (Communication 3.2.s3.b10).
//!
//! Two optional credentials drive these cases: `--other-key` on ANOTHER tenant of the same LRS
//! (every read with it must come back empty-handed), and `--mine-key` with scopes
//! `statements/write,statements/read/mine` on the tenant of `--key`. Without them the cases
//! are reported SKIPPED.

use reqwest::Method;
use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::{Ctx, Identity};
use crate::docs::{Body, DocAddr, DocResource, Precondition};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};
use crate::multipart::{self, Part, attachment_object};
use crate::ops;

/// The heading every tenant-isolation case name carries.
const ISOLATION: &str = "Communication 3.2, 4.0 (tenant isolation)";

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::both(
            format!("{ISOLATION}: a statement of one tenant is 404 by statementId for another tenant's credential"),
            by_id,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: a voided statement of one tenant is 404 by voidedStatementId for another tenant"),
            by_voided_id,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: another tenant's filtered queries (agent, verb, activity, registration, related_*) return none of the tenant's statements"),
            filtered_queries,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: another tenant's unfiltered query, paged to the end, lists none of the tenant's statements"),
            unfiltered_query,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: a more link of one tenant followed with another tenant's credential yields none of the first tenant's statements"),
            more_link,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: another tenant can store a different statement under an id the tenant uses, and each keeps its own"),
            same_id,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: a voiding statement from another tenant does not void the tenant's statement"),
            voiding,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: attachment data of one tenant is never served to another tenant"),
            attachments,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: the Activities Resource shows another tenant nothing learned from the tenant's statements"),
            activities,
        )
        .needs(Identity::OtherTenant),
        Case::both(
            format!("{ISOLATION}: the Agents Resource shows another tenant no name learned from the tenant's statements"),
            agents,
        )
        .needs(Identity::OtherTenant),
    ];
    for resource in DocResource::ALL {
        let label = resource.label();
        cases.push(
            Case::both(
                format!("{ISOLATION}: one tenant's {label} document is 404 for another tenant, absent from its ids and from HEAD"),
                move |ctx| document_reads(ctx, resource),
            )
            .needs(Identity::OtherTenant),
        );
        cases.push(
            Case::both(
                format!("{ISOLATION}: another tenant's {label} PUT, If-Match, DELETE under the same address neither see nor change the tenant's document"),
                move |ctx| document_writes(ctx, resource),
            )
            .needs(Identity::OtherTenant),
        );
    }
    cases.extend([
        Case::both(
            "Communication 4.2 (statements/read/mine): a read/mine credential's query returns only the statements it stored",
            mine_query,
        )
        .needs(Identity::ReadMine),
        Case::both(
            "Communication 4.2 (statements/read/mine): a read/mine credential paging with more sees only its own statements",
            mine_paging,
        )
        .needs(Identity::ReadMine),
        Case::both(
            "Communication 4.2 (statements/read/mine): a read/mine credential gets its own statement by id and not another credential's (403 or 404)",
            mine_by_id,
        )
        .needs(Identity::ReadMine),
        Case::both(
            "Communication 3.2.s3.b10, 4.2: a credential without the state scope is refused with 403 on the State Resource and stores nothing",
            mine_state_forbidden,
        )
        .needs(Identity::ReadMine),
        Case::both(
            "Communication 3.2.s3.b10, 4.2: a credential without the profile scope is refused with 403 reading the Activity Profile Resource",
            mine_profile_forbidden,
        )
        .needs(Identity::ReadMine),
    ]);
    cases
}

/// The other tenant's context.
fn other(ctx: &Ctx) -> Result<Ctx, String> {
    ctx.acting_as(Identity::OtherTenant)
}

/// The `--mine` credential's context.
fn mine(ctx: &Ctx) -> Result<Ctx, String> {
    ctx.acting_as(Identity::ReadMine)
}

/// Stores `statement` as the main tenant and waits until it is readable there.
async fn store(ctx: &Ctx, statement: &Value) -> Result<String, String> {
    let id = id_of(statement);
    ctx.post_statements(statement).await?;
    ctx.settle(&[&id]).await?;
    Ok(id)
}

async fn expect_404(ctx: &Ctx, params: &[(&str, &str)]) -> CaseResult {
    let reply = ctx.get("statements").query(params).send().await?;
    reply
        .expect(404)
        .map_err(|e| format!("another tenant reached the statement: {e}"))
}

/// Fails when `statements` hold any of `ids`.
fn none_of(what: &str, statements: &[Value], ids: &[String]) -> CaseResult {
    let leaked: Vec<String> = ops::ids(statements)
        .into_iter()
        .filter(|id| ids.contains(id))
        .collect();
    ensure(leaked.is_empty(), || {
        format!("{what}: another tenant saw the tenant's statements {leaked:?}")
    })
}

async fn by_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = store(&ctx, &fx.statement()).await?;
    let other = other(&ctx)?;
    expect_404(&other, &[("statementId", &id)]).await?;
    let reply = other
        .head("statements")
        .query(&[("statementId", &id)])
        .send()
        .await?;
    reply
        .expect(404)
        .map_err(|e| format!("HEAD by another tenant: {e}"))
}

async fn by_voided_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = store(&ctx, &fx.statement()).await?;
    store(&ctx, &fx.voiding(&id)).await?;
    let reply = ctx
        .get("statements")
        .query(&[("voidedStatementId", &id)])
        .send()
        .await?;
    reply
        .expect(200)
        .map_err(|e| format!("the tenant's own voided statement: {e}"))?;
    expect_404(&other(&ctx)?, &[("voidedStatementId", &id)]).await
}

async fn filtered_queries(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.rich_statement();
    let id = store(&ctx, &statement).await?;
    let agent = statement["actor"].to_string();
    let instructor = statement["context"]["instructor"].to_string();
    let verb = fx.verb_id("answered");
    let activity = fx.activity_id("question");
    let parent = fx.activity_id("course");
    let registration = statement["context"]["registration"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let queries: Vec<Vec<(&str, &str)>> = vec![
        vec![("agent", &agent)],
        vec![("verb", &verb)],
        vec![("activity", &activity)],
        vec![("registration", &registration)],
        vec![("agent", &instructor), ("related_agents", "true")],
        vec![("activity", &parent), ("related_activities", "true")],
    ];
    for query in &queries {
        let own = ctx.query_all(query).await?;
        check::same_id_set(
            &format!("the tenant's own {query:?}"),
            &ops::ids(&own),
            std::slice::from_ref(&id),
        )?;
    }
    let other = other(&ctx)?;
    for query in &queries {
        let seen = other.query_all(query).await?;
        none_of(&format!("{query:?}"), &seen, std::slice::from_ref(&id))?;
    }
    Ok(())
}

async fn unfiltered_query(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = store(&ctx, &fx.statement()).await?;
    let seen = other(&ctx)?.query_all(&[("limit", "100")]).await?;
    none_of("an unfiltered query", &seen, &[id])
}

async fn more_link(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(store(&ctx, &fx.statement()).await?);
    }
    let verb = fx.verb_id("did");
    let page = ctx.query(&[("verb", &verb), ("limit", "1")]).await?;
    let more = page
        .more
        .ok_or("the tenant's own query of 3 statements with limit=1 has no more link")?;
    let other = other(&ctx)?;
    let url = other.resolve(&more)?;
    let reply = other.request(Method::GET, url).send().await?;
    if (400..500).contains(&reply.status) {
        return Ok(());
    }
    reply.expect(200)?;
    let result = ops::parse_result(&reply)?;
    none_of("the followed more link", &result.statements, &ids)
}

async fn same_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = store(&ctx, &statement).await?;
    let mut theirs = statement.clone();
    theirs["verb"] = fx.verb("theirs");
    let other = other(&ctx)?;
    let reply = other
        .put("statements")
        .query(&[("statementId", &id)])
        .json(&theirs)
        .send()
        .await?;
    reply.expect(204).map_err(|e| {
        format!("another tenant could not use the id (a 409 reveals that it exists elsewhere): {e}")
    })?;
    other.settle(&[&id]).await?;
    check::statement_round_trip(&theirs, &other.get_statement(&id).await?)
        .map_err(|e| format!("the other tenant's statement: {e}"))?;
    check::statement_round_trip(&statement, &ctx.get_statement(&id).await?)
        .map_err(|e| format!("the tenant's statement changed: {e}"))
}

async fn voiding(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = store(&ctx, &fx.statement()).await?;
    let other = other(&ctx)?;
    let voiding = fx.voiding(&id);
    let reply = other.post("statements").json(&voiding).send().await?;
    // Communication 2.1.4: the LRS SHOULD NOT reject a voiding statement whose target it does
    // not have; a refusal is fine too, as long as nothing is voided.
    if reply.status == 200 {
        other.settle(&[&id_of(&voiding)]).await?;
    }
    ctx.get_statement(&id)
        .await
        .map_err(|e| format!("the tenant's statement after another tenant voided its id: {e}"))?;
    let reply = ctx
        .get("statements")
        .query(&[("voidedStatementId", &id)])
        .send()
        .await?;
    reply
        .expect(404)
        .map_err(|e| format!("the statement counts as voided: {e}"))
}

async fn attachments(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let data = format!("attachment data of tenant one, {}", fx.tag).into_bytes();
    let mut statement = fx.statement();
    statement["attachments"] = json!([attachment_object(&data, "text/plain", None)]);
    let boundary = "conformance-isolation-boundary";
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
        .send()
        .await?;
    reply.expect(200)?;
    let id = id_of(&statement);
    ctx.settle(&[&id]).await?;
    let other = other(&ctx)?;
    expect_404(&other, &[("statementId", &id), ("attachments", "true")]).await?;
    let verb = fx.verb_id("did");
    let reply = other
        .get("statements")
        .query(&[("verb", &verb), ("attachments", "true")])
        .send()
        .await?;
    reply.expect(200)?;
    let leaked = reply.body.windows(data.len()).any(|w| w == data.as_slice());
    ensure(!leaked, || {
        "another tenant's query with attachments=true returned the tenant's attachment data"
            .to_owned()
    })
}

async fn activities(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let secret_name = format!("Secret activity name {}", fx.tag);
    let id = fx.activity_id("secret");
    let object = json!({
        "objectType": "Activity",
        "id": id,
        "definition": { "name": { "en-US": secret_name }, "description": { "en-US": secret_name } }
    });
    store(
        &ctx,
        &fx.statement_with(fx.agent("actor"), fx.verb("did"), object),
    )
    .await?;
    let own = ctx
        .get("activities")
        .query(&[("activityId", &id)])
        .send()
        .await?;
    own.expect(200)?;
    ensure(
        String::from_utf8_lossy(&own.body).contains(&secret_name),
        || {
            format!(
                "the tenant's own Activity lacks the definition it stored: {}",
                own.describe()
            )
        },
    )?;
    let reply = other(&ctx)?
        .get("activities")
        .query(&[("activityId", &id)])
        .send()
        .await?;
    reply.expect(200)?;
    ensure(
        !String::from_utf8_lossy(&reply.body).contains(&secret_name),
        || {
            format!(
                "another tenant saw the tenant's activity definition: {}",
                reply.describe()
            )
        },
    )
}

async fn agents(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let secret_name = format!("Secret Person {}", fx.tag);
    let mut actor = fx.agent("private");
    actor["name"] = json!(secret_name);
    store(
        &ctx,
        &fx.statement_with(actor, fx.verb("did"), fx.activity("thing")),
    )
    .await?;
    let query = json!({ "objectType": "Agent", "mbox": fx.mbox("private") }).to_string();
    let own = ctx.get("agents").query(&[("agent", &query)]).send().await?;
    own.expect(200)?;
    ensure(
        String::from_utf8_lossy(&own.body).contains(&secret_name),
        || {
            format!(
                "the tenant's own Person lacks the name it stored: {}",
                own.describe()
            )
        },
    )?;
    let reply = other(&ctx)?
        .get("agents")
        .query(&[("agent", &query)])
        .send()
        .await?;
    reply.expect(200)?;
    ensure(
        !String::from_utf8_lossy(&reply.body).contains(&secret_name),
        || {
            format!(
                "another tenant saw the name the tenant stored: {}",
                reply.describe()
            )
        },
    )
}

async fn document_reads(ctx: Ctx, r: DocResource) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "tenant-one");
    ctx.doc_create(&addr, &Body::json(&json!({ "tenant": "one" })))
        .await?;
    let other = other(&ctx)?;
    other.doc_absent(&addr).await?;
    let listed = other.doc_ids(&addr, &[]).await?;
    ensure(listed.is_empty(), || {
        format!("another tenant lists the tenant's document ids {listed:?}")
    })?;
    let head = other
        .doc_request(Method::HEAD, r, &addr.params())
        .send()
        .await?;
    head.expect(404)
        .map_err(|e| format!("HEAD by another tenant: {e}"))
}

async fn document_writes(ctx: Ctx, r: DocResource) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(r, &fx, "tenant-one");
    let mine = json!({ "tenant": "one" });
    ctx.doc_create(&addr, &Body::json(&mine)).await?;
    let tag = ctx.doc_etag(&addr).await?;
    let other = other(&ctx)?;
    let theirs = Body::json(&json!({ "tenant": "two" }));
    let reply = other
        .doc_write(
            Method::PUT,
            &addr,
            &theirs,
            &Precondition::IfMatch(tag.clone()),
        )
        .await?;
    reply
        .expect(412)
        .map_err(|e| format!("another tenant's If-Match with the tenant's ETag: {e}"))?;
    let reply = other
        .doc_write(
            Method::PUT,
            &addr,
            &theirs,
            &Precondition::IfNoneMatch("*".to_owned()),
        )
        .await?;
    reply
        .expect(204)
        .map_err(|e| format!("another tenant's If-None-Match: * (it has no document here): {e}"))?;
    other
        .doc_json_is(&addr, &json!({ "tenant": "two" }))
        .await?;
    let reply = other
        .doc_request(Method::DELETE, r, &addr.params())
        .send()
        .await?;
    reply.expect(204)?;
    if r == DocResource::State {
        let reply = other
            .doc_request(Method::DELETE, r, &addr.owner())
            .send()
            .await?;
        reply.expect(204)?;
    }
    ctx.doc_json_is(&addr, &mine)
        .await
        .map_err(|e| format!("the tenant's document after another tenant's writes: {e}"))?;
    let now = ctx.doc_etag(&addr).await?;
    ensure(now == tag, || {
        format!("the tenant's ETag changed from {tag} to {now}")
    })
}

async fn mine_query(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mine = mine(&ctx)?;
    let theirs = store(&ctx, &fx.statement()).await?;
    let own = store(&mine, &fx.statement()).await?;
    let verb = fx.verb_id("did");
    let seen = mine.query_all(&[("verb", &verb)]).await?;
    check::same_id_set(
        "the read/mine credential's query",
        &ops::ids(&seen),
        std::slice::from_ref(&own),
    )?;
    let all = ctx.query_all(&[("verb", &verb)]).await?;
    check::same_id_set("--key's query", &ops::ids(&all), &[own, theirs])
}

async fn mine_paging(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mine = mine(&ctx)?;
    let mut own = Vec::new();
    for _ in 0..3 {
        store(&ctx, &fx.statement()).await?;
        own.push(store(&mine, &fx.statement()).await?);
    }
    let verb = fx.verb_id("did");
    let seen = mine.query_all(&[("verb", &verb), ("limit", "1")]).await?;
    check::same_id_set(
        "paging with the read/mine credential",
        &ops::ids(&seen),
        &own,
    )
}

async fn mine_by_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mine = mine(&ctx)?;
    let theirs = store(&ctx, &fx.statement()).await?;
    let own = store(&mine, &fx.statement()).await?;
    mine.get_statement(&own).await?;
    let reply = mine
        .get("statements")
        .query(&[("statementId", &theirs)])
        .send()
        .await?;
    reply
        .expect_any(&[403, 404])
        .map_err(|e| format!("read/mine reached another credential's statement: {e}"))
}

async fn mine_state_forbidden(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(DocResource::State, &fx, "forbidden");
    let reply = mine(&ctx)?
        .doc_write(
            Method::PUT,
            &addr,
            &Body::json(&json!({ "a": 1 })),
            &Precondition::IfNoneMatch("*".to_owned()),
        )
        .await?;
    reply.expect_error(&ctx, 403)?;
    ctx.doc_absent(&addr).await
}

async fn mine_profile_forbidden(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let addr = DocAddr::new(DocResource::ActivityProfile, &fx, "forbidden");
    ctx.doc_create(&addr, &Body::json(&json!({ "secret": true })))
        .await?;
    let reply = mine(&ctx)?
        .doc_request(Method::GET, addr.resource, &addr.params())
        .send()
        .await?;
    reply.expect_error(&ctx, 403)
}
