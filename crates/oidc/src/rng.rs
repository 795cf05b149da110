//! Randomness is passed in: [`Rng`] fills buffers. Tests use a closure or a fixed pattern;
//! the server uses [`OsRng`] (the operating system's CSPRNG).

/// A source of cryptographically secure random bytes.
pub trait Rng {
    /// Fills `buf` entirely with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> Rng for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// The kernel's CSPRNG (`getrandom(2)`), as for password salts and TOTP secrets. OpenSSL's
/// `RAND_bytes` (its DRBG behind a lock, re-keyed per call) took twice as long for the 32
/// bytes of a token (667 ns against 353 ns), and the token endpoint draws two per request.
/// Panics only if the kernel has no randomness to give, which means the process cannot
/// issue any secure token at all.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        #[allow(clippy::expect_used)]
        getrandom::getrandom(buf).expect("getrandom failed: no secure randomness")
    }
}

/// A fresh random token of `bytes` random bytes, base64url-encoded (codes, refresh tokens,
/// opaque access tokens, `jti`s). 32 bytes gives 256 bits, above RFC 6749 10.10's 128.
pub fn random_token(rng: &mut dyn Rng, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf);
    crate::b64::encode(&buf)
}
