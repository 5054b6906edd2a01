//! Secrets at rest and random tokens.
//!
//! Secrets are sealed with XChaCha20-Poly1305 under the master key: a random 24-byte nonce per
//! value, stored as `nonce ‖ ciphertext ‖ tag`. The associated data names the row and column a
//! value belongs to, so a sealed blob copied into another user's row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 24;

/// A sealed value could not be opened (wrong key, or tampered with).
#[derive(Debug, thiserror::Error)]
#[error("a stored secret cannot be decrypted (was the master key changed?)")]
pub struct OpenError;

/// The master key.
#[derive(Clone)]
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

impl MasterKey {
    /// The key from its 32 bytes.
    #[must_use]
    pub fn new(bytes: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&(*bytes).into()),
        }
    }

    /// Encrypts `plain`, bound to `context` (e.g. `"domino_password:<user id>"`).
    #[must_use]
    pub fn seal(&self, context: &str, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            // Encryption only fails for messages beyond 256 GiB.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a value sealed by [`MasterKey::seal`] with the same `context`.
    ///
    /// # Errors
    /// [`OpenError`] when the key or the context differ or the blob was altered.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<String, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError)?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

/// 32 random bytes as 64 hex digits (session ids, CSRF tokens, OAuth `state`, lease tokens).
#[must_use]
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

/// SHA-256 of `s`, hex (session ids are stored only as hashes).
#[must_use]
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// Compares two strings in time independent of where they differ.
#[must_use]
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_key_and_context() {
        let k = MasterKey::new(&[7; 32]);
        let s = k.seal("pw:u1", "hunter2");
        assert!(!s.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(k.open("pw:u1", &s).unwrap(), "hunter2");
        assert!(k.open("pw:u2", &s).is_err());
        assert!(MasterKey::new(&[8; 32]).open("pw:u1", &s).is_err());
        let mut t = s.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(k.open("pw:u1", &t).is_err());
        assert_ne!(k.seal("pw:u1", "hunter2"), s, "nonces are random");
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
        assert_eq!(random_token().len(), 64);
    }
}
