//! Credentials and scopes: HTTP Basic key/secret pairs bound to one tenant, secrets kept as
//! argon2 hashes, and a cache so that a known good secret is not re-hashed on every request.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use parking_lot::Mutex;
use rand::Rng as _;
use sha2::{Digest, Sha256};

use crate::statements::Authority;
use crate::storage::{CredentialRecord, StorageError, TenantId, TenantStore};

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
    /// The stored hash that secret verified against: while the credential keeps it, the same
    /// secret needs no second verification.
    secret_hash: String,
    principal: Arc<Principal>,
    checked: Instant,
}

/// How many secrets are verified at once. An argon2 verification (default parameters) holds
/// 19 MiB for some tens of milliseconds: when a burst of requests each verified its secret at
/// once (32 clients whose cache entry had just expired, or a flood of wrong secrets), the
/// server's memory grew by that much per request.
pub const VERIFICATIONS_AT_ONCE: usize = 2;

/// What the authenticator has verified so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationStats {
    /// Secrets checked against their stored hash (argon2 runs).
    pub verified: u64,
    /// The most verifications that ever ran together.
    pub most_at_once: usize,
}

/// Runs argon2 verifications in the blocking pool, at most [`VERIFICATIONS_AT_ONCE`] together.
struct Verifier {
    permits: tokio::sync::Semaphore,
    verified: AtomicU64,
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

impl Verifier {
    fn new() -> Verifier {
        Verifier {
            permits: tokio::sync::Semaphore::new(VERIFICATIONS_AT_ONCE),
            verified: AtomicU64::new(0),
            running: Arc::new(AtomicUsize::new(0)),
            most_at_once: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Checks `secret` against `hash`; the caller holds one of `permits`.
    async fn verify(&self, secret: String, hash: String) -> bool {
        self.verified.fetch_add(1, Ordering::Relaxed);
        let running = self.running.clone();
        let most_at_once = self.most_at_once.clone();
        tokio::task::spawn_blocking(move || {
            let now = running.fetch_add(1, Ordering::AcqRel) + 1;
            most_at_once.fetch_max(now, Ordering::AcqRel);
            let verified = verify_secret(&secret, &hash);
            running.fetch_sub(1, Ordering::AcqRel);
            verified
        })
        .await
        .unwrap_or(false)
    }
}

/// Verifies credentials against the tenant store, remembering good ones for a while.
pub struct Authenticator {
    tenants: Arc<dyn TenantStore>,
    home_page: String,
    cache: Mutex<HashMap<String, CacheEntry>>,
    salt: [u8; 32],
    ttl: Duration,
    verifier: Verifier,
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
            verifier: Verifier::new(),
            versions: Mutex::new(HashMap::new()),
        }
    }

    /// How long a verified credential is served from memory before its record is read
    /// again (to see a revocation or a new secret); 60 s by default.
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Authenticator {
        self.ttl = ttl;
        self
    }

    /// Verifications so far.
    pub fn verification_stats(&self) -> VerificationStats {
        VerificationStats {
            verified: self.verifier.verified.load(Ordering::Relaxed),
            most_at_once: self.verifier.most_at_once.load(Ordering::Relaxed),
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
        // Whether this secret was verified against the hash the credential still has: then
        // an expired entry is renewed without hashing again.
        let verified = || {
            self.cache.lock().get(&key).is_some_and(|entry| {
                entry.digest == digest && entry.secret_hash == record.secret_hash
            })
        };
        // Held until the cache has the result, for the requests waiting on the same secret.
        let mut permit = None;
        if !verified() {
            let Ok(held) = self.verifier.permits.acquire().await else {
                return Ok(Err(AuthError::Invalid));
            };
            // A request for the same secret may have verified it while this one waited.
            if !verified()
                && !self
                    .verifier
                    .verify(secret, record.secret_hash.clone())
                    .await
            {
                return Ok(Err(AuthError::Invalid));
            }
            permit = Some(held);
        }
        let principal = Arc::new(self.principal(&record).await?);
        self.cache.lock().insert(
            key,
            CacheEntry {
                digest,
                secret_hash: record.secret_hash,
                principal: principal.clone(),
                checked: Instant::now(),
            },
        );
        drop(permit);
        Ok(Ok(principal))
    }

    /// The principal a verified credential stands for, with its tenant's current name and
    /// its current scopes.
    async fn principal(&self, record: &CredentialRecord) -> Result<Principal, StorageError> {
        let tenant_name = self
            .tenants
            .tenant(record.tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        Ok(Principal {
            authority: Authority::for_credential(&self.home_page, &record.key),
            key: record.key.clone(),
            tenant: record.tenant,
            tenant_name,
            scopes: record
                .scopes
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            admin: record.admin,
        })
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

    mod authenticator {
        use super::*;
        use crate::clock::{Clock, SystemClock};
        use crate::storage::embedded::{EmbeddedOptions, EmbeddedStore};
        use chrono::Utc;

        const SECRET: &str = "a-secret-of-the-tests";

        /// A real store holding one tenant with one credential (`key`, [`SECRET`]).
        async fn with_credential(
            ttl: Duration,
        ) -> (tempfile::TempDir, Arc<Authenticator>, Arc<EmbeddedStore>) {
            let dir = tempfile::tempdir().expect("tempdir");
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let store = Arc::new(
                EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), clock).expect("open"),
            );
            let tenant = store.create_tenant("acme").await.expect("tenant");
            store
                .create_credential(CredentialRecord {
                    key: "key".to_owned(),
                    tenant: tenant.id,
                    scopes: vec!["all".to_owned()],
                    admin: false,
                    secret_hash: hash_secret(SECRET).expect("hash"),
                    created: Utc::now(),
                    revoked: false,
                })
                .await
                .expect("credential");
            let auth = Arc::new(
                Authenticator::new(store.clone(), "http://lrs.test".to_owned()).with_cache_ttl(ttl),
            );
            (dir, auth, store)
        }

        fn basic(secret: &str) -> String {
            format!("Basic {}", STANDARD.encode(format!("key:{secret}")))
        }

        async fn check(auth: &Authenticator, secret: &str) -> Result<Arc<Principal>, AuthError> {
            auth.authenticate(Some(&basic(secret)))
                .await
                .expect("store")
        }

        /// A cache entry past its time re-reads the credential, but a secret already verified
        /// against the same stored hash is not hashed again.
        #[tokio::test]
        async fn an_expired_entry_is_renewed_without_hashing_again() {
            let (_dir, auth, _store) = with_credential(Duration::from_millis(1)).await;
            for _ in 0..3 {
                check(&auth, SECRET).await.expect("accepted");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(auth.verification_stats().verified, 1);
            assert_eq!(check(&auth, "wrong").await.err(), Some(AuthError::Invalid));
            assert_eq!(auth.verification_stats().verified, 2);
        }

        /// Revoking or replacing a credential is seen when its entry expires, as before.
        #[tokio::test]
        async fn a_renewed_entry_sees_revocation_and_a_new_secret() {
            let (_dir, auth, store) = with_credential(Duration::from_millis(1)).await;
            check(&auth, SECRET).await.expect("accepted");
            let mut record = store
                .credential("key")
                .await
                .expect("read")
                .expect("exists");
            record.secret_hash = hash_secret("the-new-secret").expect("hash");
            store.replace_credential(record).await.expect("replace");
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(check(&auth, SECRET).await.err(), Some(AuthError::Invalid));
            check(&auth, "the-new-secret")
                .await
                .expect("the new secret");
            store.revoke_credential("key").await.expect("revoke");
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(
                check(&auth, "the-new-secret").await.err(),
                Some(AuthError::Invalid)
            );
        }

        /// Each verification holds argon2's 19 MiB: many requests at once, good secrets or
        /// bad, never run more than [`VERIFICATIONS_AT_ONCE`] of them together, and requests
        /// that waited for a verification of their own secret use its result.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn verifications_at_once_are_bounded() {
            let (_dir, auth, _store) = with_credential(Duration::from_secs(60)).await;
            let requests = |secret: &'static str| {
                (0..16)
                    .map(|_| {
                        let auth = auth.clone();
                        tokio::spawn(async move { check(&auth, secret).await.is_ok() })
                    })
                    .collect::<Vec<_>>()
            };
            // Wrong secrets on a cold cache: each is verified, never more than the bound at once.
            for request in requests("wrong") {
                assert!(!request.await.expect("task"));
            }
            let stats = auth.verification_stats();
            assert_eq!(stats.verified, 16);
            assert!(stats.most_at_once <= VERIFICATIONS_AT_ONCE, "{stats:?}");
            // The good secret: the requests that waited use the first verifications' result.
            for request in requests(SECRET) {
                assert!(request.await.expect("task"));
            }
            let stats = auth.verification_stats();
            assert!(
                stats.verified <= 16 + VERIFICATIONS_AT_ONCE as u64,
                "{stats:?}"
            );
            assert!(stats.most_at_once <= VERIFICATIONS_AT_ONCE, "{stats:?}");
        }
    }
}
