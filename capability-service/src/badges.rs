//! Open Badges 3.0 credentials for what a person holds: one unsigned `OpenBadgeCredential`
//! (an OB 3.0 `AchievementCredential`, a W3C Verifiable Credential 2.0) per capability at
//! the level the person has reached, with the statements that support it as evidence.
//!
//! Signing is the holder's wallet's or a signing service's business: these are the
//! credential documents before a proof is added (OB 3.0 §8 "Proofs").

use capability_engine::{
    Assessment, Capability, Catalog, Contribution, Framework, FrameworkSource, PersonKey, Polarity,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The W3C Verifiable Credentials Data Model 2.0 context, first as VC 2.0 §4.3 requires.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context (OB 3.0 §B.1).
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Who issues: the tenant's issuer profile under the server's public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The server's public base URL, without a trailing slash.
    pub base: String,
    pub tenant: u32,
}

impl Issuer {
    pub fn id(&self) -> String {
        format!("{}/capabilities/issuers/{}", self.base, self.tenant)
    }

    fn profile(&self) -> Value {
        json!({
            "id": self.id(),
            "type": ["Profile"],
            "name": format!("Proficio tenant {} at {}", self.tenant, self.base),
            "url": self.base,
        })
    }
}

/// One credential per assessment with a level of at least 1; capabilities no longer in the
/// catalog are left out.
pub fn credentials(
    issuer: &Issuer,
    catalog: &Catalog,
    person: &PersonKey,
    as_of: DateTime<Utc>,
    assessments: &[Assessment],
) -> Vec<Value> {
    let mut out = Vec::new();
    for assessment in assessments {
        let Some(level) = assessment.level else {
            continue;
        };
        let found = catalog.frameworks().iter().find_map(|framework| {
            framework
                .capabilities()
                .iter()
                .find(|c| c.id() == &assessment.capability)
                .map(|capability| (framework, capability))
        });
        let Some((framework, capability)) = found else {
            continue;
        };
        out.push(credential(
            issuer, framework, capability, person, as_of, level, assessment,
        ));
    }
    out
}

fn credential(
    issuer: &Issuer,
    framework: &Framework,
    capability: &Capability,
    person: &PersonKey,
    as_of: DateTime<Utc>,
    level: capability_engine::Level,
    assessment: &Assessment,
) -> Value {
    // SFIA's licence does not cover its text in credentials shown to others; reference
    // the skill by code and address instead.
    let licensed_text = framework.source() != FrameworkSource::Sfia;
    let achievement_id = format!(
        "{}/capabilities/achievements/{}/{}/{}",
        issuer.base,
        framework.id(),
        capability.id(),
        level
    );
    let label = framework
        .scale()
        .iter()
        .find(|s| s.level == level)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| format!("Level {level}"));
    let level_text = capability
        .levels()
        .iter()
        .find(|l| l.level == level)
        .and_then(|l| l.description.clone());
    let reference = capability.iri().unwrap_or(capability.id().as_str());
    let narrative = match (&level_text, licensed_text) {
        (Some(text), true) => text.clone(),
        _ => format!(
            "{} at level {level} ({label}) of {}, as defined at {reference}",
            capability.name(),
            framework.name()
        ),
    };
    let description = match (capability.description(), licensed_text) {
        (Some(text), true) => text.to_owned(),
        _ => format!(
            "{} ({}), level {level}",
            capability.name(),
            framework.name()
        ),
    };
    let levels_id = |n: capability_engine::Level| {
        format!(
            "{}/capabilities/achievements/{}/{}#level-{n}",
            issuer.base,
            framework.id(),
            capability.id()
        )
    };
    let result_description_id = format!(
        "{}/capabilities/achievements/{}/{}#levels",
        issuer.base,
        framework.id(),
        capability.id()
    );
    let mut alignment = json!({
        "type": ["Alignment"],
        "targetName": capability.name(),
        "targetFramework": framework.name(),
        "targetUrl": reference,
    });
    if let Some(code) = capability.code() {
        alignment["targetCode"] = json!(code);
    }
    if framework.source() == FrameworkSource::Case {
        alignment["targetType"] = json!("CFItem");
    }
    let evidence: Vec<&Contribution> = assessment
        .explanation
        .contributions
        .iter()
        .filter(|c| c.polarity == Polarity::Supporting)
        .collect();
    // The credential is valid from when the evidence for it was last seen, not from the
    // moment it is asked for.
    let valid_from = assessment.last_evidence_at.unwrap_or(as_of);
    let id = crate::import::derived_uuid(&[
        "ob3-credential",
        &issuer.id(),
        person.as_str(),
        capability.id().as_str(),
        &level.to_string(),
        &valid_from.to_rfc3339(),
    ]);
    json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": format!("urn:uuid:{id}"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": format!("{} — {label}", capability.name()),
        "issuer": issuer.profile(),
        "validFrom": valid_from.to_rfc3339_opts(SecondsFormat::Secs, true),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [identity(person)],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Competency",
                "name": format!("{} — {label}", capability.name()),
                "description": description,
                "criteria": {"narrative": narrative},
                "alignment": [alignment],
                "resultDescription": [{
                    "id": result_description_id,
                    "type": ["ResultDescription"],
                    "name": format!("Level on the {} scale", framework.name()),
                    "resultType": "RubricCriterionLevel",
                    "rubricCriterionLevel": capability.levels().iter().map(|l| {
                        let name = framework.scale().iter().find(|s| s.level == l.level)
                            .map_or_else(|| format!("Level {}", l.level), |s| s.label.clone());
                        json!({"id": levels_id(l.level), "type": ["RubricCriterionLevel"], "name": name, "level": l.level.to_string()})
                    }).collect::<Vec<_>>(),
                }],
            },
            "result": [{
                "type": ["Result"],
                "resultDescription": result_description_id,
                "achievedLevel": levels_id(level),
            }],
        },
        "evidence": evidence.iter().map(|c| json!({
            "id": format!("{}/xapi/statements?statementId={}", issuer.base, c.statement),
            "type": ["Evidence"],
            "name": format!("xAPI statement {}", c.statement),
            "narrative": format!(
                "{} evidence at level {} observed {}",
                serde_json::to_value(c.rater.class).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                c.level, c.observed_at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
        })).collect::<Vec<_>>(),
    })
}

/// The person as an OB 3.0 `IdentityObject` (OB 3.0 §B.1.9), unhashed: the xAPI identifier
/// the evidence names.
fn identity(person: &PersonKey) -> Value {
    let key = person.as_str();
    let (kind, value) = if let Some(mbox) = key.strip_prefix("mbox:") {
        ("emailAddress", mbox.strip_prefix("mailto:").unwrap_or(mbox))
    } else if let Some(openid) = key.strip_prefix("openid:") {
        ("url", openid)
    } else {
        ("identifier", key)
    };
    json!({
        "type": "IdentityObject",
        "hashed": false,
        "identityHash": value,
        "identityType": kind,
    })
}

/// `GET /capabilities/badges?agent=&as_of=`: the person's credentials as of `as_of`.
pub(crate) async fn serve(
    axum::extract::State(service): axum::extract::State<crate::CapabilityService>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<axum::response::Response, crate::ServiceError> {
    use axum::response::IntoResponse;
    let caller = crate::http::reader(&service, &headers).await?;
    let params = crate::http::params(query)?;
    let person = crate::http::person(&params)?;
    let as_of = crate::http::as_of(&service, &params)?;
    let issuer = Issuer {
        base: service.public_url(&headers),
        tenant: caller.tenant.0,
    };
    let model = service.model(caller.tenant).await?;
    let assessments = service.assessments(caller.tenant, &person, as_of).await?;
    let credentials = credentials(&issuer, &model.catalog, &person, as_of, &assessments);
    Ok(axum::Json(json!({
        "person": person,
        "as_of": as_of,
        "credentials": credentials,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use capability_engine::fixture::{self, Organisation};
    use capability_engine::{Catalog, Framework, FrameworkSource, FrameworkSpec};
    use serde_json::Value;

    use super::*;

    /// The properties OB 3.0 requires (OB 3.0 §B.1: AchievementCredential, AchievementSubject,
    /// Achievement, Criteria, Profile, Evidence, Result), checked on one credential.
    pub(crate) fn check_ob3_shape(credential: &Value) -> Vec<String> {
        let mut missing = Vec::new();
        let mut need = |value: &Value, path: &str| {
            let found = path
                .split('.')
                .try_fold(value, |v, key| v.get(key))
                .filter(|v| !v.is_null() && v.as_str() != Some(""));
            if found.is_none() {
                missing.push(path.to_owned());
            }
        };
        for path in [
            "@context",
            "id",
            "type",
            "name",
            "issuer.id",
            "issuer.type",
            "validFrom",
            "credentialSubject.type",
            "credentialSubject.achievement.id",
            "credentialSubject.achievement.type",
            "credentialSubject.achievement.name",
            "credentialSubject.achievement.description",
            "credentialSubject.achievement.criteria.narrative",
        ] {
            need(credential, path);
        }
        let has = |path: &str, item: &str| {
            path.split('.')
                .try_fold(credential, |v, key| v.get(key))
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == item))
        };
        if !has("@context", VC_CONTEXT) || credential["@context"][0] != VC_CONTEXT {
            missing.push("@context[0] = VC 2.0".to_owned());
        }
        if !has("@context", OB_CONTEXT) {
            missing.push("@context has OB 3.0".to_owned());
        }
        if !has("type", "VerifiableCredential") || !has("type", "OpenBadgeCredential") {
            missing.push("type".to_owned());
        }
        if !has("credentialSubject.type", "AchievementSubject") {
            missing.push("credentialSubject.type".to_owned());
        }
        if !has("credentialSubject.achievement.type", "Achievement") {
            missing.push("achievement.type".to_owned());
        }
        if chrono::DateTime::parse_from_rfc3339(credential["validFrom"].as_str().unwrap_or(""))
            .is_err()
        {
            missing.push("validFrom is RFC 3339".to_owned());
        }
        for evidence in credential["evidence"].as_array().into_iter().flatten() {
            if !evidence["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "Evidence"))
            {
                missing.push("evidence[].type".to_owned());
            }
        }
        missing
    }

    #[test]
    fn personas_get_one_valid_credential_per_held_capability() {
        let org = Organisation::personas();
        let ledger = org.ledger();
        let evaluator = org.evaluator(&ledger);
        let person = PersonKey::parse(fixture::ANA).unwrap();
        let assessments: Vec<Assessment> = ledger
            .capabilities_of(&person)
            .into_iter()
            .map(|c| evaluator.assess(&person, c, org.as_of).unwrap())
            .collect();
        let held = assessments.iter().filter(|a| a.level.is_some()).count();
        assert!(held > 0, "the persona holds something");
        let issuer = Issuer {
            base: "https://lrs.acme.example".to_owned(),
            tenant: 7,
        };
        let out = credentials(&issuer, &org.catalog, &person, org.as_of, &assessments);
        assert_eq!(out.len(), held);
        for (credential, assessment) in out
            .iter()
            .zip(assessments.iter().filter(|a| a.level.is_some()))
        {
            assert_eq!(
                check_ob3_shape(credential),
                Vec::<String>::new(),
                "{credential:#}"
            );
            assert_eq!(
                credential["issuer"]["id"],
                "https://lrs.acme.example/capabilities/issuers/7"
            );
            let level = assessment.level.unwrap();
            assert!(
                credential["credentialSubject"]["result"][0]["achievedLevel"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("#level-{level}"))
            );
            let ids: Vec<String> = credential["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    e["id"]
                        .as_str()
                        .unwrap()
                        .rsplit('=')
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            let supporting: Vec<String> = assessment
                .explanation
                .contributions
                .iter()
                .filter(|c| c.polarity == Polarity::Supporting)
                .map(|c| c.statement.to_string())
                .collect();
            assert_eq!(ids, supporting);
            assert_eq!(
                credential["validFrom"],
                assessment
                    .last_evidence_at
                    .unwrap()
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            );
            assert_eq!(
                credential["credentialSubject"]["identifier"][0]["identityHash"],
                "ana@acme.example"
            );
        }
        assert!(
            out.iter()
                .any(|c| !c["evidence"].as_array().unwrap().is_empty()),
            "some credential lists its statements"
        );
        // The same question gives the same credential ids.
        let again = credentials(&issuer, &org.catalog, &person, org.as_of, &assessments);
        assert_eq!(out, again);
    }

    #[test]
    fn sfia_text_stays_out_of_credentials() {
        let org = Organisation::personas();
        let ledger = org.ledger();
        let evaluator = org.evaluator(&ledger);
        let person = PersonKey::parse(fixture::ANA).unwrap();
        let assessment = ledger
            .capabilities_of(&person)
            .into_iter()
            .map(|c| evaluator.assess(&person, c, org.as_of).unwrap())
            .find(|a| a.level.is_some())
            .unwrap();
        // The same catalog, marked as imported from SFIA.
        let frameworks = org
            .catalog
            .frameworks()
            .iter()
            .map(|f| {
                let mut spec: FrameworkSpec =
                    serde_json::from_value(serde_json::to_value(f).unwrap()).unwrap();
                spec.source = FrameworkSource::Sfia;
                Framework::new(spec).unwrap()
            })
            .collect();
        let catalog = Catalog::new(frameworks).unwrap();
        let capability = catalog.capability(&assessment.capability).unwrap();
        let issuer = Issuer {
            base: "https://lrs.acme.example".to_owned(),
            tenant: 1,
        };
        let out = credentials(
            &issuer,
            &catalog,
            &person,
            org.as_of,
            std::slice::from_ref(&assessment),
        );
        let text = out[0].to_string();
        for level in capability.levels() {
            if let Some(description) = &level.description {
                assert!(!text.contains(description.as_str()), "{description}");
            }
        }
        if let Some(description) = capability.description() {
            assert!(!text.contains(description), "{description}");
        }
        assert_eq!(check_ob3_shape(&out[0]), Vec::<String>::new());
    }
}
