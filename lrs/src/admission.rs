//! The port through which the composing server refuses statements beyond xAPI validation, e.g.
//! statements that claim an xAPI Profile and do not follow it. Every statement written through
//! the Statement Resource or a [`crate::producer::Producer`] passes it after xAPI validation and
//! before anything of its request is stored.

use serde_json::{Map, Value};

use crate::storage::TenantId;

/// A check of one statement, as the LRS is about to store it: validated, with its id and
/// authority set and its context activities as arrays (xAPI Data §2.4.6.2).
pub trait StatementCheck: Send + Sync {
    fn check(&self, tenant: TenantId, statement: &Value) -> Result<(), Refusal>;
}

/// Why a statement is refused: a client error (400) naming the place and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message} ({rule})")]
pub struct Refusal {
    /// A JSONPath into the statement, starting at `$`.
    pub path: String,
    /// A short kebab-case name of the rule broken.
    pub rule: &'static str,
    pub message: String,
}

/// Checks a batch in order: the index and the refusal of the first statement refused. The
/// statements are moved into a `Value` and back, not copied.
pub(crate) fn check_all<'a>(
    check: &dyn StatementCheck,
    tenant: TenantId,
    statements: impl Iterator<Item = &'a mut Map<String, Value>>,
) -> Result<(), (usize, Refusal)> {
    for (index, json) in statements.enumerate() {
        let statement = Value::Object(std::mem::take(json));
        let verdict = check.check(tenant, &statement);
        if let Value::Object(map) = statement {
            *json = map;
        }
        verdict.map_err(|refusal| (index, refusal))?;
    }
    Ok(())
}

/// The refusal's path within a request body: `$[index]…` when the statements came as an array.
pub(crate) fn path_in_body(refusal: &Refusal, index: usize, array: bool) -> String {
    if array {
        format!("$[{index}]{}", refusal.path.trim_start_matches('$'))
    } else {
        refusal.path.clone()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Refuses statements whose verb is `refused`.
    struct RefuseVerb;

    impl StatementCheck for RefuseVerb {
        fn check(&self, _: TenantId, statement: &Value) -> Result<(), Refusal> {
            if statement.pointer("/verb/id") == Some(&json!("refused")) {
                return Err(Refusal {
                    path: "$.verb.id".to_owned(),
                    rule: "no-refused-verb",
                    message: "refused".to_owned(),
                });
            }
            Ok(())
        }
    }

    fn statement(verb: &str) -> Map<String, Value> {
        json!({"id": verb, "verb": {"id": verb}})
            .as_object()
            .cloned()
            .expect("an object")
    }

    #[test]
    fn the_first_refused_statement_is_named_and_none_is_lost() {
        let mut batch = vec![statement("ok"), statement("refused"), statement("refused")];
        let before = batch.clone();
        let (index, refusal) = check_all(&RefuseVerb, TenantId(1), batch.iter_mut())
            .expect_err("the second is refused");
        assert_eq!(index, 1);
        assert_eq!(path_in_body(&refusal, index, true), "$[1].verb.id");
        assert_eq!(path_in_body(&refusal, index, false), "$.verb.id");
        assert_eq!(batch, before);
        let mut fine = [statement("ok"), statement("fine")];
        assert_eq!(check_all(&RefuseVerb, TenantId(1), fine.iter_mut()), Ok(()));
        assert_eq!(fine[1], statement("fine"));
    }
}
