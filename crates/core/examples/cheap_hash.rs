//! Prints an argon2id PHC string for the password on stdin with the cheapest parameters
//! argon2 allows (m = 8 KiB, t = 1, p = 1). Used only by `bench/oidc/run.sh` to measure a login
//! "without argon2's own cost": verification reads the parameters from the stored hash, so a
//! user with this hash costs the login path everything except the deliberate hashing work.
//! Never a way to store real passwords.

use std::io::Read;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn main() {
    let mut password = String::new();
    if std::io::stdin().read_to_string(&mut password).is_err() || password.is_empty() {
        eprintln!("cheap_hash: give the password on stdin");
        std::process::exit(2);
    }
    let params = match Params::new(8, 1, 1, None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cheap_hash: {e}");
            std::process::exit(1);
        }
    };
    let mut salt = [0u8; 16];
    if getrandom::getrandom(&mut salt).is_err() {
        eprintln!("cheap_hash: no randomness");
        std::process::exit(1);
    }
    let hashed = SaltString::encode_b64(&salt)
        .map_err(|e| e.to_string())
        .and_then(|salt| {
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        });
    match hashed {
        Ok(h) => println!("{h}"),
        Err(e) => {
            eprintln!("cheap_hash: {e}");
            std::process::exit(1);
        }
    }
}
