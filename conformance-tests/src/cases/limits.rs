//! Size limits (Communication 3.2): a statement body beyond the LRS's limit is refused
//! with 413. The limit is the `--max-body-bytes` flag, since each LRS chooses its own.

use serde_json::Value;

use crate::client::Ctx;
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 3.2.s3.b11: a POST body larger than the LRS limit is rejected with 413",
            |ctx| oversized(ctx, Method::Post),
        ),
        Case::both(
            "Communication 3.2.s3.b11: a PUT body larger than the LRS limit is rejected with 413",
            |ctx| oversized(ctx, Method::Put),
        ),
    ]
}

#[derive(Clone, Copy)]
enum Method {
    Post,
    Put,
}

/// A valid statement padded (inside a result extension) to one byte over the limit, so
/// only its size can be the reason for refusing it.
fn padded_statement(fx: &Fx, total: usize) -> (String, Vec<u8>) {
    let mut statement = fx.statement();
    let id = id_of(&statement);
    statement["result"] = serde_json::json!({
        "extensions": { "http://conformance.example.com/ext/padding": "" }
    });
    let base = statement.to_string().len();
    let padding = total.saturating_sub(base);
    statement["result"]["extensions"]["http://conformance.example.com/ext/padding"] =
        Value::String("x".repeat(padding));
    (id, statement.to_string().into_bytes())
}

async fn oversized(ctx: Ctx, method: Method) -> CaseResult {
    let fx = Fx::new();
    let limit = ctx.settings().max_body_bytes;
    let (id, body) = padded_statement(&fx, limit + 1);
    let request = match method {
        Method::Post => ctx.post("statements"),
        Method::Put => ctx.put("statements").query(&[("statementId", &id)]),
    };
    let reply = request
        .raw_body(body, "application/json")
        .send_allowing_early_reply()
        .await?;
    reply.expect_error(&ctx, 413)?;
    let check = ctx
        .get("statements")
        .query(&[("statementId", &id)])
        .send()
        .await?;
    check
        .expect(404)
        .map_err(|e| format!("the oversized statement was stored: {e}"))
}
