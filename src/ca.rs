//! ACME CA profiles: where the directory is, which host serves the API, which CAA identities
//! the CA honours and which roots its API certificate is expected to chain to.
//!
//! Let's Encrypt roots are pinned by certificate SHA-256 (values from `shared/reference/tls-trust.md`,
//! computed from the PEMs on letsencrypt.org). For the other CAs we do not ship pinned
//! fingerprints we could not verify; their API certificates are expected to anchor in one of a
//! few named public roots, matched by subject common name among Mozilla's roots.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootMatch {
    /// Upper-case hex SHA-256 of the root certificate's DER.
    Sha256(String),
    /// Subject common name of a root in Mozilla's store.
    SubjectCn(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRoot {
    pub name: String,
    pub matcher: RootMatch,
}

impl ExpectedRoot {
    fn sha(name: &str, hex: &str) -> Self {
        ExpectedRoot {
            name: name.into(),
            matcher: RootMatch::Sha256(hex.replace(':', "")),
        }
    }
    fn cn(name: &str) -> Self {
        ExpectedRoot {
            name: name.into(),
            matcher: RootMatch::SubjectCn(name.into()),
        }
    }
    pub fn describe(&self) -> String {
        match &self.matcher {
            RootMatch::Sha256(h) => format!("{} (SHA-256 {})", self.name, h),
            RootMatch::SubjectCn(_) => format!("{} (by name, in Mozilla's roots)", self.name),
        }
    }
}

pub const ISRG_ROOT_X1_SHA256: &str =
    "96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6";
pub const ISRG_ROOT_X2_SHA256: &str =
    "69729B8E15A86EFC177A57AFB7171DFC64ADD28C2FCA8CF1507E34453CCB1470";
pub const ISRG_ROOT_YE_SHA256: &str =
    "E14FFCAD5B0025731006CAA43A121A22D8E9700F4FB9CF852F02A708AA5D5666";
pub const ISRG_ROOT_YR_SHA256: &str =
    "E57B7E6F150C419102E8D5C055729FF967B9D1A829BF00CEC89CA604EBF4A86F";
/// The IdenTrust root that expired on 2021-09-30 and still breaks old clients.
pub const DST_ROOT_CA_X3_SHA256: &str =
    "0687260331A72403D909F105E69BCF0D32E1BD2493FFC6D9206D11BCD6770739";

#[derive(Debug, Clone)]
pub struct CaProfile {
    /// Profile name as given to `--ca`, or `custom` for a directory URL.
    pub name: String,
    pub display: String,
    pub directory_url: Url,
    pub caa_identities: Vec<String>,
    pub expected_roots: Vec<ExpectedRoot>,
}

impl CaProfile {
    pub fn api_host(&self) -> &str {
        self.directory_url.host_str().unwrap_or_default()
    }

    pub fn api_port(&self) -> u16 {
        self.directory_url.port_or_known_default().unwrap_or(443)
    }
}

pub const PROFILE_NAMES: &[&str] = &[
    "letsencrypt",
    "letsencrypt-staging",
    "zerossl",
    "google",
    "sslcom",
];

fn isrg_roots() -> Vec<ExpectedRoot> {
    vec![
        ExpectedRoot::sha("ISRG Root X1", ISRG_ROOT_X1_SHA256),
        ExpectedRoot::sha("ISRG Root X2", ISRG_ROOT_X2_SHA256),
        ExpectedRoot::sha("ISRG Root YE", ISRG_ROOT_YE_SHA256),
        ExpectedRoot::sha("ISRG Root YR", ISRG_ROOT_YR_SHA256),
    ]
}

/// Resolves `--ca`: a profile name or an `https://` directory URL.
pub fn profile(arg: &str) -> Result<CaProfile, String> {
    let p =
        |name: &str, display: &str, url: &str, caa: &[&str], roots: Vec<ExpectedRoot>| CaProfile {
            name: name.into(),
            display: display.into(),
            directory_url: Url::parse(url).expect("built-in directory URL parses"),
            caa_identities: caa.iter().map(|s| s.to_string()).collect(),
            expected_roots: roots,
        };
    Ok(match arg.to_ascii_lowercase().as_str() {
        "letsencrypt" | "le" => p(
            "letsencrypt",
            "Let's Encrypt",
            "https://acme-v02.api.letsencrypt.org/directory",
            &["letsencrypt.org"],
            isrg_roots(),
        ),
        "letsencrypt-staging" | "le-staging" => p(
            "letsencrypt-staging",
            "Let's Encrypt (staging)",
            "https://acme-staging-v02.api.letsencrypt.org/directory",
            &["letsencrypt.org"],
            isrg_roots(),
        ),
        "zerossl" => p(
            "zerossl",
            "ZeroSSL",
            "https://acme.zerossl.com/v2/DV90",
            &["sectigo.com"],
            [
                "USERTrust RSA Certification Authority",
                "USERTrust ECC Certification Authority",
                "Sectigo Public Server Authentication Root R46",
                "Sectigo Public Server Authentication Root E46",
            ]
            .iter()
            .map(|n| ExpectedRoot::cn(n))
            .collect(),
        ),
        "google" | "gts" => p(
            "google",
            "Google Trust Services",
            "https://dv.acme-v02.api.pki.goog/directory",
            &["pki.goog"],
            [
                "GTS Root R1",
                "GTS Root R2",
                "GTS Root R3",
                "GTS Root R4",
                "GlobalSign Root CA",
            ]
            .iter()
            .map(|n| ExpectedRoot::cn(n))
            .collect(),
        ),
        "sslcom" | "ssl.com" => p(
            "sslcom",
            "SSL.com",
            "https://acme.ssl.com/sslcom-dv-rsa",
            &["ssl.com"],
            [
                "SSL.com Root Certification Authority RSA",
                "SSL.com Root Certification Authority ECC",
                "SSL.com TLS RSA Root CA 2022",
                "SSL.com TLS ECC Root CA 2022",
            ]
            .iter()
            .map(|n| ExpectedRoot::cn(n))
            .collect(),
        ),
        _ => {
            let url = Url::parse(arg).map_err(|e| {
                format!(
                    "--ca {arg:?}: not a known CA ({}) and not a directory URL ({e})",
                    PROFILE_NAMES.join(", ")
                )
            })?;
            if url.scheme() != "https" {
                return Err(format!(
                    "--ca {arg:?}: an ACME directory URL must use https (RFC 8555 §6.1)"
                ));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!("--ca {arg:?}: the directory URL has no host"));
            }
            // A directory URL on a known CA's API host (a test path, a lab standing in for the
            // CA) keeps that CA's identities and roots.
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            if let Some(mut known) = PROFILE_NAMES
                .iter()
                .filter_map(|n| profile(n).ok())
                .find(|p| p.api_host() == host)
            {
                known.directory_url = url;
                return Ok(known);
            }
            CaProfile {
                name: "custom".into(),
                display: format!("ACME CA at {}", url.host_str().unwrap_or_default()),
                directory_url: url,
                caa_identities: Vec::new(),
                expected_roots: Vec::new(),
            }
        }
    })
}

/// Expected roots from a PEM file given with `--ca-root` (a private CA or a test lab).
pub fn roots_from_pem(path: &std::path::Path) -> Result<Vec<ExpectedRoot>, String> {
    let data = std::fs::read(path).map_err(|e| format!("--ca-root {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for item in rustls_pemfile::certs(&mut data.as_slice()) {
        let der = item.map_err(|e| format!("--ca-root {}: bad PEM: {e}", path.display()))?;
        let name = x509_parser::parse_x509_certificate(&der)
            .map(|(_, c)| c.subject().to_string())
            .map_err(|e| {
                format!(
                    "--ca-root {}: not an X.509 certificate: {e}",
                    path.display()
                )
            })?;
        out.push(ExpectedRoot {
            name,
            matcher: RootMatch::Sha256(crate::net::tls::sha256_hex(&der)),
        });
    }
    if out.is_empty() {
        return Err(format!(
            "--ca-root {}: no PEM certificate found",
            path.display()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_profiles_resolve() {
        for name in PROFILE_NAMES {
            let p = profile(name).unwrap();
            assert!(!p.api_host().is_empty());
            assert_eq!(p.api_port(), 443);
            assert!(!p.caa_identities.is_empty());
        }
        assert_eq!(
            profile("letsencrypt").unwrap().api_host(),
            "acme-v02.api.letsencrypt.org"
        );
    }

    #[test]
    fn custom_url_and_errors() {
        let p = profile("https://acme.test:14000/dir").unwrap();
        assert_eq!((p.api_host(), p.api_port()), ("acme.test", 14000));
        assert!(profile("http://acme.test/dir")
            .unwrap_err()
            .contains("https"));
        assert!(profile("nonsense").unwrap_err().contains("not a known CA"));
        let le = profile("https://acme-v02.api.letsencrypt.org/dir").unwrap();
        assert_eq!(le.name, "letsencrypt");
        assert_eq!(le.directory_url.path(), "/dir");
    }
}
