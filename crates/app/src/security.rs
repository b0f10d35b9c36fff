//! Passwords, anonymous pseudonyms and access tokens.
//!
//! * Passwords are stored as argon2id PHC strings.
//! * Each user has a random 32-byte *anonymous key*. It is stored sealed
//!   (XChaCha20-Poly1305) under a key derived from the user's password with
//!   argon2id and a separate salt, so only a login with the right password
//!   can open it. The user's [`OwnerTag`] is an HMAC of a constant under
//!   that key: it marks their ANONYMOUS reports without naming them, and
//!   whoever reads the database (or the server's own secrets) cannot link a
//!   tag to a user without the user's password.
//! * Access tokens are HS256 JWTs signed with a secret generated on first
//!   start and kept in the data directory (or given by configuration).

use anyhow::{Context, anyhow};
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey, EncodingKey, Header, Validation};
use lapor_domain::access::{OwnerTag, Principal, Role};
use lapor_domain::catalog::AgencyCode;
use lapor_domain::ids::UserId;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

/// Argon2id cost. The defaults follow OWASP's recommendation (19 MiB, 2
/// passes); tests may lower them through configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: crate::state::defaults::HASH_MEMORY_KIB,
            passes: crate::state::defaults::HASH_PASSES,
        }
    }
}

impl HashCost {
    fn argon2(self) -> Argon2<'static> {
        let params =
            Params::new(self.memory_kib, self.passes, 1, Some(32)).expect("valid argon2 params");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

pub fn hash_password(password: &str, cost: HashCost) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    cost.argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("hashing password: {e}"))
}

/// Verifies with the parameters recorded in the hash itself.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A user's anonymous key, sealed as `v1.<salt>.<nonce>.<ciphertext>` with
/// the argon2 cost recorded so it can be opened after cost changes.
pub fn seal_anon_key(password: &str, cost: HashCost) -> anyhow::Result<(String, OwnerTag)> {
    let mut anon_key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut anon_key);
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let wrap = derive_wrap_key(password, &salt, cost)?;
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = XChaCha20Poly1305::new((&wrap).into())
        .encrypt(XNonce::from_slice(&nonce), anon_key.as_slice())
        .map_err(|_| anyhow!("sealing anonymous key"))?;
    let text = format!(
        "v1.{}.{}.{}.{}.{}",
        cost.memory_kib,
        cost.passes,
        B64.encode(salt),
        B64.encode(nonce),
        B64.encode(sealed)
    );
    Ok((text, owner_tag(&anon_key)))
}

/// Opens a sealed anonymous key with the password; returns the owner tag.
pub fn open_anon_key(password: &str, sealed: &str) -> anyhow::Result<OwnerTag> {
    let parts: Vec<&str> = sealed.split('.').collect();
    let [v, m, t, salt, nonce, ct] = parts.as_slice() else {
        return Err(anyhow!("malformed sealed key"));
    };
    if *v != "v1" {
        return Err(anyhow!("unknown sealed key version"));
    }
    let cost = HashCost {
        memory_kib: m.parse()?,
        passes: t.parse()?,
    };
    let salt = B64.decode(salt)?;
    let nonce = B64.decode(nonce)?;
    let ct = B64.decode(ct)?;
    if nonce.len() != 24 {
        return Err(anyhow!("malformed nonce"));
    }
    let wrap = derive_wrap_key(password, &salt, cost)?;
    let key = XChaCha20Poly1305::new((&wrap).into())
        .decrypt(XNonce::from_slice(&nonce), ct.as_slice())
        .map_err(|_| anyhow!("wrong password for anonymous key"))?;
    Ok(owner_tag(&key))
}

fn derive_wrap_key(password: &str, salt: &[u8], cost: HashCost) -> anyhow::Result<[u8; 32]> {
    let mut out = [0u8; 32];
    cost.argon2()
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|e| anyhow!("deriving key: {e}"))?;
    Ok(out)
}

fn owner_tag(anon_key: &[u8]) -> OwnerTag {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(anon_key).expect("hmac takes any key length");
    mac.update(b"lapor/owner-tag/v1");
    OwnerTag::parse(&hex::encode(mac.finalize().into_bytes())).expect("64 lower-case hex chars")
}

/// The JWT signing secret. Its Debug output is redacted.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(bytes: Vec<u8>) -> anyhow::Result<Self> {
        if bytes.len() < 32 {
            return Err(anyhow!("the JWT secret must be at least 32 bytes"));
        }
        Ok(Self(bytes))
    }
    pub fn generate() -> Self {
        let mut b = vec![0u8; 64];
        rand::thread_rng().fill_bytes(&mut b);
        Self(b)
    }
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
    pub fn from_hex(s: &str) -> anyhow::Result<Self> {
        Self::new(hex::decode(s.trim()).context("the JWT secret must be hex")?)
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    usr: String,
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    otag: Option<String>,
    iat: i64,
    exp: i64,
    iss: String,
}

const ISSUER: &str = "lapor";

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct Tokens {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
    pub lifetime_secs: i64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("lifetime_secs", &self.lifetime_secs)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(secret: &JwtSecret, lifetime_secs: i64) -> Self {
        let mut validation = Validation::new(JwtAlg::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        Self {
            enc: EncodingKey::from_secret(&secret.0),
            dec: DecodingKey::from_secret(&secret.0),
            validation,
            lifetime_secs,
        }
    }

    /// Tokens use the system clock (their expiry is checked against it).
    pub fn issue(&self, p: &Principal) -> anyhow::Result<String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: p.user_id.to_string(),
            usr: p.username.clone(),
            role: p.role,
            agency: p.agency.as_ref().map(|a| a.to_string()),
            otag: p.owner_tag.as_ref().map(|t| t.as_str().to_owned()),
            iat: now,
            exp: now + self.lifetime_secs,
            iss: ISSUER.into(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(JwtAlg::HS256),
            &claims,
            &self.enc,
        )?)
    }

    /// Verifies signature, issuer and expiry; returns the caller.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            },
        )?;
        let c = data.claims;
        let user_id: UserId = c.sub.parse().map_err(|_| TokenError::Invalid)?;
        let agency = match c.agency {
            Some(a) => Some(AgencyCode::parse(&a).map_err(|_| TokenError::Invalid)?),
            None => None,
        };
        let owner_tag = match c.otag {
            Some(t) => Some(OwnerTag::parse(&t).ok_or(TokenError::Invalid)?),
            None => None,
        };
        Ok(Principal {
            user_id,
            username: c.usr,
            role: c.role,
            agency,
            owner_tag,
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token has expired; log in again")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashCost = HashCost {
        memory_kib: 64,
        passes: 1,
    };

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let h = hash_password("correct horse", CHEAP).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_anonymous_key_opens_only_with_the_password_and_is_stable() {
        let (sealed, tag) = seal_anon_key("pw-123456", CHEAP).unwrap();
        assert_eq!(open_anon_key("pw-123456", &sealed).unwrap(), tag);
        assert!(open_anon_key("pw-654321", &sealed).is_err());
        let (_, other) = seal_anon_key("pw-123456", CHEAP).unwrap();
        assert_ne!(tag, other, "two users with one password get unrelated tags");
    }

    #[test]
    fn tokens_round_trip_and_reject_forgeries() {
        let t = Tokens::new(&JwtSecret::generate(), 60);
        let p = Principal {
            user_id: UserId::new_v7(),
            username: "officer1".into(),
            role: Role::Officer,
            agency: Some(AgencyCode::parse("AGENCY_INFRA").unwrap()),
            owner_tag: None,
        };
        let tok = t.issue(&p).unwrap();
        assert_eq!(t.verify(&tok).unwrap(), p);
        let other = Tokens::new(&JwtSecret::generate(), 60);
        assert_eq!(
            other.verify(&tok),
            Err(TokenError::Invalid),
            "signed with another secret"
        );
        assert_eq!(t.verify("abc.def.ghi"), Err(TokenError::Invalid));
        let expired = Tokens::new(&JwtSecret::generate(), -120);
        let tok = expired.issue(&p).unwrap();
        assert_eq!(expired.verify(&tok), Err(TokenError::Expired));
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(
            format!("{:?}", JwtSecret::generate()),
            "JwtSecret(<redacted>)"
        );
    }
}

/// Remembers recent successful logins so that a client that logs in again
/// with the same password (seed 1's clients log in on every iteration) does
/// not pay argon2id twice per login.
///
/// Why this keeps what argon2id protects: the stored hashes are untouched,
/// and a wrong password is never cached, so guessing still costs argon2id
/// per attempt. The cache lives only in memory, keyed by an HMAC under a
/// random per-process key (never written anywhere), and an entry is used
/// only while the user's stored hash is unchanged and for at most `ttl`.
/// Whoever can read this process's memory can already read passwords off
/// incoming requests, so the cache gives them nothing new.
pub struct LoginCache {
    key: [u8; 32],
    ttl: std::time::Duration,
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], CachedLogin>>,
}

#[derive(Clone)]
struct CachedLogin {
    password_hash: String,
    principal: Principal,
    at: std::time::Instant,
}

impl fmt::Debug for LoginCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl LoginCache {
    pub fn new(ttl: std::time::Duration, capacity: usize) -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self {
            key,
            ttl,
            capacity,
            entries: Default::default(),
        }
    }

    fn slot(&self, username: &str, password: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("hmac takes any key length");
        mac.update(username.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The cached principal, if this exact password succeeded recently and
    /// the stored hash has not changed since.
    pub fn get(&self, username: &str, password: &str, stored_hash: &str) -> Option<Principal> {
        if self.capacity == 0 {
            return None;
        }
        let slot = self.slot(username, password);
        let mut entries = self.entries.lock().expect("login cache lock");
        match entries.get(&slot) {
            Some(e) if e.password_hash == stored_hash && e.at.elapsed() < self.ttl => {
                Some(e.principal.clone())
            }
            Some(_) => {
                entries.remove(&slot);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, username: &str, password: &str, stored_hash: &str, principal: &Principal) {
        if self.capacity == 0 {
            return;
        }
        let slot = self.slot(username, password);
        let mut entries = self.entries.lock().expect("login cache lock");
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, e| e.at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            slot,
            CachedLogin {
                password_hash: stored_hash.to_owned(),
                principal: principal.clone(),
                at: std::time::Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod login_cache_tests {
    use super::*;

    fn p() -> Principal {
        Principal {
            user_id: UserId::new_v7(),
            username: "citizen1".into(),
            role: Role::Citizen,
            agency: None,
            owner_tag: None,
        }
    }

    #[test]
    fn hits_only_for_the_same_password_and_unchanged_hash() {
        let c = LoginCache::new(std::time::Duration::from_secs(60), 10);
        c.put("citizen1", "password", "$h1", &p());
        assert!(c.get("citizen1", "password", "$h1").is_some());
        assert!(
            c.get("citizen1", "passwore", "$h1").is_none(),
            "another password"
        );
        assert!(
            c.get("citizen2", "password", "$h1").is_none(),
            "another user"
        );
        assert!(
            c.get("citizen1", "password", "$h2").is_none(),
            "password changed since"
        );
        assert!(
            c.get("citizen1", "password", "$h1").is_none(),
            "the stale entry was dropped"
        );
    }

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let c = LoginCache::new(std::time::Duration::from_millis(0), 10);
        c.put("a", "b", "$h", &p());
        assert!(c.get("a", "b", "$h").is_none());
        let c = LoginCache::new(std::time::Duration::from_secs(60), 2);
        for u in ["a", "b", "c", "d"] {
            c.put(u, "pw", "$h", &p());
        }
        assert!(c.entries.lock().unwrap().len() <= 2);
        let off = LoginCache::new(std::time::Duration::from_secs(60), 0);
        off.put("a", "b", "$h", &p());
        assert!(off.get("a", "b", "$h").is_none());
    }
}
