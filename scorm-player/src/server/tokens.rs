//! Launch tokens: what a learner's browser carries instead of a credential.
//!
//! A token names one registration of one tenant and an expiry, signed with HMAC-SHA-256 under
//! the tenant's launch key (a random key kept in the tenant's records, so every server of a
//! cluster accepts every token). It rides in the launch URL's path so that content, the
//! player API and `sendBeacon` work in any frame without cookies; responses under it carry
//! `Referrer-Policy: no-referrer` and the request log never prints it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::ports::Tenant;

const FORMAT: u8 = 1;
const MAC_LEN: usize = 16;
const BODY_LEN: usize = 1 + 4 + 16 + 8;
const TOKEN_LEN: usize = BODY_LEN + MAC_LEN;

/// What a valid token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchGrant {
    pub tenant: Tenant,
    pub registration: Uuid,
    /// Unix seconds.
    pub expires: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the launch link is malformed")]
    Malformed,
    #[error("the launch link is not valid")]
    BadSignature,
    #[error("the launch link has expired")]
    Expired,
}

/// Reads the tenant from a token without trusting it yet: the key to verify it with is that
/// tenant's.
pub fn peek_tenant(token: &str) -> Result<Tenant, TokenError> {
    let bytes = decode(token)?;
    Ok(Tenant(u32::from_be_bytes(
        bytes[1..5].try_into().map_err(|_| TokenError::Malformed)?,
    )))
}

pub fn sign(key: &[u8], grant: &LaunchGrant) -> String {
    let mut bytes = Vec::with_capacity(TOKEN_LEN);
    bytes.push(FORMAT);
    bytes.extend_from_slice(&grant.tenant.0.to_be_bytes());
    bytes.extend_from_slice(grant.registration.as_bytes());
    bytes.extend_from_slice(&grant.expires.to_be_bytes());
    let mac = mac(key, &bytes);
    bytes.extend_from_slice(&mac[..MAC_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks the signature, then the expiry against `now` (Unix seconds).
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<LaunchGrant, TokenError> {
    let bytes = decode(token)?;
    let (body, tag) = bytes.split_at(BODY_LEN);
    let mut check =
        <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| TokenError::Malformed)?;
    check.update(body);
    check
        .verify_truncated_left(tag)
        .map_err(|_| TokenError::BadSignature)?;
    let grant = LaunchGrant {
        tenant: Tenant(u32::from_be_bytes(
            body[1..5].try_into().map_err(|_| TokenError::Malformed)?,
        )),
        registration: Uuid::from_slice(&body[5..21]).map_err(|_| TokenError::Malformed)?,
        expires: i64::from_be_bytes(body[21..29].try_into().map_err(|_| TokenError::Malformed)?),
    };
    if grant.expires <= now {
        return Err(TokenError::Expired);
    }
    Ok(grant)
}

fn decode(token: &str) -> Result<Vec<u8>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenError::Malformed)?;
    if bytes.len() != TOKEN_LEN || bytes[0] != FORMAT {
        return Err(TokenError::Malformed);
    }
    Ok(bytes)
}

fn mac(key: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> LaunchGrant {
        LaunchGrant {
            tenant: Tenant(7),
            registration: Uuid::from_u128(0x1234),
            expires: 1_000,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let token = sign(b"key", &grant());
        assert_eq!(peek_tenant(&token), Ok(Tenant(7)));
        assert_eq!(verify(b"key", &token, 999), Ok(grant()));
        assert_eq!(verify(b"key", &token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_or_a_changed_byte_is_refused() {
        let token = sign(b"key", &grant());
        assert_eq!(verify(b"other", &token, 0), Err(TokenError::BadSignature));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap_or_default();
        bytes[6] ^= 1;
        let forged = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(verify(b"key", &forged, 0), Err(TokenError::BadSignature));
        assert_eq!(verify(b"key", "short", 0), Err(TokenError::Malformed));
        assert_eq!(verify(b"key", "%%%", 0), Err(TokenError::Malformed));
    }
}
