//! Signed statements (Data 2.6): a compact JWS (RFC 7515 7.1) over a statement, signed with
//! RSASSA-PKCS1-v1_5 and an embedded test key, with its X.509 certificate for the `x5c`
//! header. The key exists only to test LRSs; it signs nothing else.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::PrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::{Sha256, Sha384, Sha512};
use serde_json::{Value, json};

/// The usageType of a signature attachment (Data 2.6).
pub const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// The contentType a signature attachment must have (Data 2.6).
pub const SIGNATURE_CONTENT_TYPE: &str = "application/octet-stream";

/// The JWS algorithms Data 2.6 allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Rs384,
    Rs512,
}

/// A 2048-bit RSA key (PKCS#8 DER, base64) made with OpenSSL 3.0 for this suite:
/// `openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -sha256
/// -subj "/CN=Proficio Conformance Signer"`.
const TEST_KEY: &str = "
    MIIEugIBADANBgkqhkiG9w0BAQEFAASCBKQwggSgAgEAAoIBAQCgOxGlQsph8pVukOVZLkr3neZ9ZFMFMIfc5OrXuwcDT3RX
    RIZqeJ1XJOrmrkvykADJDQebsDhYbkYpZ66YtJC3O34JmeCMmpFEcixR87lae8qFo3r+h57jFP95lbw6pmhq/o+sF6Y+9c8f
    VtbpyX8JGwDR3V3YEZ/vmEHAjb5JFQhfdZIEUYlbCyMZjeM9CC5hjFBdNteddNEju2e4rlvaghCbWbMUYtVnqZ/ki5TnBi4t
    bUheajtfaaD+JH99lWpsLyz0iydhMdu5lBURVr+GS/edxEVlMcadvNWeDt4YpwkmKpoFAq8dLwJMlrBxL5muUAeqB8aZ/lJh
    iYnYZW3jAgMBAAECggEAD+bM0YHXY/EXM2nd2QPnHLvm6/rQ4mr2kM2HIPHGuGViPmbmkBp4QvW++jXCA8iWy10nrCPI8729
    6M4JXc5NrmGRGJLU3h9Y21oZW+i8NGakqq6WvjvnYNHsqLxbedaZ9kRdLc8LCKSMcafEnF8K5HRxmGJHtfHJ1ZVesSVgBRCQ
    8tyFyWUZpXqdnam5Q3jJFYMoK/+PYOaQXsOmaUFe4LWUEoJnB/ZRNCFmQlcmTeLS1SBAgcDqTJYSbBHJPBb4e0L8aWF32sxV
    FpcYEzrRRfhov5AX1gKYncld0iD++Qq363NNIduhZz9Atwbi7xsAyrs8aag7FBC/6xkF4JzsgQKBgQDcvUSeG85C6tR4Z4ez
    ym8AqGzzPhYaSvBc5+UG0CiHeRUz3rhyEel/1RYiJrRb5k5fNqh0mhhmGcxoJ/tD+/0A1eNaphh8HWUX2Q3cjd3cfYTi8ihN
    xKQ8avsFLbBly/gkbeXXd3BBfBj8oHSZzHuYSBESb1oBu3F0bUkb5CeBSwKBgQC502mbMXO55iCAzhMjRxBXCjIIc4bxkyZB
    A1CqFT6pKOLBVqr0ZmVzY974FXrvwG/8n71c+hvUHFmPqPeWRrRB0u6hA0Y4y1mFuuN6jCzSoR1ovsi0URtKk6m9uSdSbvBZ
    7awEylB9QphioXFcoGBAJnsiYToFQFQH/zxMMnp+yQKBgBsJR41CBJpnnsx8ib94rO3cszN7yENCKHyInqGd/0jQiMtInTjD
    fuD8XXCjYvXamIDK9gkKErD2ufWL6BeklpFyoR0qONeC1i38lNkNuz3VVeBiHpOf4SnRRJuWxAND30m++CbS5znuFDVlBcMM
    q5q0QPsMDm8l4TiMZib3Y+tPAn9Amj8ctRSGjHrATORaX1pO6Dx8s602TvH9qCli9//Qz2YF0Rud2/tpIk9h8BXNRBmqud4b
    dNg35aM9ToDEvc/tEmfjkj/Xftqgo1hyQklS8LBIugsMpSXXx347dyM0hV0J5pbnE27oHT7dC0Nd8GOF6drlGOgS60pLfXB5
    DROJAoGAaRfXVigReorh8X0VZrYJzkvNcXimZucyRZA2nSwT46nq0RjWUIq1omCaexBE0VS2B5OPx8ePfTAUvvs8sXWM353k
    QriXksFg33amNGmFg7jvdhBzfpRD7smYnQf0KzVz6Z1dW7krxq9z96IQo9Qk7936aOW+PcLlwLc6C/Bhq/Y=
";

/// The self-signed certificate of [`TEST_KEY`] (DER, base64), valid until 2126.
const TEST_CERT: &str = "
    MIIDLzCCAhegAwIBAgIUB9D18ZXRCxgnSvIG8DoV6UeDqDowDQYJKoZIhvcNAQELBQAwJjEkMCIGA1UEAwwbUHJvZmljaW8g
    Q29uZm9ybWFuY2UgU2lnbmVyMCAXDTI2MTEyMzIwNDU1N1oYDzIxMjYxMDMwMjA0NTU3WjAmMSQwIgYDVQQDDBtQcm9maWNp
    byBDb25mb3JtYW5jZSBTaWduZXIwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCgOxGlQsph8pVukOVZLkr3neZ9
    ZFMFMIfc5OrXuwcDT3RXRIZqeJ1XJOrmrkvykADJDQebsDhYbkYpZ66YtJC3O34JmeCMmpFEcixR87lae8qFo3r+h57jFP95
    lbw6pmhq/o+sF6Y+9c8fVtbpyX8JGwDR3V3YEZ/vmEHAjb5JFQhfdZIEUYlbCyMZjeM9CC5hjFBdNteddNEju2e4rlvaghCb
    WbMUYtVnqZ/ki5TnBi4tbUheajtfaaD+JH99lWpsLyz0iydhMdu5lBURVr+GS/edxEVlMcadvNWeDt4YpwkmKpoFAq8dLwJM
    lrBxL5muUAeqB8aZ/lJhiYnYZW3jAgMBAAGjUzBRMB0GA1UdDgQWBBR926dVqmUVyO9Lb8RsvwWa6ojUCjAfBgNVHSMEGDAW
    gBR926dVqmUVyO9Lb8RsvwWa6ojUCjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQB9lQR4qdxwk7KXTGEQ
    MkPQf6gzqCSJ5mCszTigDV++U1ZCkL6z9o7ejnz8wt3dSe0NS1wiWl1kqaqg8lGL+L++rXWUfZHR3ZrXrSwwmphoxMJ/B/Vw
    1dx1D+z17nKRwQQkPA4WQOfjLQl5u7+yWrLqx76Bh5NCXOBiAUAJjtJPs1Kc3DXb+cb6mdXHX3mKaicBQC9TIlGAlieziK4Z
    C8B1LnoR1sm1PNpZG4sVr9FuuOgNgxDnHE/6O3AYbMUfcYbPbdcQpjNX0v3fIyGDC1tlXj/62ykSotDUJYujV64LINzFRpjl
    cDAlhHfTTKSsePx7FZe36wADGG8Lv848sBxZ
";

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::Rs256, Alg::Rs384, Alg::Rs512];

    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
        }
    }
}

fn compact(text: &str) -> String {
    text.split_whitespace().collect()
}

fn test_key() -> Result<PrivateKey, String> {
    let der = STANDARD
        .decode(compact(TEST_KEY))
        .map_err(|e| format!("the embedded test key is not base64: {e}"))?;
    PrivateKey::from_pkcs8_der(&der).map_err(|e| format!("the embedded test key: {e}"))
}

/// The `x5c` header value: the test certificate, standard base64 (RFC 7515 4.1.6).
pub fn x5c() -> Value {
    json!([compact(TEST_CERT)])
}

/// `base64url(header).base64url(payload)`: the JWS signing input.
pub fn signing_input(header: &Value, payload: &[u8]) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// A compact JWS of `payload` under `header`, signed with the test key using `alg`.
pub fn sign(alg: Alg, header: &Value, payload: &[u8]) -> Result<String, String> {
    let input = signing_input(header, payload);
    let key = test_key()?;
    let signature = match alg {
        Alg::Rs256 => key.pkcs1v15_sign::<Sha256>(input.as_bytes()),
        Alg::Rs384 => key.pkcs1v15_sign::<Sha384>(input.as_bytes()),
        Alg::Rs512 => key.pkcs1v15_sign::<Sha512>(input.as_bytes()),
    }
    .map_err(|e| format!("signing with the test key failed: {e}"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// A compact JWS with an arbitrary `signature` segment (for algorithms and shapes an LRS
/// must refuse).
pub fn unsigned(header: &Value, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}",
        signing_input(header, payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_embedded_key_signs_every_alg() {
        for alg in Alg::ALL {
            let jws = sign(alg, &json!({ "alg": alg.name() }), b"{}").unwrap();
            assert_eq!(jws.split('.').count(), 3);
        }
    }

    #[test]
    fn the_certificate_decodes() {
        let der = STANDARD.decode(compact(TEST_CERT)).unwrap();
        // A DER SEQUENCE with a two-byte long-form length.
        assert_eq!(&der[..2], &[0x30, 0x82]);
    }
}
