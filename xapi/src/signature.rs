//! Signed statements (Data §2.6): finding a statement's signature attachments and checking a
//! JWS against the statement it came with. Pure: only what the JWS carries is used; no key,
//! certificate or URL is ever fetched.
//!
//! What [`verify_signature`] checks, in order (the first failure is reported):
//!
//! 1. The JWS is in compact serialization, `header.payload.signature`, each part base64url
//!    (RFC 7515 §7.1). The JSON serialization, which Data §2.6 "strongly discourages", is
//!    refused, as is a header with `crit` (RFC 7515 §4.1.11: no extension is understood here).
//!    → `signature-malformed`.
//! 2. `alg` is `RS256`, `RS384` or `RS512` (Data §2.6 "MUST use"); `HS256`, `none` and every
//!    other value are refused. → `signature-algorithm`.
//! 3. The payload is JSON (strict: no duplicate keys) and a valid statement for the request's
//!    version ("a valid JSON serialization of the complete Statement"). → `signature-malformed`.
//! 4. With an `x5c` header (standard base64 DER certificates, RFC 7515 §4.1.6): the first
//!    certificate must hold an RSA key (1024 to 8192 bits) that verifies the signature over
//!    `header.payload` with RSASSA-PKCS1-v1_5 and the hash `alg` names; and each certificate
//!    whose signature is `sha{256,384,512}WithRSAEncryption` must be signed by the next one in
//!    the chain when that one holds an RSA key. → `signature-invalid` (and
//!    `signature-malformed` when a certificate does not decode).
//!    Links signed otherwise (SHA-1, ECDSA, RSA-PSS) are not checked, nor are validity periods,
//!    key usages or a trust anchor: Data §2.6 says checking against the certificate "is
//!    intended as a way to catch mistakes in the signature, not as a security measure", and
//!    a pure function has neither a clock nor a trust store.
//!    Without `x5c` there is no key to check the signature against (`jwk`, `x5u` and `jku` are
//!    not used: the spec names only X.509 and the LRS fetches nothing), so only the shape of
//!    the signature is checked: the spec requires verification only "if the JWS header
//!    includes an X.509 certificate". The ADL suite sends its RS256/384/512 statements
//!    without `x5c` and expects them accepted.
//! 5. The payload statement is logically equivalent to the received one ([`crate::equivalent`],
//!    Data §2.3.1): the signature attachment the received statement carries is ignored, as are
//!    what the LRS sets and durations below 0.01 s (ADL 2.0 §4.2.7 signs a duration with more
//!    precision than the statement it sends). → `signature-payload-mismatch`.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use rsa::PublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use serde_json::{Map, Value};
use x509_cert::Certificate;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, Encode, Reader, SliceReader};

use crate::{JsonLimits, Statement, ValidationError, Version, parse_json_strict};

/// The usageType of a signature attachment (Data §2.6).
pub const SIGNATURE_USAGE_TYPE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// The contentType a signature attachment must have (Data §2.6).
pub const SIGNATURE_CONTENT_TYPE: &str = "application/octet-stream";

/// Every `rule` name of signed-statement errors, with what it means.
pub const SIGNATURE_RULES: &[(&str, &str)] = &[
    (
        "signature-content-type",
        "a signature attachment's contentType is not application/octet-stream (Data §2.6)",
    ),
    (
        "signature-malformed",
        "the signature is not a JWS compact serialization with a valid statement payload (Data §2.6)",
    ),
    (
        "signature-algorithm",
        "the JWS alg is not RS256, RS384 or RS512 (Data §2.6)",
    ),
    (
        "signature-invalid",
        "the JWS signature or its x5c certificate chain does not verify (Data §2.6, RFC 7515)",
    ),
    (
        "signature-payload-mismatch",
        "the signed statement is not logically equivalent to the received one (Data §2.6, §2.3.1)",
    ),
];

/// A signature attachment object of a statement: where it is and the `sha2` of its part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureAttachment<'a> {
    /// The position in the statement's `attachments`.
    pub index: usize,
    pub sha2: &'a str,
}

/// The signature attachments of a validated statement (usageType
/// `http://adlnet.gov/expapi/attachments/signature`), in order; each must have the contentType
/// `application/octet-stream` (media type compared without parameters, any case), else
/// `signature-content-type` (ADL XAPI-00115 sends `text/plain; charset=ascii`). Paths start at
/// `$`.
pub fn signature_attachments(
    statement: &Map<String, Value>,
) -> Result<Vec<SignatureAttachment<'_>>, ValidationError> {
    let Some(Value::Array(list)) = statement.get("attachments") else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for (index, attachment) in list.iter().enumerate() {
        if attachment.get("usageType").and_then(Value::as_str) != Some(SIGNATURE_USAGE_TYPE) {
            continue;
        }
        let content_type = attachment
            .get("contentType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case(SIGNATURE_CONTENT_TYPE) {
            return Err(ValidationError {
                path: format!("$.attachments[{index}].contentType"),
                rule: "signature-content-type",
                message: format!(
                    "a signature attachment must be {SIGNATURE_CONTENT_TYPE}, not {content_type:?}"
                ),
            });
        }
        let sha2 = attachment
            .get("sha2")
            .and_then(Value::as_str)
            .unwrap_or_default();
        found.push(SignatureAttachment { index, sha2 });
    }
    Ok(found)
}

/// Checks the JWS of a signature attachment (the raw bytes of its part) against the statement
/// it came with, as received and validated for `version` (Data §2.6 "LRS Requirements"); see
/// the module documentation for each step and its rule.
///
/// Error paths start at `$` and name the signature attachment whose `sha2` is the JWS's hash
/// (`$.attachments[i]`); in a batch, put the statement's index in front (`$[k].attachments[i]`).
pub fn verify_signature(
    statement: &Map<String, Value>,
    jws: &[u8],
    version: Version,
) -> Result<(), ValidationError> {
    let path = attachment_path(statement, jws);
    let fail = |rule: &'static str, message: String| ValidationError {
        path: path.clone(),
        rule,
        message,
    };
    let malformed = |message: String| fail("signature-malformed", message);

    let text = std::str::from_utf8(jws)
        .map_err(|_| malformed("the signature is not a jws compact serialization".to_owned()))?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    if text.starts_with('{') {
        return Err(malformed(
            "the jws json serialization is not supported; use the compact serialization (Data §2.6)"
                .to_owned(),
        ));
    }
    let segments: Vec<&str> = text.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = segments[..] else {
        return Err(malformed(format!(
            "a jws compact serialization has 3 parts separated by dots, not {}",
            segments.len()
        )));
    };
    let signing_input = &text[..header_b64.len() + 1 + payload_b64.len()];

    let header = base64url(header_b64)
        .ok()
        .and_then(|bytes| parse_json_strict(&bytes, JsonLimits::default()).ok());
    let Some(Value::Object(header)) = header else {
        return Err(malformed(
            "the jws header is not a base64url-encoded json object".to_owned(),
        ));
    };
    if header.contains_key("crit") {
        return Err(malformed(
            "the jws header lists critical extensions (crit), which this server does not support"
                .to_owned(),
        ));
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        Some(other) => {
            return Err(fail(
                "signature-algorithm",
                format!("the jws alg must be RS256, RS384 or RS512, not {other}"),
            ));
        }
        None => {
            return Err(fail(
                "signature-algorithm",
                "the jws header has no alg; it must be RS256, RS384 or RS512".to_owned(),
            ));
        }
    };
    let hash = match alg {
        "RS256" => RsaHash::Sha256,
        "RS384" => RsaHash::Sha384,
        "RS512" => RsaHash::Sha512,
        other => {
            return Err(fail(
                "signature-algorithm",
                format!("the jws alg must be RS256, RS384 or RS512, not {other:?}"),
            ));
        }
    };
    let signature = match base64url(signature_b64) {
        Ok(bytes) if !bytes.is_empty() => bytes,
        _ => {
            return Err(malformed(
                "the jws signature is not a non-empty base64url value".to_owned(),
            ));
        }
    };

    let payload = base64url(payload_b64)
        .map_err(|_| malformed("the jws payload is not base64url".to_owned()))?;
    let payload = parse_json_strict(&payload, JsonLimits::default()).map_err(|e| {
        malformed(format!(
            "the jws payload is not a json serialization of a statement: {e}"
        ))
    })?;
    let payload = Statement::parse(payload, version, "$")
        .map_err(|e| malformed(format!("the jws payload is not a valid statement: {e}")))?
        .into_json();

    if let Some(x5c) = header.get("x5c") {
        let chain = certificates(x5c).map_err(malformed)?;
        verify_with_chain(&chain, hash, signing_input.as_bytes(), &signature)
            .map_err(|message| fail("signature-invalid", message))?;
    }

    if !crate::equivalent(statement, &payload) {
        return Err(fail(
            "signature-payload-mismatch",
            "the signed statement (the jws payload) is not logically equivalent to the statement received"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The hash of an RSASSA-PKCS1-v1_5 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RsaHash {
    Sha256,
    Sha384,
    Sha512,
}

/// One certificate of `x5c`: its DER (whose TBSCertificate bytes its signature covers) and
/// its decoded form.
struct ChainCertificate {
    der: Vec<u8>,
    decoded: Certificate,
}

const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// The longest `x5c` chain accepted: each link costs an RSA verification.
const MAX_CHAIN: usize = 10;

/// JWS segments are base64url without padding (RFC 7515 §2); padding is tolerated.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `x5c` certificates are standard base64, not base64url (RFC 7515 §4.1.6).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn base64url(segment: &str) -> Result<Vec<u8>, base64::DecodeError> {
    BASE64URL.decode(segment)
}

/// `$.attachments[i]` for the signature attachment whose sha2 is the hash of `jws` (or the
/// first signature attachment), else `$.attachments`.
fn attachment_path(statement: &Map<String, Value>, jws: &[u8]) -> String {
    let Some(Value::Array(list)) = statement.get("attachments") else {
        return "$.attachments".to_owned();
    };
    let is_signature =
        |a: &Value| a.get("usageType").and_then(Value::as_str) == Some(SIGNATURE_USAGE_TYPE);
    let hashes_to = |a: &Value| {
        a.get("sha2")
            .and_then(Value::as_str)
            .and_then(|sha2| sha2_hex(sha2.len(), jws).map(|h| h.eq_ignore_ascii_case(sha2)))
            .unwrap_or(false)
    };
    list.iter()
        .position(|a| is_signature(a) && hashes_to(a))
        .or_else(|| list.iter().position(is_signature))
        .map_or_else(
            || "$.attachments".to_owned(),
            |i| format!("$.attachments[{i}]"),
        )
}

/// The SHA-2 of `bytes` as hex, with the function whose hex digest has `hex_len` digits.
fn sha2_hex(hex_len: usize, bytes: &[u8]) -> Option<String> {
    Some(match hex_len {
        56 => hex::encode(Sha224::digest(bytes)),
        64 => hex::encode(Sha256::digest(bytes)),
        96 => hex::encode(Sha384::digest(bytes)),
        128 => hex::encode(Sha512::digest(bytes)),
        _ => return None,
    })
}

/// Decodes `x5c`: a non-empty array of base64 DER certificates.
fn certificates(x5c: &Value) -> Result<Vec<ChainCertificate>, String> {
    let Value::Array(items) = x5c else {
        return Err("the jws x5c header must be an array of base64 certificates".to_owned());
    };
    if items.is_empty() {
        return Err("the jws x5c header is empty".to_owned());
    }
    if items.len() > MAX_CHAIN {
        return Err(format!(
            "the jws x5c header has {} certificates; at most {MAX_CHAIN} are accepted",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let der = item
                .as_str()
                .and_then(|s| BASE64.decode(s).ok())
                .ok_or_else(|| format!("x5c[{i}] is not a base64 string"))?;
            let decoded = Certificate::from_der(&der)
                .map_err(|e| format!("x5c[{i}] is not a der x.509 certificate: {e}"))?;
            Ok(ChainCertificate { der, decoded })
        })
        .collect()
}

/// Step 4 of the module documentation.
fn verify_with_chain(
    chain: &[ChainCertificate],
    hash: RsaHash,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let Some(first) = chain.first() else {
        return Err("the jws x5c header is empty".to_owned());
    };
    let key = rsa_key(first).ok_or_else(|| {
        "the first x5c certificate does not hold an rsa key of 1024 to 8192 bits".to_owned()
    })?;
    let verified = match hash {
        RsaHash::Sha256 => key.pkcs1v15_verify::<Sha256>(signing_input, signature),
        RsaHash::Sha384 => key.pkcs1v15_verify::<Sha384>(signing_input, signature),
        RsaHash::Sha512 => key.pkcs1v15_verify::<Sha512>(signing_input, signature),
    };
    if verified.is_err() {
        return Err(
            "the jws signature does not verify with the key of the first x5c certificate"
                .to_owned(),
        );
    }
    for (i, pair) in chain.windows(2).enumerate() {
        let (subject, issuer) = (&pair[0], &pair[1]);
        let link_hash = match subject.decoded.signature_algorithm().oid {
            SHA256_WITH_RSA => RsaHash::Sha256,
            SHA384_WITH_RSA => RsaHash::Sha384,
            SHA512_WITH_RSA => RsaHash::Sha512,
            // Not checkable with RSA and SHA-2 here; see the module documentation.
            _ => continue,
        };
        let Some(issuer_key) = rsa_key(issuer) else {
            continue;
        };
        let checked = match (
            tbs_bytes(&subject.der),
            subject.decoded.signature().as_bytes(),
        ) {
            (Some(tbs), Some(cert_signature)) => match link_hash {
                RsaHash::Sha256 => issuer_key.pkcs1v15_verify::<Sha256>(tbs, cert_signature),
                RsaHash::Sha384 => issuer_key.pkcs1v15_verify::<Sha384>(tbs, cert_signature),
                RsaHash::Sha512 => issuer_key.pkcs1v15_verify::<Sha512>(tbs, cert_signature),
            }
            .is_ok(),
            _ => false,
        };
        if !checked {
            return Err(format!(
                "x5c[{i}] is not signed by the next certificate of the chain, x5c[{}]",
                i + 1
            ));
        }
    }
    Ok(())
}

/// The RSA public key of a certificate, if it holds one the `rsa` crate accepts.
fn rsa_key(certificate: &ChainCertificate) -> Option<PublicKey> {
    let spki = certificate
        .decoded
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .ok()?;
    PublicKey::from_public_key_der(&spki).ok()
}

/// The TBSCertificate exactly as encoded in the certificate, which is what its signature
/// covers (RFC 5280 §4.1.1.3), rather than a re-encoding of the decoded value.
fn tbs_bytes(certificate_der: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(certificate_der).ok()?;
    reader
        .sequence(|r| {
            let tbs = r.tlv_bytes()?;
            r.tlv_bytes()?;
            r.tlv_bytes()?;
            Ok::<_, x509_cert::der::Error>(tbs)
        })
        .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rsa::PrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use serde_json::json;

    use crate::Version::{V1_0_3, V2_0_0};

    /// Test vectors made for these tests with OpenSSL 3.0 (2048-bit RSA keys, SHA-256
    /// certificates valid until 2126): `leaf` is signed by `ca`; `other` is an unrelated
    /// self-signed certificate; `ec` is a P-256 CA that signed `leaf_ec`, a second certificate
    /// for the leaf key. The JWS signatures below are made with `LEAF_KEY`.
    const LEAF_CERT: &str = "
        MIICwzCCAasCFEU2GrYFWacH2A7KfwRbCCrPmR+PMA0GCSqGSIb3DQEBCwUAMBsxGTAXBgNVBAMMEFByb2ZpY2lvIFRlc3Qg
        Q0EwIBcNMjYxMTIzMjAyNjI2WhgPMjEyNjEwMzAyMDI2MjZaMB8xHTAbBgNVBAMMFFByb2ZpY2lvIFRlc3QgU2lnbmVyMIIB
        IjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsz00Z0AOZbq2kFb2xcj7pP5cSvM3eDd0Ns61330c9VK1ZT0O7d55Aa1/
        nkPj2Ju++Ef6XS1lvGODFwxkyWURRg9fT6LteQsWl9UKw/GihPFqYRf4Zj8CpmO5lW8nkaYkh2dxAb3I5/arjPmOIT82OSyP
        Qx2qCF128kNuTftsuI1RIo6Uazu3B/56QAQo1GjLkB4VooKcxNDl/Z7pZhU2js/UZ5daV2/MbymaRy1RYssT7B1WqK1QNGib
        Ld2k7OVYVz5S4ODOzHSob4KSXdN8QIWBYsdyu11P1/4ARLsPgMZwC9z2uptZOTZDYwRc7L1EVHeJfQdbqAwSqPMemth1dQID
        AQABMA0GCSqGSIb3DQEBCwUAA4IBAQCTN6phK1073cIAX7FjY8HHc2YjPfraSYJ2mbf+ltJMj/ty/5zoxCfstogUYpJVDG/e
        9mbel1sfSBHiF5ZKUcAcEKGMThBmoVyYsx5Z87HzLdvIKLhAxsfQjtAQWfkCT+8oLlE0IoWje1zTuSQ7PryKcMMb26kz0HeR
        avAFM5LaeqjGzUorNBrG3dttUhLKXXMU57LZOZLE+BRsUr7t2TUWqn9L7ryvTyR9s85YS1IJTx9WEnhxNPfzEmvECKlE0dBn
        LpcwcDgY0uEb1BGEYdZ7IiRF5Q9WcZvYYBs2AXy1s3UKPIF4yZB1S7a3/SuRzxVelTdnYygZUTOYuAMHMSKN
    ";
    const CA_CERT: &str = "
        MIIDGTCCAgGgAwIBAgIURp1ephqsObAm4AZm7fOjYlglT0kwDQYJKoZIhvcNAQELBQAwGzEZMBcGA1UEAwwQUHJvZmljaW8g
        VGVzdCBDQTAgFw0yNjExMjMyMDI2MjZaGA8yMTI2MTAzMDIwMjYyNlowGzEZMBcGA1UEAwwQUHJvZmljaW8gVGVzdCBDQTCC
        ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAM70c8fLnzqGp9GcZIYEj0kTU6nbCkCdgfYrM+Q9WUxAFd31hX94F5U2
        pQKC1yC072MKPi0Cg8ELMdhlBorJXeAew7XDMI/foTD18cSjUJJj7KVqjXedYK1mU/jnhyGxrmO/2A5iXYZOZGR6u5F51K99
        0XUlsra8h86U0IUqx+0fv6jeVqf0GWQ9kwUEJVVleWHWOl3ffz7ZjQYfal2PFjH2ZxRTs4C6UPNLJGXlNSgiJxZ1MfERowDQ
        uun2mbFrPG/k2j6CUxTD45R+X3caoU85YdcRJl0edCC/D6G89SzbSjRXuXCh5vqB6nUb3PEbE5u62AMLr/YcOrGXb9/XeesC
        AwEAAaNTMFEwHQYDVR0OBBYEFNzY6faGughrLQsnQGTO6i9v2/86MB8GA1UdIwQYMBaAFNzY6faGughrLQsnQGTO6i9v2/86
        MA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBAGE6NtOQzjTtsHMkyGtnfD8PR+6cZa66Uccz7oZs6bE2LeVl
        w29GlRu8o5U7qJiCIJ/Eg0lnUruI1kfe+Yo5I4HSbC6gA7nBWrTNkZPY/FjWlsmnBmB+kSaRk0xVcO1LSk6xeXYO3Wn4PhsZ
        Ej5jCA6Y3Yqfm5PfUWMTI3Rq8OABkCXxzMd10N5wq6KkWjpWG+/eKbxA4QLI6HK5HZrNVgJ4k1vDwOoiAAGoT2Er+f0NaGOu
        mEiahD08/l9mUjlel5RAURBF65ZsR06v3E9lw5S+Mb6GrK83RXS/VwECXZMgwiaxZGnh8An9EisfC3/vFYa7I7fwTf6rmQ2X
        kGMX2G0=
    ";
    const OTHER_CERT: &str = "
        MIIDHTCCAgWgAwIBAgIUO6y9abGUJINUgboAXF7w7FykW2AwDQYJKoZIhvcNAQELBQAwHTEbMBkGA1UEAwwSUHJvZmljaW8g
        VW5yZWxhdGVkMCAXDTI2MTEyMzIwMjYyOFoYDzIxMjYxMDMwMjAyNjI4WjAdMRswGQYDVQQDDBJQcm9maWNpbyBVbnJlbGF0
        ZWQwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCe0hi6o3rKYlZ82MFuqB06psehWEgpyDUje5upM2fqk5AE1Hy+
        bJR1YrtVlSauAUxBmtVAsvDLD0DV5Vg5xT1Y5ukEjoSlB7WtsvvNxqAmSdfFbSzZ8yro9HDzB9NAaDIsJm3PiYbbfA/fA/yP
        JL4XvJdct/3tgjpspX+sUnTrEFetHKeTgK7J1obH3GcCk0IlmUokN4USIvZ2p4YU1mvRiWsNBzFbFq5BfO1yyUcz4s1qshBu
        pwbBuDtxf5Gv+c2mgcGfz+pzOHy1SuDwkD2VDRiGdVDGnjiCpM4iy3A4IXtWiaeb0wIfsPIABw415MAs5lC7a9hFxFwuVexR
        nm5XAgMBAAGjUzBRMB0GA1UdDgQWBBS8QDBIoUBdkyqJSHayNK/koPaJ6zAfBgNVHSMEGDAWgBS8QDBIoUBdkyqJSHayNK/k
        oPaJ6zAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBau5hM05NC/vW8/IWLr5QO1B7GqIyJDeW1D07FEnLv
        +c3/dUrFphuC7BLfbtASSGEgQjNhYWDFHr1dGymm43mR4raT04f3oxr+m3EWfMU4Iz+EsPmECskl07NulAfHyHCMWeKtJiDl
        Z423K1y0LUTlqzwmL/Tsu/DEOrQsLoFitOe0xG3CS/TE9mWanSRoplmVohnoZc6lovWV/rr6rhmLa6APTijG34fWzUx+Z5l1
        ul1VTCs5Z/wzxEyCmHZCj055HPmGdg8vd9pIdFcQMeHHwXJPm/srVh+A+bNmIkwViArD+vZjq/7gfXe3Neizh5wCP4MjGu95
        t7edOOZsZIPR
    ";
    const EC_CERT: &str = "
        MIIBijCCAS+gAwIBAgIUDSnWAE8k+st+4QeUPfturNJbACUwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOUHJvZmljaW8gRUMg
        Q0EwIBcNMjYxMTIzMjAyNjMyWhgPMjEyNjEwMzAyMDI2MzJaMBkxFzAVBgNVBAMMDlByb2ZpY2lvIEVDIENBMFkwEwYHKoZI
        zj0CAQYIKoZIzj0DAQcDQgAEBwW25k3IlQaG/JzOpq8OpQGrAb/1bt4b9sf+dI4xSERbJCZ/w8r2fKODCwELsumBZ6HeSGiU
        5Tp2K+fnzpKzZaNTMFEwHQYDVR0OBBYEFEhCzb3PDrtND9noX9h/T+JsPR+2MB8GA1UdIwQYMBaAFEhCzb3PDrtND9noX9h/
        T+JsPR+2MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAPQmQdAdVsH2hkO/atWUKfsvUgX6+7Pnkg52ru47
        7Pq/AiEAh3TY/Hjj+zsgN3EJYGIY7iAawwdgSYpHtLEuwKmhBGg=
    ";
    const LEAF_EC_CERT: &str = "
        MIICATCCAaYCFFzy7A3nqkYK2yrkHDdbB5D1ttu7MAoGCCqGSM49BAMCMBkxFzAVBgNVBAMMDlByb2ZpY2lvIEVDIENBMCAX
        DTI2MTEyMzIwMjYzMloYDzIxMjYxMDMwMjAyNjMyWjAfMR0wGwYDVQQDDBRQcm9maWNpbyBUZXN0IFNpZ25lcjCCASIwDQYJ
        KoZIhvcNAQEBBQADggEPADCCAQoCggEBALM9NGdADmW6tpBW9sXI+6T+XErzN3g3dDbOtd99HPVStWU9Du3eeQGtf55D49ib
        vvhH+l0tZbxjgxcMZMllEUYPX0+i7XkLFpfVCsPxooTxamEX+GY/AqZjuZVvJ5GmJIdncQG9yOf2q4z5jiE/Njksj0Mdqghd
        dvJDbk37bLiNUSKOlGs7twf+ekAEKNRoy5AeFaKCnMTQ5f2e6WYVNo7P1GeXWldvzG8pmkctUWLLE+wdVqitUDRomy3dpOzl
        WFc+UuDgzsx0qG+Ckl3TfECFgWLHcrtdT9f+AES7D4DGcAvc9rqbWTk2Q2MEXOy9RFR3iX0HW6gMEqjzHprYdXUCAwEAATAK
        BggqhkjOPQQDAgNJADBGAiEAzfBy1Alu0VaeQomT+KN2DsCmI+P07/54o7/L9LY4x9wCIQCOcNZjO3wl2VSyn6pQD8HmNNiv
        hk6fxQhrp6eByxZ0QA==
    ";
    const LEAF_KEY: &str = "
        MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCzPTRnQA5luraQ
        VvbFyPuk/lxK8zd4N3Q2zrXffRz1UrVlPQ7t3nkBrX+eQ+PYm774R/pdLWW8Y4MX
        DGTJZRFGD19Pou15CxaX1QrD8aKE8WphF/hmPwKmY7mVbyeRpiSHZ3EBvcjn9quM
        +Y4hPzY5LI9DHaoIXXbyQ25N+2y4jVEijpRrO7cH/npABCjUaMuQHhWigpzE0OX9
        nulmFTaOz9Rnl1pXb8xvKZpHLVFiyxPsHVaorVA0aJst3aTs5VhXPlLg4M7MdKhv
        gpJd03xAhYFix3K7XU/X/gBEuw+AxnAL3Pa6m1k5NkNjBFzsvURUd4l9B1uoDBKo
        8x6a2HV1AgMBAAECggEAFA4kH+1t7voOVWY1pHnRlmuTnhtKuJvT2BIXDZOtOtHv
        VA2Z7wm2lnZ4UhgclW8P1i4PmH9s48BquZh8aoBxh1pO+tUrJyETfResZbJS0fdF
        ROnutFoWjNGZwVu3nLdvXOs5HM3Efhf+p/6AZb3x7kHLIeJe1SLIHWFoJTeduaR+
        CdQdik+S7YtyYao1nnUZHd4zmbfnR4EptdZLOENHkdIeoLPZ5Kk9EYfV6Z1i1Mqq
        mr1s3SM+IkIaj3a6mj1YxGV5hm1cn+el/+3XkmLtr5hA4w4NdEau1M9FTyBMfTY3
        vOSEpIxj7wHZsrswH82nMrII4kIrsMvPMnHTmf88oQKBgQDxRa3zEWN0voKjOOoP
        nKtDip0sDXX/e5i9NzZsGNlYvoM6ofyiJ9eaURCQSTVkLg2e1TPTtRfhq9SBZ12p
        0PlRoPlgRgUDBms9Qa+6o7OZEyWvTmOSjMqPjLVa0KHyyj1KS52btI2CY3pMgMst
        XDEzErqKd6dGCk/L6T/MnONOuQKBgQC+LiTnFm2iJcq9m97hTW4FCa6GOq7POpx8
        LThPjJ08+gdAncErlS4TpgsYHXt9RrOiNv54xdjVtkSvautLQ9yPgEEKWPxvh78h
        z76uhkPF52Fo4g0R6w0b/LsvIJr+Sbq47jdFwr6/62vay5IA7J1HQF5eNlF1aYbL
        HwprujOenQKBgBo2R7+wk+2LBQZWmJc5niGoXYr7q2YmN2HXLcJwsKxDhl5IWvoC
        +hl51SLX0UUg+7nVz9ugQQfzcxLb+AELAwsrQeyDrue1OtFc4YqVXl2zBtUU3xx8
        z0TpNIq5P97wudfofyb7ZqRTymWlWG2FJpM15a5FcZbaZ/DvVk8UfF2BAoGAbtHa
        xSHnnr3g5x4mASmqe5sJrMQTS0Q/HYkIMCqjEX4srbV/c9MJN3/hJRtA8144nMTp
        Ah1f3iDI42MtWv1fT+uPeuUhrCfw81XoKjCo23CZ7ZETxqYuTGm39Z1NU/JIsSx2
        3tq9Zn5bqfJH0OwQNg3HL6T9UKq+VixvWRj2rW0CgYAmg0LcdiJdlQqUwXR+rbJF
        HZuhW7ATB7j0dpW25D+ieEv2n1fi/usbUfGRYmKOx5tNiOoHKPc8eCNAz4tDRK8M
        orFcom1mzwodgfLTfdebAopMOXZSaSWRh045ohGJluiKfcRLJlA2MddsTwUU6oOP
        ruXQ8b7V328X+iJ18jvxVw==
    ";

    fn compact(text: &str) -> String {
        text.split_whitespace().collect()
    }

    fn b64url(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn leaf_key() -> PrivateKey {
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact(LEAF_KEY))
            .unwrap();
        PrivateKey::from_pkcs8_der(&der).unwrap()
    }

    /// A compact JWS of `payload` with `header`, signed with the leaf key under `alg` (an
    /// RS alg) or with garbage for anything else.
    fn sign(header: &Value, payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload)
        );
        let key = leaf_key();
        let signature = match header["alg"].as_str() {
            Some("RS256") => key.pkcs1v15_sign::<Sha256>(input.as_bytes()).unwrap(),
            Some("RS384") => key.pkcs1v15_sign::<Sha384>(input.as_bytes()).unwrap(),
            Some("RS512") => key.pkcs1v15_sign::<Sha512>(input.as_bytes()).unwrap(),
            // An HMAC or anything else: the bytes do not matter, the alg is refused first.
            _ => Sha256::digest(input.as_bytes()).to_vec(),
        };
        format!("{input}.{}", b64url(&signature))
    }

    fn statement() -> Map<String, Value> {
        json!({
            "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
            "actor": {"objectType": "Agent", "name": "A", "mbox": "mailto:a@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
            "object": {"id": "http://example.com/activities/signed"},
            "result": {"duration": "P1DT12H36M0.12S"},
            "timestamp": "2013-04-01T12:00:00Z"
        })
        .as_object()
        .unwrap()
        .clone()
    }

    /// The statement as received: the signed one plus its signature attachment.
    fn received(signed: &Map<String, Value>, jws: &str, content_type: &str) -> Map<String, Value> {
        let mut statement = signed.clone();
        statement.insert(
            "attachments".to_owned(),
            json!([
                {
                    "usageType": "http://example.com/other",
                    "display": {"en-US": "other"},
                    "contentType": "text/plain",
                    "length": 1,
                    "sha2": "0000000000000000000000000000000000000000000000000000000000000000"
                },
                {
                    "usageType": SIGNATURE_USAGE_TYPE,
                    "display": {"en-US": "Signature"},
                    "contentType": content_type,
                    "length": jws.len(),
                    "sha2": hex::encode(Sha256::digest(jws.as_bytes()))
                }
            ]),
        );
        statement
    }

    fn payload(statement: &Map<String, Value>) -> Vec<u8> {
        serde_json::to_vec(statement).unwrap()
    }

    fn check(
        statement: &Map<String, Value>,
        jws: &str,
        version: Version,
    ) -> Result<(), &'static str> {
        let outcome = verify_signature(statement, jws.as_bytes(), version);
        if let Err(e) = &outcome {
            assert_eq!(e.path, "$.attachments[1]", "{e}");
        }
        outcome.map_err(|e| e.rule)
    }

    fn x5c(certs: &[&str]) -> Value {
        Value::Array(certs.iter().map(|c| Value::String(compact(c))).collect())
    }

    #[test]
    fn rs256_rs384_rs512_are_accepted() {
        let signed = statement();
        for alg in ["RS256", "RS384", "RS512"] {
            for header in [
                json!({"alg": alg}),
                json!({"alg": alg, "typ": "JWT", "x5c": x5c(&[LEAF_CERT, CA_CERT])}),
                json!({"alg": alg, "x5c": x5c(&[LEAF_CERT])}),
            ] {
                let jws = sign(&header, &payload(&signed));
                let statement = received(&signed, &jws, SIGNATURE_CONTENT_TYPE);
                for version in [V1_0_3, V2_0_0] {
                    assert_eq!(check(&statement, &jws, version), Ok(()), "{header}");
                }
            }
        }
    }

    #[test]
    fn other_algorithms_are_refused() {
        let signed = statement();
        for header in [
            json!({"alg": "HS256"}),
            json!({"alg": "none"}),
            json!({"alg": "PS256"}),
            json!({"alg": "ES256"}),
            json!({"alg": "rs256"}),
            json!({"alg": 256}),
            json!({"typ": "JWT"}),
        ] {
            let jws = sign(&header, &payload(&signed));
            let statement = received(&signed, &jws, SIGNATURE_CONTENT_TYPE);
            assert_eq!(
                check(&statement, &jws, V2_0_0),
                Err("signature-algorithm"),
                "{header}"
            );
        }
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let signed = statement();
        let good = sign(&json!({"alg": "RS256"}), &payload(&signed));
        let parts: Vec<&str> = good.split('.').collect();
        let header = parts[0];
        // The ADL suite's "bad JWS": the payload's first quote replaced by an apostrophe.
        let broken_json = String::from_utf8(payload(&signed))
            .unwrap()
            .replacen('"', "'", 1);
        let cases: Vec<String> = vec![
            String::new(),
            "garbage".to_owned(),
            "a.b".to_owned(),
            format!("{good}.extra"),
            format!("{{\"payload\":\"{}\",\"signatures\":[]}}", parts[1]),
            format!("!!!.{}.{}", parts[1], parts[2]),
            format!("{}.{}.{}", b64url(b"not json"), parts[1], parts[2]),
            format!("{}.{}.{}", b64url(b"[1]"), parts[1], parts[2]),
            format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"RS256","alg":"RS256"}"#),
                parts[1],
                parts[2]
            ),
            format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"RS256","crit":["b64"],"b64":false}"#),
                parts[1],
                parts[2]
            ),
            format!("{header}.{}.", parts[1]),
            format!("{header}.{}.%%%", parts[1]),
            format!("{header}.***.{}", parts[2]),
            format!("{header}.{}.{}", b64url(b"not json"), parts[2]),
            sign(&json!({"alg": "RS256"}), broken_json.as_bytes()),
            sign(&json!({"alg": "RS256"}), b"[]"),
            // Valid JSON, but not a valid statement.
            sign(
                &json!({"alg": "RS256"}),
                br#"{"actor":{"mbox":"a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}}"#,
            ),
            sign(&json!({"alg": "RS256", "x5c": "MIIB"}), &payload(&signed)),
            sign(&json!({"alg": "RS256", "x5c": []}), &payload(&signed)),
            sign(&json!({"alg": "RS256", "x5c": [1]}), &payload(&signed)),
            sign(&json!({"alg": "RS256", "x5c": ["!!"]}), &payload(&signed)),
            sign(&json!({"alg": "RS256", "x5c": ["AAAA"]}), &payload(&signed)),
            sign(
                &json!({"alg": "RS256", "x5c": x5c(&[LEAF_CERT; 11])}),
                &payload(&signed),
            ),
        ];
        for jws in &cases {
            let statement = received(&signed, jws, SIGNATURE_CONTENT_TYPE);
            assert_eq!(
                check(&statement, jws, V2_0_0),
                Err("signature-malformed"),
                "{jws}"
            );
        }
        let statement = received(&signed, "x", SIGNATURE_CONTENT_TYPE);
        let not_utf8 = verify_signature(&statement, &[0xff, 0x2e, 0xfe], V2_0_0).unwrap_err();
        assert_eq!(not_utf8.rule, "signature-malformed");
    }

    #[test]
    fn signatures_are_checked_against_x5c() {
        let signed = statement();
        let body = payload(&signed);
        // Surrounding whitespace and base64 padding are tolerated.
        let jws = format!(
            "{}\r\n",
            sign(&json!({"alg": "RS256", "x5c": x5c(&[LEAF_CERT])}), &body)
        );
        assert_eq!(
            check(
                &received(&signed, &jws, SIGNATURE_CONTENT_TYPE),
                &jws,
                V2_0_0
            ),
            Ok(())
        );
        // An RSA leaf under an EC CA: the leaf key is checked, the ECDSA link is not.
        let jws = sign(
            &json!({"alg": "RS512", "x5c": x5c(&[LEAF_EC_CERT, EC_CERT])}),
            &body,
        );
        assert_eq!(
            check(
                &received(&signed, &jws, SIGNATURE_CONTENT_TYPE),
                &jws,
                V2_0_0
            ),
            Ok(())
        );
        let refused = [
            // The first certificate's key did not make the signature.
            json!({"alg": "RS256", "x5c": x5c(&[OTHER_CERT])}),
            json!({"alg": "RS256", "x5c": x5c(&[CA_CERT, LEAF_CERT])}),
            // The chain is broken: the leaf is not signed by the second certificate.
            json!({"alg": "RS256", "x5c": x5c(&[LEAF_CERT, OTHER_CERT])}),
            json!({"alg": "RS384", "x5c": x5c(&[LEAF_CERT, CA_CERT, OTHER_CERT])}),
            // The first certificate holds no RSA key.
            json!({"alg": "RS256", "x5c": x5c(&[EC_CERT])}),
        ];
        for header in refused {
            let jws = sign(&header, &body);
            let statement = received(&signed, &jws, SIGNATURE_CONTENT_TYPE);
            assert_eq!(
                check(&statement, &jws, V2_0_0),
                Err("signature-invalid"),
                "{header}"
            );
        }
        // A tampered payload or signature fails verification when there is a certificate.
        let jws = sign(&json!({"alg": "RS256", "x5c": x5c(&[LEAF_CERT])}), &body);
        let parts: Vec<&str> = jws.split('.').collect();
        let mut other = signed.clone();
        other.insert(
            "verb".to_owned(),
            json!({"id": "http://example.com/tampered"}),
        );
        let tampered_payload = format!("{}.{}.{}", parts[0], b64url(&payload(&other)), parts[2]);
        let statement = received(&other, &tampered_payload, SIGNATURE_CONTENT_TYPE);
        assert_eq!(
            check(&statement, &tampered_payload, V2_0_0),
            Err("signature-invalid")
        );
        let mut signature = base64url(parts[2]).unwrap();
        signature[10] ^= 1;
        let tampered_signature = format!("{}.{}.{}", parts[0], parts[1], b64url(&signature));
        let statement = received(&signed, &tampered_signature, SIGNATURE_CONTENT_TYPE);
        assert_eq!(
            check(&statement, &tampered_signature, V2_0_0),
            Err("signature-invalid")
        );
        // The wrong hash: signed with RS256, header says RS384.
        let input_256 = format!(
            "{}.{}",
            b64url(
                json!({"alg": "RS384", "x5c": x5c(&[LEAF_CERT])})
                    .to_string()
                    .as_bytes()
            ),
            b64url(&body)
        );
        let sig_256 = leaf_key()
            .pkcs1v15_sign::<Sha256>(input_256.as_bytes())
            .unwrap();
        let wrong_hash = format!("{input_256}.{}", b64url(&sig_256));
        let statement = received(&signed, &wrong_hash, SIGNATURE_CONTENT_TYPE);
        assert_eq!(
            check(&statement, &wrong_hash, V2_0_0),
            Err("signature-invalid")
        );
    }

    #[test]
    fn payload_must_be_the_statement() {
        let signed = statement();
        let mut different = signed.clone();
        different.insert(
            "verb".to_owned(),
            json!({"id": "http://example.com/other-verb"}),
        );
        for header in [
            json!({"alg": "RS256"}),
            json!({"alg": "RS256", "x5c": x5c(&[LEAF_CERT])}),
        ] {
            // A valid signature of another statement.
            let jws = sign(&header, &payload(&different));
            let statement = received(&signed, &jws, SIGNATURE_CONTENT_TYPE);
            assert_eq!(
                check(&statement, &jws, V2_0_0),
                Err("signature-payload-mismatch"),
                "{header}"
            );
        }
        // Without a certificate, a tampered payload is caught by the comparison.
        let jws = sign(&json!({"alg": "RS256"}), &payload(&signed));
        let parts: Vec<&str> = jws.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64url(&payload(&different)), parts[2]);
        let statement = received(&signed, &tampered, SIGNATURE_CONTENT_TYPE);
        assert_eq!(
            check(&statement, &tampered, V2_0_0),
            Err("signature-payload-mismatch")
        );
    }

    #[test]
    fn equivalence_allows_what_the_spec_allows() {
        let signed = statement();
        let jws = sign(&json!({"alg": "RS256"}), &payload(&signed));
        // ADL 2.0 §4.2.7: the statement sent has a duration with more precision than the
        // signed one; they are compared at 0.01 s.
        let mut precise = signed.clone();
        precise.insert(
            "result".to_owned(),
            json!({"duration": "P1DT12H36M0.1237S"}),
        );
        let statement = received(&precise, &jws, SIGNATURE_CONTENT_TYPE);
        assert_eq!(check(&statement, &jws, V2_0_0), Ok(()));
        // ... but not above it.
        let mut longer = signed.clone();
        longer.insert("result".to_owned(), json!({"duration": "P1DT12H36M0.13S"}));
        let statement = received(&longer, &jws, SIGNATURE_CONTENT_TYPE);
        assert_eq!(
            check(&statement, &jws, V2_0_0),
            Err("signature-payload-mismatch")
        );
        // What the LRS sets, verb display and activity definitions may differ; the signed
        // statement need not have an id.
        let mut unsigned_id = signed.clone();
        unsigned_id.remove("id");
        let jws = sign(&json!({"alg": "RS256"}), &payload(&unsigned_id));
        let mut amended = signed.clone();
        amended.insert(
            "verb".to_owned(),
            json!({"id": "http://adlnet.gov/expapi/verbs/experienced"}),
        );
        amended.insert("stored".to_owned(), json!("2013-04-01T12:00:01Z"));
        amended.insert("version".to_owned(), json!("1.0.0"));
        amended.insert(
            "authority".to_owned(),
            json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": "k"}}),
        );
        let statement = received(&amended, &jws, SIGNATURE_CONTENT_TYPE);
        assert_eq!(check(&statement, &jws, V1_0_3), Ok(()));
    }

    #[test]
    fn the_spec_example_verifies() {
        // Data Appendix D: the JWS carries an x5c chain whose certificates are signed with
        // SHA-1 (that link is not checked) and a 1024-bit leaf key (which is).
        let statement: Value = serde_json::from_str(
            r#"{
                "version": "1.0.0",
                "id": "33cff416-e331-4c9d-969e-5373a1756120",
                "actor": {"mbox": "mailto:example@example.com", "name": "Example Learner", "objectType": "Agent"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
                "object": {
                    "id": "https://www.youtube.com/watch?v=xh4kIiH3Sm8",
                    "objectType": "Activity",
                    "definition": {
                        "name": {"en-US": "Tax Tips & Information : How to File a Tax Return "},
                        "description": {"en-US": "Filing a tax return will require filling out either a 1040, 1040A or 1040EZ form"}
                    }
                },
                "timestamp": "2013-04-01T12:00:00Z",
                "attachments": [{
                    "usageType": "http://adlnet.gov/expapi/attachments/signature",
                    "display": {"en-US": "Signature"},
                    "description": {"en-US": "A test signature"},
                    "contentType": "application/octet-stream",
                    "length": 4235,
                    "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"
                }]
            }"#,
        )
        .unwrap();
        let statement = statement.as_object().unwrap();
        let jws = compact(SPEC_JWS);
        assert_eq!(verify_signature(statement, jws.as_bytes(), V1_0_3), Ok(()));
        // One character of the signature changed: the leaf key no longer verifies it.
        let mut tampered = jws.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let error = verify_signature(statement, &tampered, V1_0_3).unwrap_err();
        assert_eq!(
            (error.path.as_str(), error.rule),
            ("$.attachments[0]", "signature-invalid")
        );
    }

    #[test]
    fn signature_attachments_are_found_and_checked() {
        let signed = statement();
        let jws = sign(&json!({"alg": "RS256"}), &payload(&signed));
        let statement = received(&signed, &jws, "Application/Octet-Stream");
        let found = signature_attachments(&statement).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 1);
        assert_eq!(found[0].sha2, hex::encode(Sha256::digest(jws.as_bytes())));
        assert!(signature_attachments(&signed).unwrap().is_empty());
        // ADL XAPI-00115: a signature attachment with another content type.
        let wrong = received(&signed, &jws, "text/plain; charset=ascii");
        let error = signature_attachments(&wrong).unwrap_err();
        assert_eq!(
            (error.path.as_str(), error.rule),
            ("$.attachments[1].contentType", "signature-content-type")
        );
        // Without a signature attachment, errors point at the attachments.
        let error = verify_signature(&signed, b"garbage", V2_0_0).unwrap_err();
        assert_eq!(error.path, "$.attachments");
    }

    #[test]
    fn every_rule_is_documented_once() {
        let mut names: Vec<&str> = SIGNATURE_RULES.iter().map(|(name, _)| *name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert!(
            names
                .iter()
                .all(|n| crate::RULES.iter().all(|(r, _)| r != n))
        );
    }

    /// The JWS of the xAPI 1.0.3 spec, Data Appendix D (RS256, x5c chain signed with SHA-1).
    const SPEC_JWS: &str = "
        ew0KICAgICJhbGciOiAiUlMyNTYiLA0KICAgICJ4NWMiOiBbDQogICAgICAgICJNSUlEQVRDQ0FtcWdBd0lCQWdJSkFNQjFj
        c051QTYra01BMEdDU3FHU0liM0RRRUJCUVVBTUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpa
        V1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdT
        SWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiVEFlRncweE16QTBNRFF4TlRJNE16QmFGdzB4TkRBME1EUXhO
        VEk0TXpCYU1JR1dNUXN3Q1FZRFZRUUdFd0pWVXpFU01CQUdBMVVFQ0JNSlZHVnVibVZ6YzJWbE1SRXdEd1lEVlFRSEV3aEdj
        bUZ1YTJ4cGJqRVlNQllHQTFVRUNoTVBSWGhoYlhCc1pTQkRiMjF3WVc1NU1SQXdEZ1lEVlFRTEV3ZEZlR0Z0Y0d4bE1SQXdE
        Z1lEVlFRREV3ZEZlR0Z0Y0d4bE1TSXdJQVlKS29aSWh2Y05BUWtCRmhObGVHRnRjR3hsUUdWNFlXMXdiR1V1WTI5dE1JR2ZN
        QTBHQ1NxR1NJYjNEUUVCQVFVQUE0R05BRENCaVFLQmdRRGp4dlpYRjMwV0w0b0tqWllYZ1IwWnlhWCt1M3k2K0pxVHFpTmtG
        YS9WVG5ldDZMeTJPVDZabW1jSkVQbnEzVW5ld3BIb09RK0dmaGhUa1cxM2owNmo1aU5uNG9iY0NWV1RMOXlYTnZKSCtLbyt4
        dTRZbC95U1BScklQeVRqdEhkRzBNMlh6SWxtbUxxbStDQVMrS0NiSmVINHRmNTQza0lXQzVwQzVwM2NWUUlEQVFBQm8zc3dl
        VEFKQmdOVkhSTUVBakFBTUN3R0NXQ0dTQUdHK0VJQkRRUWZGaDFQY0dWdVUxTk1JRWRsYm1WeVlYUmxaQ0JEWlhKMGFXWnBZ
        MkYwWlRBZEJnTlZIUTRFRmdRVVZzM3Y1YWZFZE9lb1llVmFqQVFFNHYwV1MxUXdId1lEVlIwakJCZ3dGb0FVeVZJYzN5dnJh
        NEVCejIwSTRCRjM5SUFpeEJrd0RRWUpLb1pJaHZjTkFRRUZCUUFEZ1lFQWdTL0ZGNUQwSG5qNDRydlQ2a2duM2tKQXZ2Mmxq
        L2Z5anp0S0lyWVMzM2xqWEduNmdHeUE0cXRiWEEyM1ByTzR1Yy93WUNTRElDRHBQb2JoNjJ4VENkOXFPYktoZ3dXT2kwNVBT
        QkxxVXUzbXdmQWUxNUxKQkpCcVBWWjRLMGtwcGVQQlU4bTZhSVpvSDU3TC85dDRPb2FMOHlLcy9xaktGZUkxT0ZXWnh2QT0i
        LA0KICAgICAgICAiTUlJRE56Q0NBcUNnQXdJQkFnSUpBTUIxY3NOdUE2K2pNQTBHQ1NxR1NJYjNEUUVCQlFVQU1IRXhDekFK
        QmdOVkJBWVRBbFZUTVJJd0VBWURWUVFJRXdsVVpXNXVaWE56WldVeEdEQVdCZ05WQkFvVEQwVjRZVzF3YkdVZ1EyOXRjR0Z1
        ZVRFUU1BNEdBMVVFQXhNSFJYaGhiWEJzWlRFaU1DQUdDU3FHU0liM0RRRUpBUllUWlhoaGJYQnNaVUJsZUdGdGNHeGxMbU52
        YlRBZUZ3MHhNekEwTURReE5USTFOVE5hRncweU16QTBNREl4TlRJMU5UTmFNSEV4Q3pBSkJnTlZCQVlUQWxWVE1SSXdFQVlE
        VlFRSUV3bFVaVzV1WlhOelpXVXhHREFXQmdOVkJBb1REMFY0WVcxd2JHVWdRMjl0Y0dGdWVURVFNQTRHQTFVRUF4TUhSWGho
        YlhCc1pURWlNQ0FHQ1NxR1NJYjNEUUVKQVJZVFpYaGhiWEJzWlVCbGVHRnRjR3hsTG1OdmJUQ0JuekFOQmdrcWhraUc5dzBC
        QVFFRkFBT0JqUUF3Z1lrQ2dZRUExc0JuQldQWjBmN1dKVUZUSnk1KzAxU2xTNVo2RERENlV5ZTl2SzlBeWNnVjVCMytXQzhI
        QzV1NWg5MU11akFDMUFSUFZVT3RzdlBSczQ1cUtORklnSUdSWEtQQXdaamF3RUkyc0NKUlNLVjQ3aTZCOGJEdjRXa3VHdlFh
        dmVaR0kwcWxtTjVSMUVpbTJnVUl0UmoxaGdjQzlyUWF2amxuRktEWTJybFhHdWtDQXdFQUFhT0IxakNCMHpBZEJnTlZIUTRF
        RmdRVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCa3dnYU1HQTFVZEl3U0JtekNCbUlBVXlWSWMzeXZyYTRFQnoyMEk0QkYz
        OUlBaXhCbWhkYVJ6TUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9U
        RDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGho
        YlhCc1pVQmxlR0Z0Y0d4bExtTnZiWUlKQU1CMWNzTnVBNitqTUF3R0ExVWRFd1FGTUFNQkFmOHdEUVlKS29aSWh2Y05BUUVG
        QlFBRGdZRUFEaHdUZWJHazczNXlLaG04RHFDeHZObkVaME54c1lFWU9qZ1JHMXlYVGxXNXBFNjkxZlNINUFaK1Q2ZnB3cFpj
        V1k1UVlrb042RG53ak94R2tTZlFDMy95R21jVURLQlB3aVo1TzJzOUMrZkUxa1VFbnJYMlhlYTRhZ1ZuZ016UjhEUTZvT2F1
        TFdxZWhEQitnMkVOV1JMb1ZnUyttYTUvWWNzMEdUeXJFQ1k9Ig0KICAgIF0NCn0.ew0KICAgICJ2ZXJzaW9uIjogIjEuMC4w
        IiwNCiAgICAiaWQiOiAiMzNjZmY0MTYtZTMzMS00YzlkLTk2OWUtNTM3M2ExNzU2MTIwIiwNCiAgICAiYWN0b3IiOiB7DQog
        ICAgICAgICJtYm94IjogIm1haWx0bzpleGFtcGxlQGV4YW1wbGUuY29tIiwNCiAgICAgICAgIm5hbWUiOiAiRXhhbXBsZSBM
        ZWFybmVyIiwNCiAgICAgICAgIm9iamVjdFR5cGUiOiAiQWdlbnQiDQogICAgfSwNCiAgICAidmVyYiI6IHsNCiAgICAgICAg
        ImlkIjogImh0dHA6Ly9hZGxuZXQuZ292L2V4cGFwaS92ZXJicy9leHBlcmllbmNlZCIsDQogICAgICAgICJkaXNwbGF5Ijog
        ew0KICAgICAgICAgICAgImVuLVVTIjogImV4cGVyaWVuY2VkIg0KICAgICAgICB9DQogICAgfSwNCiAgICAib2JqZWN0Ijog
        ew0KICAgICAgICAiaWQiOiAiaHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g_dj14aDRrSWlIM1NtOCIsDQogICAgICAg
        ICJvYmplY3RUeXBlIjogIkFjdGl2aXR5IiwNCiAgICAgICAgImRlZmluaXRpb24iOiB7DQogICAgICAgICAgICAibmFtZSI6
        IHsNCiAgICAgICAgICAgICAgICAiZW4tVVMiOiAiVGF4IFRpcHMgJiBJbmZvcm1hdGlvbiA6IEhvdyB0byBGaWxlIGEgVGF4
        IFJldHVybiAiDQogICAgICAgICAgICB9LA0KICAgICAgICAgICAgImRlc2NyaXB0aW9uIjogew0KICAgICAgICAgICAgICAg
        ICJlbi1VUyI6ICJGaWxpbmcgYSB0YXggcmV0dXJuIHdpbGwgcmVxdWlyZSBmaWxsaW5nIG91dCBlaXRoZXIgYSAxMDQwLCAx
        MDQwQSBvciAxMDQwRVogZm9ybSINCiAgICAgICAgICAgIH0NCiAgICAgICAgfQ0KICAgIH0sDQogICAgInRpbWVzdGFtcCI6
        ICIyMDEzLTA0LTAxVDEyOjAwOjAwWiINCn0.FWuwaPhwUbkk7h9sKW5zSvjsYNugvxJ-TrVaEgt_DCUT0bmKhQScRrjMB6P9
        O50uznPwT66oF1NnU_G0HVhRzS5voiXE-y7tT3z0M3-8A6YK009Bk_digVUul-HA4Fpd5IjoBBGe3yzaQ2ZvzarvRuipvNEQ
        CI0onpfuZZJQ0d8
    ";
}
