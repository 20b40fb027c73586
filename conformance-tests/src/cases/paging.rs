//! Paging through StatementResults (Data 2.5, Communication 2.1.3): `more` links are
//! relative IRLs that, followed to the end, return every match exactly once in order.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::Ctx;
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};
use crate::ops::{self, StatementResult};

const MATCHES: usize = 7;
const PAGE: &str = "3";

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Data 2.5.s2.table1.row2 / XAPI-00108, XAPI-00111, XAPI-00114: following more with limit=3 returns all 7 matches exactly once, newest first",
            follow_more_descending,
        ),
        Case::both(
            "Data 2.5.s2.table1.row2 / XAPI-00108: following more with ascending=true returns all matches exactly once, oldest first",
            follow_more_ascending,
        ),
        Case::both(
            "Data 2.5.s3.b4: statements stored between pages cause neither duplicates nor gaps in the original matches",
            stable_under_inserts,
        ),
        Case::both(
            "Data 2.5.s2.table1.row2: more is a relative IRL (a path without scheme, host or port)",
            more_is_relative,
        ),
        Case::both(
            "Data 2.5.s2.table1.row2 / XAPI-00109: the last page has an empty or absent more",
            last_page_has_no_more,
        ),
        Case::both(
            "Communication 2.1.3 limit: limit=0 means the server maximum, and following more still returns every match",
            limit_zero,
        ),
    ]
}

/// Stores `MATCHES` statements with the case's verb, one request each so `stored` differs,
/// and returns their ids oldest first.
async fn seed(ctx: &Ctx, fx: &Fx) -> Result<Vec<String>, String> {
    let mut ids = Vec::with_capacity(MATCHES);
    for _ in 0..MATCHES {
        let statement = fx.statement();
        ctx.post_statements(&statement).await?;
        ids.push(id_of(&statement));
        // Distinct stored times make the expected order unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    ctx.settle(&refs).await?;
    Ok(ids)
}

/// Follows `more` from `first`, returning every page's statements in order.
async fn collect(ctx: &Ctx, first: StatementResult) -> Result<(Vec<Value>, usize), String> {
    let mut page = first;
    let mut all = std::mem::take(&mut page.statements);
    let mut pages = 1;
    while let Some(more) = page.more.take() {
        pages += 1;
        ensure(pages <= 2 * MATCHES, || {
            format!("more than {} pages; the more links loop", 2 * MATCHES)
        })?;
        page = ctx.follow_more(&more).await?;
        ensure(page.statements.len() <= 3, || {
            format!(
                "a page of a limit=3 query held {} statements",
                page.statements.len()
            )
        })?;
        all.append(&mut page.statements);
    }
    Ok((all, pages))
}

fn no_duplicates(ids: &[String]) -> CaseResult {
    let mut seen = HashSet::new();
    for id in ids {
        ensure(seen.insert(id), || {
            format!("statement {id} returned twice across pages: {ids:?}")
        })?;
    }
    Ok(())
}

/// Checks `statements` are ordered by `stored` (descending unless `ascending`).
fn ordered_by_stored(statements: &[Value], ascending: bool) -> CaseResult {
    let times = statements
        .iter()
        .map(check::stored_of)
        .collect::<Result<Vec<_>, _>>()?;
    for pair in times.windows(2) {
        let ok = if ascending {
            pair[0] <= pair[1]
        } else {
            pair[0] >= pair[1]
        };
        ensure(ok, || {
            format!("stored times out of order: {} then {}", pair[0], pair[1])
        })?;
    }
    Ok(())
}

async fn follow_more_descending(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let ids = seed(&ctx, &fx).await?;
    let first = ctx
        .query(&[("verb", &fx.verb_id("did")), ("limit", PAGE)])
        .await?;
    ensure(first.statements.len() == 3, || {
        format!(
            "the first page of limit=3 held {} statements",
            first.statements.len()
        )
    })?;
    let (all, pages) = collect(&ctx, first).await?;
    let got = ops::ids(&all);
    no_duplicates(&got)?;
    ensure(pages >= 3, || {
        format!("7 matches at limit=3 came in {pages} pages")
    })?;
    let expected: Vec<String> = ids.into_iter().rev().collect();
    check::same_ids_in_order("all pages", &got, &expected)?;
    ordered_by_stored(&all, false)
}

async fn follow_more_ascending(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let ids = seed(&ctx, &fx).await?;
    let first = ctx
        .query(&[
            ("verb", &fx.verb_id("did")),
            ("limit", PAGE),
            ("ascending", "true"),
        ])
        .await?;
    let (all, _) = collect(&ctx, first).await?;
    let got = ops::ids(&all);
    no_duplicates(&got)?;
    check::same_ids_in_order("all pages", &got, &ids)?;
    ordered_by_stored(&all, true)
}

async fn stable_under_inserts(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let ids = seed(&ctx, &fx).await?;
    let verb = fx.verb_id("did");
    let mut page = ctx.query(&[("verb", &verb), ("limit", PAGE)]).await?;
    let mut got = ops::ids(&page.statements);
    let mut pages = 1;
    while let Some(more) = page.more.take() {
        // New matches arrive while the client pages.
        let fresh: Vec<Value> = (0..2).map(|_| fx.statement()).collect();
        ctx.post_statements(&json!(fresh)).await?;
        pages += 1;
        ensure(pages <= 4 * MATCHES, || {
            "the more links never end".to_owned()
        })?;
        page = ctx.follow_more(&more).await?;
        got.extend(ops::ids(&page.statements));
    }
    no_duplicates(&got)?;
    for id in &ids {
        ensure(got.contains(id), || {
            format!("original match {id} never returned while paging (got {got:?})")
        })?;
    }
    Ok(())
}

async fn more_is_relative(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    seed(&ctx, &fx).await?;
    let first = ctx
        .query(&[("verb", &fx.verb_id("did")), ("limit", PAGE)])
        .await?;
    let more = first
        .more
        .ok_or_else(|| "no more link although 7 statements match limit=3".to_owned())?;
    ensure(more.starts_with('/') && !more.starts_with("//"), || {
        format!("more {more:?} is not a path-absolute relative IRL")
    })
}

async fn last_page_has_no_more(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let ids = seed(&ctx, &fx).await?;
    let mut page = ctx
        .query(&[("verb", &fx.verb_id("did")), ("limit", PAGE)])
        .await?;
    let mut seen = page.statements.len();
    let mut pages = 1;
    while let Some(more) = page.more.take() {
        pages += 1;
        ensure(pages <= 2 * MATCHES, || {
            "the more links never end".to_owned()
        })?;
        page = ctx.follow_more(&more).await?;
        seen += page.statements.len();
    }
    // The loop ends only on an empty/absent more (parse_result validates its type).
    ensure(seen == ids.len(), || {
        format!("pages held {seen} statements, expected {}", ids.len())
    })
}

async fn limit_zero(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let ids = seed(&ctx, &fx).await?;
    let all = ctx
        .query_all(&[("verb", &fx.verb_id("did")), ("limit", "0")])
        .await?;
    let got = ops::ids(&all);
    no_duplicates(&got)?;
    check::same_id_set("limit=0", &got, &ids)
}
