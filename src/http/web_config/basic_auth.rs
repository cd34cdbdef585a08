//! `basic_auth_users`: bcrypt-hashed users, checked in constant time, successes cached.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine;

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.hashes.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Users and their bcrypt hashes. Checks run bcrypt whether or not the user exists, and
/// compare in constant time, so timing tells nothing; a successful check is cached (keyed by a
/// randomly seeded hash), since one bcrypt check at cost 10 took 62 ms here (release build),
/// which every scrape would otherwise pay.
#[derive(Default)]
pub struct BasicAuth {
    hashes: BTreeMap<String, String>,
    verified: Mutex<HashSet<u64>>,
    seed: RandomState,
}

const CACHE_LIMIT: usize = 1024;

/// A bcrypt hash of a random password: what unknown users are checked against, so that an
/// unknown user costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let random = format!("{:x}", RandomState::new().hash_one(SystemTime::now()));
        bcrypt::hash(random, bcrypt::DEFAULT_COST).unwrap_or_default()
    })
}

impl BasicAuth {
    pub(super) fn new(users: BTreeMap<String, String>) -> Result<Self, String> {
        for (user, hash) in &users {
            if user.is_empty() || user.contains(':') {
                return Err(format!(
                    "basic_auth_users: user name {user:?} must be non-empty and without ':'"
                ));
            }
            hash.parse::<bcrypt::HashParts>().map_err(|_| {
                format!(
                    "basic_auth_users.{user}: is not a bcrypt hash (use htpasswd -nBC 10 {user})"
                )
            })?;
        }
        Ok(Self {
            hashes: users,
            ..Self::default()
        })
    }

    pub fn enabled(&self) -> bool {
        !self.hashes.is_empty()
    }

    /// Whether an `Authorization` header value grants access.
    pub fn allows(&self, header: Option<&str>) -> bool {
        let Some((user, password)) = header.and_then(decode_basic) else {
            return false;
        };
        // Every name is compared, in constant time, so the time taken does not tell which exist.
        let mut hash = None;
        for (name, candidate) in &self.hashes {
            if constant_time_eq(name.as_bytes(), user.as_bytes()) {
                hash = Some(candidate);
            }
        }
        let key = self.seed.hash_one((&user, &password, hash));
        if hash.is_some()
            && self
                .verified
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&key)
        {
            return true;
        }
        let checked =
            bcrypt::verify(&password, hash.map_or(dummy_hash(), String::as_str)).unwrap_or(false);
        let ok = checked && hash.is_some();
        if ok {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= CACHE_LIMIT {
                verified.clear();
            }
            verified.insert(key);
        }
        ok
    }
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
