//! Identifiers and small value types whose constructors validate: ids, people, levels, days.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The longest id accepted; ids are keys in storage and URLs, not documents.
pub const MAX_ID_LEN: usize = 200;

/// The highest ordinal a level scale may have (SFIA has 7, DigComp 8).
pub const MAX_LEVEL: u8 = 9;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// 1 to 200 characters, no whitespace or control characters.
            pub fn parse(s: impl Into<String>) -> Result<Self> {
                let s = s.into();
                check_id(&s)?;
                Ok($name(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                $name::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A framework's id, e.g. `acme-engineering`.
    FrameworkId
);
id_type!(
    /// A capability's id, unique across the frameworks of a catalog, e.g. `RLMT`.
    CapabilityId
);
id_type!(
    /// A role's id, e.g. `senior-engineer`.
    RoleId
);
id_type!(
    /// An evidence rule's id; the rule's version travels beside it.
    RuleId
);

fn check_id(s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::invalid("", "non-empty", "an id must not be empty"));
    }
    if s.chars().count() > MAX_ID_LEN {
        return Err(Error::invalid(
            "",
            "id-length",
            format!("an id has at most {MAX_ID_LEN} characters"),
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            "",
            "id-characters",
            format!("an id has no whitespace or control characters: {s:?}"),
        ));
    }
    Ok(())
}

/// A person: the canonical IFI key of an xAPI Agent ([`xapi::ifi_key`]), e.g.
/// `mbox:mailto:ana@acme.example` or `account:https://lms.acme.example|ana`.
///
/// Parsed from the key itself or from an Agent object; `mailto:` addresses are normalised
/// the way the LRS normalises them (lowercase domain), so the same person has one key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "PersonInput", into = "String")]
pub struct PersonKey(String);

/// A person as written in input: an IFI key string or an xAPI Agent object.
#[derive(Deserialize)]
#[serde(untagged)]
enum PersonInput {
    Key(String),
    Agent(Map<String, Value>),
}

impl TryFrom<PersonInput> for PersonKey {
    type Error = Error;
    fn try_from(input: PersonInput) -> Result<Self> {
        match input {
            PersonInput::Key(key) => PersonKey::parse(&key),
            PersonInput::Agent(agent) => PersonKey::from_agent(&agent).ok_or_else(|| {
                Error::invalid(
                    "",
                    "agent-ifi",
                    "an agent needs an inverse functional identifier",
                )
            }),
        }
    }
}

impl PersonKey {
    /// Parses an IFI key (`mbox:`, `mbox_sha1sum:`, `openid:` or `account:<homePage>|<name>`).
    pub fn parse(key: &str) -> Result<PersonKey> {
        let bad = |what: &str| {
            Error::invalid(
                "",
                "person-key",
                format!(
                    "{what}: expected mbox:mailto:…, mbox_sha1sum:…, openid:… or account:<homePage>|<name>, found {key:?}"
                ),
            )
        };
        check_id_like(key).map_err(|_| bad("not an IFI key"))?;
        let agent: Map<String, Value> = if let Some(mbox) = key.strip_prefix("mbox:") {
            if !mbox.to_ascii_lowercase().starts_with("mailto:") || !mbox.contains('@') {
                return Err(bad("an mbox is a mailto: address"));
            }
            single("mbox", mbox)
        } else if let Some(sum) = key.strip_prefix("mbox_sha1sum:") {
            if sum.len() != 40 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("an mbox_sha1sum is 40 hex digits"));
            }
            single("mbox_sha1sum", sum)
        } else if let Some(openid) = key.strip_prefix("openid:") {
            if openid.is_empty() {
                return Err(bad("an openid is a URI"));
            }
            single("openid", openid)
        } else if let Some(account) = key.strip_prefix("account:") {
            let Some((home_page, name)) = account.split_once('|') else {
                return Err(bad("an account key is account:<homePage>|<name>"));
            };
            if home_page.is_empty() || name.is_empty() {
                return Err(bad("an account has a homePage and a name"));
            }
            let mut inner = Map::new();
            inner.insert("homePage".into(), Value::String(home_page.into()));
            inner.insert("name".into(), Value::String(name.into()));
            let mut agent = Map::new();
            agent.insert("account".into(), Value::Object(inner));
            agent
        } else {
            return Err(bad("unknown kind of identifier"));
        };
        PersonKey::from_agent(&agent).ok_or_else(|| bad("not an IFI key"))
    }

    /// The key of an Agent or identified Group object; `None` without an IFI.
    pub fn from_agent(agent: &Map<String, Value>) -> Option<PersonKey> {
        xapi::ifi_key(agent).map(PersonKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn single(key: &str, value: &str) -> Map<String, Value> {
    let mut agent = Map::new();
    agent.insert(key.into(), Value::String(value.into()));
    agent
}

fn check_id_like(s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 2048 || s.chars().any(char::is_control) {
        return Err(Error::invalid("", "person-key", "not an IFI key"));
    }
    Ok(())
}

impl From<PersonKey> for String {
    fn from(key: PersonKey) -> String {
        key.0
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A proficiency level: an ordinal from 1 to [`MAX_LEVEL`]. Level 0 does not exist; "no
/// level" is `Option<Level>::None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

impl Level {
    pub const MIN: Level = Level(1);

    pub fn new(n: u8) -> Result<Level> {
        if (1..=MAX_LEVEL).contains(&n) {
            Ok(Level(n))
        } else {
            Err(Error::invalid(
                "",
                "level-range",
                format!("a level is an ordinal from 1 to {MAX_LEVEL}, found {n}"),
            ))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Level {
    type Error = Error;
    fn try_from(n: u8) -> Result<Level> {
        Level::new(n)
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level.0
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A positive, finite number of days (half-lives, expiry periods, horizons). Days rather
/// than ISO 8601 durations because `P1M` and `P1Y` have no fixed length.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Days(f64);

impl Days {
    pub fn new(days: f64) -> Result<Days> {
        if days.is_finite() && days > 0.0 && days <= 36_500.0 {
            Ok(Days(days))
        } else {
            Err(Error::invalid(
                "",
                "positive-days",
                format!("a number of days is positive and at most 36500, found {days}"),
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// The same span as a chrono duration (millisecond precision).
    pub fn to_duration(self) -> chrono::Duration {
        // At most 36500 days, so the product fits an i64 of milliseconds.
        chrono::Duration::milliseconds((self.0 * MILLIS_PER_DAY).round() as i64)
    }
}

impl TryFrom<f64> for Days {
    type Error = Error;
    fn try_from(days: f64) -> Result<Days> {
        Days::new(days)
    }
}

impl From<Days> for f64 {
    fn from(days: Days) -> f64 {
        days.0
    }
}

pub(crate) const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// A weight in (0, 1]: how much one evidence item says. Bounded by 1 so that the noisy-OR
/// confidence `1 − Π(1 − s)` stays a fraction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Weight(f64);

impl Weight {
    pub const ONE: Weight = Weight(1.0);

    pub fn new(weight: f64) -> Result<Weight> {
        if weight.is_finite() && weight > 0.0 && weight <= 1.0 {
            Ok(Weight(weight))
        } else {
            Err(Error::invalid(
                "",
                "weight-range",
                format!("a weight is greater than 0 and at most 1, found {weight}"),
            ))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Weight {
    type Error = Error;
    fn try_from(weight: f64) -> Result<Weight> {
        Weight::new(weight)
    }
}

impl From<Weight> for f64 {
    fn from(weight: Weight) -> f64 {
        weight.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_key(input: &str, expected: Result<&str, &str>) {
        let got = PersonKey::parse(input);
        match expected {
            Ok(key) => assert_eq!(got.expect(input).as_str(), key, "{input}"),
            Err(rule) => assert_eq!(got.expect_err(input).rule(), rule, "{input}"),
        }
    }

    #[test]
    fn person_keys() {
        check_key(
            "mbox:mailto:ana@ACME.example",
            Ok("mbox:mailto:ana@acme.example"),
        );
        check_key(
            "mbox:MAILTO:Ana@acme.example",
            Ok("mbox:mailto:Ana@acme.example"),
        );
        check_key(
            "account:https://lms.acme.example|ana",
            Ok("account:https://lms.acme.example|ana"),
        );
        check_key(
            "openid:https://id.example/ana",
            Ok("openid:https://id.example/ana"),
        );
        check_key(
            "mbox_sha1sum:ABCDEF0123456789ABCDEF0123456789ABCDEF01",
            Ok("mbox_sha1sum:abcdef0123456789abcdef0123456789abcdef01"),
        );
        check_key("ana@acme.example", Err("person-key"));
        check_key("mbox:ana@acme.example", Err("person-key"));
        check_key("account:https://lms.acme.example", Err("person-key"));
        check_key("mbox_sha1sum:abc", Err("person-key"));
        check_key("", Err("person-key"));
    }

    #[test]
    fn person_from_json_key_or_agent() {
        let from_key: PersonKey =
            serde_json::from_str(r#""mbox:mailto:ana@Acme.example""#).expect("key");
        let from_agent: PersonKey =
            serde_json::from_str(r#"{"mbox":"mailto:ana@acme.EXAMPLE","name":"Ana"}"#)
                .expect("agent");
        assert_eq!(from_key, from_agent);
        assert!(serde_json::from_str::<PersonKey>(r#"{"name":"nobody"}"#).is_err());
    }

    #[test]
    fn value_types() {
        assert!(Level::new(0).is_err());
        assert!(Level::new(MAX_LEVEL + 1).is_err());
        assert_eq!(Level::new(3).map(Level::get), Ok(3));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1.0000001] {
            assert_eq!(Weight::new(bad).expect_err("weight").rule(), "weight-range");
        }
        for bad in [0.0, -3.0, f64::NAN, 40_000.0] {
            assert_eq!(Days::new(bad).expect_err("days").rule(), "positive-days");
        }
        assert_eq!(
            Days::new(1.5).map(Days::to_duration),
            Ok(chrono::Duration::hours(36))
        );
        assert_eq!(
            CapabilityId::parse("a b").expect_err("space").rule(),
            "id-characters"
        );
        assert_eq!(
            CapabilityId::parse("").expect_err("empty").rule(),
            "non-empty"
        );
    }
}
