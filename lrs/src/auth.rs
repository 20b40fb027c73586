//! Credentials and scopes: HTTP Basic key/secret pairs bound to one tenant, secrets kept as
//! argon2 hashes, and a cache so that a known good secret is not re-hashed on every request.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parking_lot::Mutex;
use rand::Rng as _;
use sha2::{Digest, Sha256};

use crate::statements::Authority;
use crate::storage::{StorageError, TenantId, TenantStore};

/// The xAPI 1.0.3 scopes (Communication §4.2 "OAuth Authorization Scope").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    StatementsWrite,
    StatementsRead,
    StatementsReadMine,
    AllRead,
    All,
    Profile,
    Define,
    State,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::StatementsWrite,
        Scope::StatementsRead,
        Scope::StatementsReadMine,
        Scope::AllRead,
        Scope::All,
        Scope::Profile,
        Scope::Define,
        Scope::State,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::StatementsWrite => "statements/write",
            Scope::StatementsRead => "statements/read",
            Scope::StatementsReadMine => "statements/read/mine",
            Scope::AllRead => "all/read",
            Scope::All => "all",
            Scope::Profile => "profile",
            Scope::Define => "define",
            Scope::State => "state",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scope {0:?}; known scopes: statements/write, statements/read, statements/read/mine, all/read, all, profile, define, state"
)]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(text: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| UnknownScope(text.to_owned()))
    }
}

/// Parses a comma-separated scope list such as `statements/write,statements/read`.
pub fn parse_scopes(text: &str) -> Result<BTreeSet<Scope>, UnknownScope> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Scope::from_str)
        .collect()
}

/// How much of the Statement Resource a principal may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementRead {
    All,
    /// Only statements whose authority is this credential (`statements/read/mine`).
    Mine,
    None,
}

/// Who is making a request, once the credential checked out.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key: String,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub scopes: BTreeSet<Scope>,
    pub admin: bool,
    pub authority: Authority,
}

impl Principal {
    fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::All) || self.scopes.contains(&scope)
    }

    pub fn can_write_statements(&self) -> bool {
        self.has(Scope::StatementsWrite)
    }

    pub fn statement_read(&self) -> StatementRead {
        if self.has(Scope::StatementsRead) || self.has(Scope::AllRead) {
            StatementRead::All
        } else if self.scopes.contains(&Scope::StatementsReadMine) {
            StatementRead::Mine
        } else {
            StatementRead::None
        }
    }

    /// State documents: `state` to write, `state` or `all/read` to read.
    pub fn can_state(&self, write: bool) -> bool {
        self.has(Scope::State) || (!write && self.has(Scope::AllRead))
    }

    /// Whether this credential's statements may change canonical activity definitions.
    pub fn can_define(&self) -> bool {
        self.has(Scope::Define)
    }

    /// The Activities and Agents resources: what the LRS knows of activities and people.
    pub fn can_read_definitions(&self) -> bool {
        [
            Scope::AllRead,
            Scope::Profile,
            Scope::Define,
            Scope::StatementsRead,
        ]
        .into_iter()
        .any(|scope| self.has(scope))
    }

    /// Agent and activity profiles.
    pub fn can_profile(&self, write: bool) -> bool {
        self.has(Scope::Profile) || (!write && self.has(Scope::AllRead))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("credentials are required (HTTP Basic)")]
    Missing,
    #[error("the Authorization header is not valid HTTP Basic")]
    Malformed,
    #[error("the key or secret is wrong, or the credential was revoked")]
    Invalid,
}

/// Hashes a secret for storage (argon2id, random salt, PHC string).
pub fn hash_secret(secret: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&rand::rng().random::<[u8; 16]>())?;
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)?
        .to_string())
}

/// Checks a secret against a stored hash.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A new credential key: 20 random alphanumerics (~119 bits).
pub fn generate_key() -> String {
    random_token(20)
}

/// A new credential secret: 40 random alphanumerics (~238 bits).
pub fn generate_secret() -> String {
    random_token(40)
}

/// Splits an `Authorization: Basic …` header into key and secret.
pub fn parse_basic(header: &str) -> Result<(String, String), AuthError> {
    let (scheme, rest) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AuthError::Malformed);
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .map_err(|_| AuthError::Malformed)?;
    let text = String::from_utf8(decoded).map_err(|_| AuthError::Malformed)?;
    let (key, secret) = text.split_once(':').ok_or(AuthError::Malformed)?;
    Ok((key.to_owned(), secret.to_owned()))
}

struct CacheEntry {
    /// SHA-256 of (process salt ‖ secret) of the secret that verified.
    digest: [u8; 32],
    principal: Arc<Principal>,
    checked: Instant,
}

/// Verifies credentials against the tenant store, remembering good ones for a while.
pub struct Authenticator {
    tenants: Arc<dyn TenantStore>,
    home_page: String,
    cache: Mutex<HashMap<String, CacheEntry>>,
    salt: [u8; 32],
    ttl: Duration,
    /// The xAPI version each credential last spoke, to answer a request that names none.
    versions: Mutex<HashMap<String, xapi::Version>>,
}

impl Authenticator {
    /// `home_page` is the account home page of the authorities this server writes.
    pub fn new(tenants: Arc<dyn TenantStore>, home_page: String) -> Authenticator {
        Authenticator {
            tenants,
            home_page,
            cache: Mutex::new(HashMap::new()),
            salt: rand::rng().random(),
            ttl: Duration::from_secs(60),
            versions: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, secret: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        hasher.update(secret.as_bytes());
        hasher.finalize().into()
    }

    /// Checks an `Authorization` header value.
    pub async fn authenticate(
        &self,
        header: Option<&str>,
    ) -> Result<Result<Arc<Principal>, AuthError>, StorageError> {
        let Some(header) = header else {
            return Ok(Err(AuthError::Missing));
        };
        let (key, secret) = match parse_basic(header) {
            Ok(pair) => pair,
            Err(e) => return Ok(Err(e)),
        };
        let digest = self.digest(&secret);
        if let Some(entry) = self.cache.lock().get(&key)
            && entry.checked.elapsed() < self.ttl
        {
            // Constant-time enough: both are fixed-length digests of salted input.
            return Ok(if entry.digest == digest {
                Ok(entry.principal.clone())
            } else {
                Err(AuthError::Invalid)
            });
        }
        let Some(record) = self.tenants.credential(&key).await? else {
            return Ok(Err(AuthError::Invalid));
        };
        if record.revoked {
            return Ok(Err(AuthError::Invalid));
        }
        let hash = record.secret_hash.clone();
        let verified = tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
            .await
            .unwrap_or(false);
        if !verified {
            return Ok(Err(AuthError::Invalid));
        }
        let tenant_name = self
            .tenants
            .tenant(record.tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let scopes = record
            .scopes
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        let principal = Arc::new(Principal {
            authority: Authority::for_credential(&self.home_page, &record.key),
            key: record.key,
            tenant: record.tenant,
            tenant_name,
            scopes,
            admin: record.admin,
        });
        self.cache.lock().insert(
            key,
            CacheEntry {
                digest,
                principal: principal.clone(),
                checked: Instant::now(),
            },
        );
        Ok(Ok(principal))
    }

    /// Remembers the version an authenticated credential spoke.
    pub fn remember_version(&self, key: &str, version: xapi::Version) {
        let mut versions = self.versions.lock();
        if versions.get(key) != Some(&version) {
            versions.insert(key.to_owned(), version);
        }
    }

    /// The version the credential named in an `Authorization` header last spoke, if any.
    pub fn last_version(&self, header: Option<&str>) -> Option<xapi::Version> {
        let (key, _) = parse_basic(header?).ok()?;
        self.versions.lock().get(&key).copied()
    }

    /// Drops a cached credential, e.g. after it was revoked.
    pub fn forget(&self, key: &str) {
        self.cache.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_reject_unknown() {
        let scopes = parse_scopes("statements/write, statements/read/mine").expect("valid");
        assert_eq!(
            scopes.into_iter().collect::<Vec<_>>(),
            vec![Scope::StatementsWrite, Scope::StatementsReadMine]
        );
        assert_eq!(
            parse_scopes("statements/write,everything"),
            Err(UnknownScope("everything".to_owned()))
        );
    }

    #[test]
    fn secrets_hash_and_verify() {
        let hash = hash_secret("s3cret").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret("s3cret", &hash));
        assert!(!verify_secret("s3cret!", &hash));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    #[test]
    fn basic_header_parsing() {
        let header = format!("Basic {}", STANDARD.encode("key:sec:ret"));
        assert_eq!(
            parse_basic(&header),
            Ok(("key".to_owned(), "sec:ret".to_owned()))
        );
        assert_eq!(parse_basic("Bearer abc"), Err(AuthError::Malformed));
        assert_eq!(parse_basic("Basic !!!"), Err(AuthError::Malformed));
        assert_eq!(
            parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn scope_grants() {
        let principal = |scopes: &[Scope]| Principal {
            key: "k".to_owned(),
            tenant: TenantId(1),
            tenant_name: "t".to_owned(),
            scopes: scopes.iter().copied().collect(),
            admin: false,
            authority: Authority::for_credential("http://h", "k"),
        };
        assert!(principal(&[Scope::All]).can_write_statements());
        assert!(!principal(&[Scope::AllRead]).can_write_statements());
        assert_eq!(
            principal(&[Scope::AllRead]).statement_read(),
            StatementRead::All
        );
        assert_eq!(
            principal(&[Scope::StatementsReadMine]).statement_read(),
            StatementRead::Mine
        );
        assert_eq!(
            principal(&[Scope::StatementsWrite]).statement_read(),
            StatementRead::None
        );
        assert!(principal(&[Scope::AllRead]).can_state(false));
        assert!(!principal(&[Scope::AllRead]).can_state(true));
    }
}
