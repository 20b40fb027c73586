//! What a validated statement can be found by (Communication §2.1.3 query filters): IFI keys
//! of the agents involved, the verb, activities and registration.

use serde_json::{Map, Value};

use crate::IndexTerms;
use crate::datatypes::uuid_from_str;

/// The canonical key of an Agent or identified Group's IFI (see [`crate::ifi_key`]).
///
/// Data §2.3.1 lists case-insensitive parts among the immutability exceptions and §2.4.2.3
/// says "The domain portions of email addresses are case insensitive", so the `mailto:`
/// scheme and the domain are lowercased; the local part is kept (RFC 5321 §2.4 lets it be
/// case-sensitive). `mbox_sha1sum` hex is lowercased. openid and account are kept verbatim.
pub(crate) fn ifi_key(agent: &Map<String, Value>) -> Option<String> {
    if let Some(mbox) = agent.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{}", normalize_mbox(mbox)));
    }
    if let Some(sum) = agent.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("mbox_sha1sum:{}", sum.to_ascii_lowercase()));
    }
    if let Some(openid) = agent.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{openid}"));
    }
    let account = agent.get("account")?.as_object()?;
    let home_page = account.get("homePage")?.as_str()?;
    let name = account.get("name")?.as_str()?;
    Some(format!("account:{home_page}|{name}"))
}

/// `mailto:Local@Example.COM` → `mailto:Local@example.com`.
pub(crate) fn normalize_mbox(mbox: &str) -> String {
    let address = match mbox.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &mbox[7..],
        _ => mbox,
    };
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("mailto:{local}@{}", domain.to_lowercase()),
        None => format!("mailto:{address}"),
    }
}

fn push_unique(out: &mut Vec<String>, key: String) {
    if !out.contains(&key) {
        out.push(key);
    }
}

/// Adds an Agent or Group's IFI and its members' IFIs.
fn add_agent(value: Option<&Value>, out: &mut Vec<String>) {
    let Some(map) = value.and_then(Value::as_object) else {
        return;
    };
    if let Some(key) = ifi_key(map) {
        push_unique(out, key);
    }
    if let Some(members) = map.get("member").and_then(Value::as_array) {
        for member in members.iter().filter_map(Value::as_object) {
            if let Some(key) = ifi_key(member) {
                push_unique(out, key);
            }
        }
    }
}

fn object_type(value: &Value) -> Option<&str> {
    value.get("objectType").and_then(Value::as_str)
}

fn is_agent_or_group(value: &Value) -> bool {
    matches!(object_type(value), Some("Agent" | "Group"))
}

fn is_activity(value: &Value) -> bool {
    value.is_object() && matches!(object_type(value), None | Some("Activity"))
}

/// Context agents: instructor, team, 2.0 contextAgents and contextGroups.
fn add_context_agents(context: Option<&Value>, out: &mut Vec<String>) {
    let Some(context) = context else {
        return;
    };
    add_agent(context.get("instructor"), out);
    add_agent(context.get("team"), out);
    for item in context
        .get("contextAgents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add_agent(item.get("agent"), out);
    }
    for item in context
        .get("contextGroups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add_agent(item.get("group"), out);
    }
}

fn add_context_activities(context: Option<&Value>, out: &mut Vec<String>) {
    let Some(map) = context
        .and_then(|c| c.get("contextActivities"))
        .and_then(Value::as_object)
    else {
        return;
    };
    for value in map.values() {
        let list: &[Value] = match value {
            Value::Array(list) => list,
            single => std::slice::from_ref(single),
        };
        for activity in list {
            if let Some(id) = activity.get("id").and_then(Value::as_str) {
                push_unique(out, id.to_owned());
            }
        }
    }
}

pub(crate) fn index_terms(stmt: &Map<String, Value>) -> IndexTerms {
    let mut terms = IndexTerms::default();
    let object = stmt.get("object");

    add_agent(stmt.get("actor"), &mut terms.agents);
    if let Some(object) = object.filter(|o| is_agent_or_group(o)) {
        add_agent(Some(object), &mut terms.agents);
    }

    terms.related_agents = terms.agents.clone();
    add_agent(stmt.get("authority"), &mut terms.related_agents);
    add_context_agents(stmt.get("context"), &mut terms.related_agents);

    terms.verb = stmt
        .get("verb")
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();

    if let Some(object) = object.filter(|o| is_activity(o)) {
        terms.activity = object.get("id").and_then(Value::as_str).map(str::to_owned);
    }
    if let Some(id) = &terms.activity {
        terms.related_activities.push(id.clone());
    }
    add_context_activities(stmt.get("context"), &mut terms.related_activities);

    // Communication §2.1.3 related_agents / related_activities: "...or in a SubStatement".
    if let Some(sub) = object.filter(|o| object_type(o) == Some("SubStatement")) {
        add_agent(sub.get("actor"), &mut terms.related_agents);
        if let Some(sub_object) = sub.get("object") {
            if is_agent_or_group(sub_object) {
                add_agent(Some(sub_object), &mut terms.related_agents);
            } else if is_activity(sub_object)
                && let Some(id) = sub_object.get("id").and_then(Value::as_str)
            {
                push_unique(&mut terms.related_activities, id.to_owned());
            }
        }
        add_context_agents(sub.get("context"), &mut terms.related_agents);
        add_context_activities(sub.get("context"), &mut terms.related_activities);
    }

    terms.registration = stmt
        .get("context")
        .and_then(|c| c.get("registration"))
        .and_then(Value::as_str)
        .and_then(uuid_from_str);
    terms
}
