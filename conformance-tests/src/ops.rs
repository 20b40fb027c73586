//! Statement Resource operations the cases share (store, fetch, query, page, wait for
//! consistency), each failing with a message that names the request and the response.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::check;
use crate::client::{CONSISTENT_THROUGH, Ctx, Reply};
use crate::harness::CaseResult;

/// How long reads wait for writes to become visible. The LRS MAY respond before stored
/// statements are available (Communication 2.1.1, 2.1.2), so reads that follow writes
/// first wait for `X-Experience-API-Consistent-Through` to pass the writes.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
const SETTLE_POLL: Duration = Duration::from_millis(100);

/// Stops runaway paging against an LRS whose `more` links loop.
const MAX_PAGES: usize = 200;

/// A parsed StatementResult (Data 2.5).
#[derive(Debug)]
pub struct StatementResult {
    pub statements: Vec<Value>,
    /// `None` when `more` is absent or empty.
    pub more: Option<String>,
}

impl Ctx {
    /// POSTs one statement or an array; expects 200 and an array of ids (Communication 2.1.2).
    pub async fn post_statements(&self, body: &Value) -> Result<Vec<String>, String> {
        let reply = self.post("statements").json(body).send().await?;
        reply.expect(200)?;
        ids_of(&reply)
    }

    /// PUTs one statement under `id`; expects 204 (Communication 2.1.1).
    pub async fn put_statement(&self, id: &str, statement: &Value) -> CaseResult {
        let reply = self
            .put("statements")
            .query(&[("statementId", id)])
            .json(statement)
            .send()
            .await?;
        reply.expect(204)
    }

    /// GET `statements?statementId=id`; expects 200 and a statement object.
    pub async fn get_statement(&self, id: &str) -> Result<Value, String> {
        let reply = self
            .get("statements")
            .query(&[("statementId", id)])
            .send()
            .await?;
        reply.expect(200)?;
        let statement = reply.json()?;
        if !statement.is_object() {
            return Err(format!("expected a Statement object: {}", reply.describe()));
        }
        Ok(statement)
    }

    /// GET `statements` with `params`; expects 200 and a StatementResult.
    pub async fn query(&self, params: &[(&str, &str)]) -> Result<StatementResult, String> {
        let reply = self.get("statements").query(params).send().await?;
        reply.expect(200)?;
        parse_result(&reply)
    }

    /// Follows a `more` IRL (relative to the endpoint's origin); expects a StatementResult.
    pub async fn follow_more(&self, more: &str) -> Result<StatementResult, String> {
        let url = self.resolve(more)?;
        let reply = self.request(reqwest::Method::GET, url).send().await?;
        reply.expect(200)?;
        parse_result(&reply)
    }

    /// Runs a query and follows `more` to the end, returning every statement in order.
    pub async fn query_all(&self, params: &[(&str, &str)]) -> Result<Vec<Value>, String> {
        let mut page = self.query(params).await?;
        let mut all = std::mem::take(&mut page.statements);
        let mut pages = 1;
        while let Some(more) = page.more.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(format!(
                    "more than {MAX_PAGES} pages for {params:?}; the more links may loop"
                ));
            }
            page = self.follow_more(&more).await?;
            all.append(&mut page.statements);
        }
        Ok(all)
    }

    /// Waits until the statements `ids` are retrievable and queries are consistent through
    /// their `stored` times; returns their `stored` times in order.
    pub async fn settle(&self, ids: &[&str]) -> Result<Vec<DateTime<FixedOffset>>, String> {
        let started = Instant::now();
        let mut stored = Vec::with_capacity(ids.len());
        for id in ids {
            let statement = loop {
                let reply = self
                    .get("statements")
                    .query(&[("statementId", id)])
                    .send()
                    .await?;
                if reply.status == 404 && started.elapsed() < SETTLE_TIMEOUT {
                    tokio::time::sleep(SETTLE_POLL).await;
                    continue;
                }
                reply.expect(200)?;
                break reply.json()?;
            };
            stored.push(check::stored_of(&statement)?);
        }
        let Some(latest) = stored.iter().max().copied() else {
            return Ok(stored);
        };
        loop {
            let reply = self
                .get("statements")
                .query(&[("limit", "1")])
                .send()
                .await?;
            let through = check::timestamp(reply.header(CONSISTENT_THROUGH)?)
                .map_err(|e| format!("{CONSISTENT_THROUGH}: {e}"))?;
            if through >= latest {
                return Ok(stored);
            }
            if started.elapsed() >= SETTLE_TIMEOUT {
                return Err(format!(
                    "{CONSISTENT_THROUGH} ({through}) never reached the stored time {latest} within {}s",
                    SETTLE_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
    }
}

/// The ids in a POST reply: a JSON array of UUID strings.
pub fn ids_of(reply: &Reply) -> Result<Vec<String>, String> {
    let body = reply.json()?;
    let Some(items) = body.as_array() else {
        return Err(format!(
            "expected a JSON array of ids: {}",
            reply.describe()
        ));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .filter(|id| check::is_uuid(id))
                .map(str::to_owned)
                .ok_or_else(|| format!("{item} is not a UUID string: {}", reply.describe()))
        })
        .collect()
}

/// A StatementResult: an object with a `statements` array and an optional string `more`.
pub fn parse_result(reply: &Reply) -> Result<StatementResult, String> {
    let body = reply.json()?;
    let Some(statements) = body.get("statements").and_then(Value::as_array) else {
        return Err(format!(
            "expected a StatementResult with a \"statements\" array (Data 2.5): {}",
            reply.describe()
        ));
    };
    let more = match body.get("more") {
        None => None,
        Some(Value::String(more)) if more.is_empty() => None,
        Some(Value::String(more)) => Some(more.clone()),
        Some(other) => {
            return Err(format!(
                "\"more\" must be a string (Data 2.5), got {other}: {}",
                reply.describe()
            ));
        }
    };
    Ok(StatementResult {
        statements: statements.clone(),
        more,
    })
}

/// The `id`s of `statements`, in order.
pub fn ids(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .map(|s| {
            s.get("id")
                .and_then(Value::as_str)
                .unwrap_or("<no id>")
                .to_owned()
        })
        .collect()
}
