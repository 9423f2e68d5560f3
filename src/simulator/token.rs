//! HS256 JWTs: access tokens and the payment tokens in redirect URLs, signed
//! with a random key per simulator and checked without any stored state.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, base64url.
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The client id the token was issued to.
    pub appid: String,
    /// Index of the account in `SimConfig.accounts` (saves a search per request).
    pub acct: usize,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// Claims of a payment (landing/force-approve) token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PaymentClaims {
    pub msn: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub iat: i64,
}

/// Most access tokens a thread remembers as verified; emptied when full.
const MAX_VERIFIED: usize = 64;

/// Tokens verified on this thread, each with the key that verified it.
type Verified = std::collections::HashMap<Box<str>, ([u8; 32], std::sync::Arc<AccessClaims>)>;

thread_local! {
    static VERIFIED: std::cell::RefCell<Verified> = std::cell::RefCell::new(Verified::new());
}

/// Signs and verifies tokens with one key.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never reaches a log.
        f.write_str("Signer { key: <hidden> }")
    }
}

impl Default for Signer {
    fn default() -> Self {
        Self::random()
    }
}

impl Signer {
    /// A signer with a fresh random key.
    pub fn random() -> Self {
        Signer {
            key: rand::random(),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// `header.claims.signature`, all base64url without padding (so no `=` in the token).
    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let mut out = String::with_capacity(64 + json.len() * 4 / 3 + 44);
        out.push_str(HEADER_B64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&json, &mut out);
        let mut mac = self.mac();
        mac.update(out.as_bytes());
        let sig = mac.finalize().into_bytes();
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut out);
        out
    }

    /// [`Signer::verify`] of an access token, remembered per thread: a shop
    /// sends the same token with every request for up to an hour, and its
    /// HMAC was checked the first time. A token is remembered only with the
    /// key that verified it; a forged one is never remembered.
    pub fn verify_access(&self, token: &str) -> Option<std::sync::Arc<AccessClaims>> {
        let hit = VERIFIED.with(|cell| {
            cell.borrow()
                .get(token)
                .filter(|(key, _)| *key == self.key)
                .map(|(_, claims)| claims.clone())
        });
        if hit.is_some() {
            return hit;
        }
        let claims = std::sync::Arc::new(self.verify::<AccessClaims>(token)?);
        VERIFIED.with(|cell| {
            let mut map = cell.borrow_mut();
            if map.len() >= MAX_VERIFIED {
                map.clear();
            }
            map.insert(token.into(), (self.key, claims.clone()));
        });
        Some(claims)
    }

    /// The claims of a token signed by this key; `None` when it is malformed or forged.
    pub fn verify<T: for<'de> Deserialize<'de>>(&self, token: &str) -> Option<T> {
        let (signed, sig_b64) = token.rsplit_once('.')?;
        let (header, claims_b64) = signed.split_once('.')?;
        if header != HEADER_B64 {
            return None;
        }
        let mut sig = [0u8; 32];
        let n = URL_SAFE_NO_PAD
            .decode_slice(sig_b64.as_bytes(), &mut sig)
            .ok()?;
        if n != 32 {
            return None;
        }
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&sig).ok()?;
        let json = URL_SAFE_NO_PAD.decode(claims_b64).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// The claims of any JWT, unverified (tests, debugging).
pub fn peek_claims(token: &str) -> Option<serde_json::Value> {
    let claims = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(claims).ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            appid: "c".into(),
            acct: 0,
            iat: 1,
            nbf: 1,
            exp: 2,
            jti: "j".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_with_its_own_key_only() {
        let s = Signer::random();
        let t = s.sign(&claims());
        assert_eq!(s.verify::<AccessClaims>(&t), Some(claims()));
        assert_eq!(Signer::random().verify::<AccessClaims>(&t), None);
        assert!(!t.contains('='));
        assert_eq!(t.split('.').count(), 3);
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let s = Signer::random();
        let t = s.sign(&claims());
        let mut forged = claims();
        forged.exp = 999_999_999_999;
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = t.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged_body, parts[2]);
        assert_eq!(s.verify::<AccessClaims>(&tampered), None);
        assert_eq!(s.verify::<AccessClaims>("garbage"), None);
        assert_eq!(s.verify::<AccessClaims>("a.b.c"), None);
        // Remembered per thread, and only with the key that verified it.
        assert_eq!(s.verify_access(&t).as_deref(), Some(&claims()));
        assert_eq!(s.verify_access(&t).as_deref(), Some(&claims()));
        assert_eq!(Signer::random().verify_access(&t), None);
        assert_eq!(s.verify_access(&tampered), None);
    }
}
