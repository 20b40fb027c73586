//! The About Resource (Communication 2.8): reachable without credentials or a version
//! header, and describing the versions the LRS speaks.

use serde_json::Value;

use crate::check::ensure;
use crate::client::{Auth, Ctx};
use crate::harness::{Case, CaseResult};

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 2.8 / XAPI-00315, XAPI-00319: GET about without credentials or version header returns 200 with a version property",
            about_without_auth_or_version,
        ),
        Case::both(
            "Communication 2.8.s5.b1 / XAPI-00317, XAPI-00318: about version is an array of strings including the version under test",
            about_lists_version,
        ),
        Case::both(
            "Communication 2.8.s5.b1 / XAPI-00316: every about version is 0.9, 0.95, 1.0.x or 2.0.x",
            about_versions_well_formed,
        ),
        Case::both(
            "Communication 2.8.s5.b2: about has no properties besides version and extensions",
            about_no_extra_properties,
        ),
        Case::both(
            "Communication 2.8.s5.b4 / XAPI-00321: about does not reject an unsupported version header",
            about_ignores_version_header,
        ),
        Case::both(
            "Communication 3.3.s3.b1: the about response carries X-Experience-API-Version",
            about_version_header,
        ),
        Case::both(
            "Communication 1.1 / XAPI-00126: HEAD about returns 200 without a body",
            about_head,
        ),
    ]
}

async fn about_without_auth_or_version(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .get("about")
        .auth(Auth::Absent)
        .version(None)
        .send()
        .await?;
    reply.expect(200)?;
    let body = reply.json()?;
    ensure(body.get("version").is_some(), || {
        format!("no \"version\" property: {}", reply.describe())
    })
}

async fn fetch_about(ctx: &Ctx) -> Result<Value, String> {
    let reply = ctx.get("about").send().await?;
    reply.expect(200)?;
    let body = reply.json()?;
    ensure(body.is_object(), || {
        format!("about is not a JSON object: {}", reply.describe())
    })?;
    Ok(body)
}

fn versions_of(body: &Value) -> Result<Vec<String>, String> {
    let items = body
        .get("version")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("\"version\" is not an array: {body}"))?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("version entry {item} is not a string"))
        })
        .collect()
}

async fn about_lists_version(ctx: Ctx) -> CaseResult {
    let body = fetch_about(&ctx).await?;
    let versions = versions_of(&body)?;
    let wanted = ctx.version.header();
    ensure(versions.iter().any(|v| v == wanted), || {
        format!("\"version\" {versions:?} does not include {wanted}")
    })
}

async fn about_versions_well_formed(ctx: Ctx) -> CaseResult {
    let body = fetch_about(&ctx).await?;
    for version in versions_of(&body)? {
        let patch_ok = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
        let ok = version == "0.9"
            || version == "0.95"
            || version.strip_prefix("1.0.").is_some_and(patch_ok)
            || version.strip_prefix("2.0.").is_some_and(patch_ok);
        ensure(ok, || format!("about lists an unknown version {version:?}"))?;
    }
    Ok(())
}

async fn about_no_extra_properties(ctx: Ctx) -> CaseResult {
    let body = fetch_about(&ctx).await?;
    let Some(map) = body.as_object() else {
        return Err(format!("about is not an object: {body}"));
    };
    for key in map.keys() {
        ensure(key == "version" || key == "extensions", || {
            format!("about has property {key:?} outside extensions")
        })?;
    }
    if let Some(extensions) = map.get("extensions") {
        ensure(extensions.is_object(), || {
            format!("about extensions is not an object: {extensions}")
        })?;
    }
    Ok(())
}

async fn about_ignores_version_header(ctx: Ctx) -> CaseResult {
    for header in ["0.9", "3.0.0", "not-a-version"] {
        let reply = ctx.get("about").version(Some(header)).send().await?;
        reply
            .expect(200)
            .map_err(|e| format!("with version header {header:?}: {e}"))?;
    }
    Ok(())
}

async fn about_version_header(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("about").send().await?;
    reply.expect(200)?;
    let value = reply.header(crate::client::VERSION_HEADER)?;
    ensure(!value.trim().is_empty(), || {
        format!("empty version header: {}", reply.describe())
    })
}

async fn about_head(ctx: Ctx) -> CaseResult {
    let reply = ctx.head("about").send().await?;
    reply.expect(200)?;
    ensure(reply.body.is_empty(), || {
        format!("HEAD returned a {}-byte body", reply.body.len())
    })
}
