//! TLS handshakes that record what the peer sent, and certificate helpers.

use sha2::{Digest, Sha256};

/// Upper-case hex SHA-256, the form fingerprints are shown in.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(der))
}
