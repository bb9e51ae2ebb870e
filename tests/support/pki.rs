//! Test PKI built with rcgen: roots, intermediates and leaves with chosen names and validity.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// A moment `n` days from now (negative: in the past).
pub fn days(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(n)
}

/// A certificate authority (root or intermediate) that can sign.
pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: CertificateDer<'static>,
    pub pem: String,
}

/// A server certificate and its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

fn ca_params(
    org: &str,
    cn: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    root: bool,
) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CountryName, "US");
    p.distinguished_name.push(DnType::OrganizationName, org);
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(if root {
        BasicConstraints::Unconstrained
    } else {
        BasicConstraints::Constrained(0)
    });
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = from;
    p.not_after = to;
    p
}

impl Ca {
    /// A self-signed root `C=US, O=org, CN=cn`.
    pub fn root(org: &str, cn: &str, from: OffsetDateTime, to: OffsetDateTime) -> Ca {
        let params = ca_params(org, cn, from, to, true);
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("self-signed root");
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    /// A root valid from a year ago for ten years.
    pub fn valid_root(org: &str, cn: &str) -> Ca {
        Ca::root(org, cn, days(-365), days(3650))
    }

    pub fn intermediate(
        &self,
        org: &str,
        cn: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Ca {
        let params = ca_params(org, cn, from, to, false);
        let key = KeyPair::generate().expect("key");
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .expect("intermediate");
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    /// This CA's certificate (same subject and key) issued by `other`: a cross-sign, like
    /// ISRG Root X1 signed by DST Root CA X3.
    pub fn cross_signed_by(
        &self,
        other: &Ca,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> CertificateDer<'static> {
        let mut params = self.params.clone();
        params.not_before = from;
        params.not_after = to;
        params
            .signed_by(&self.key, &Issuer::from_params(&other.params, &other.key))
            .expect("cross-sign")
            .der()
            .clone()
    }

    pub fn leaf_with(
        &self,
        names: &[&str],
        from: OffsetDateTime,
        to: OffsetDateTime,
        eku: ExtendedKeyUsagePurpose,
    ) -> Leaf {
        sign_leaf(leaf_params(names, from, to, eku), self)
    }

    /// A valid server certificate whose Authority Information Access names `url` as the place
    /// its issuer's certificate is published (caIssuers), as public CAs issue them.
    pub fn leaf_with_ca_issuers(&self, names: &[&str], url: &str) -> Leaf {
        let mut p = leaf_params(
            names,
            days(-10),
            days(80),
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            aia_ca_issuers(url),
        )];
        sign_leaf(p, self)
    }

    /// A server certificate for `names`, valid from `from` to `to`.
    pub fn leaf(&self, names: &[&str], from: OffsetDateTime, to: OffsetDateTime) -> Leaf {
        self.leaf_with(names, from, to, ExtendedKeyUsagePurpose::ServerAuth)
    }

    pub fn valid_leaf(&self, names: &[&str]) -> Leaf {
        self.leaf(names, days(-10), days(80))
    }
}

fn leaf_params(
    names: &[&str],
    from: OffsetDateTime,
    to: OffsetDateTime,
    eku: ExtendedKeyUsagePurpose,
) -> CertificateParams {
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("leaf params");
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.not_before = from;
    p.not_after = to;
    p.extended_key_usages = vec![eku];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p
}

fn sign_leaf(p: CertificateParams, ca: &Ca) -> Leaf {
    let key = KeyPair::generate().expect("key");
    let cert = p
        .signed_by(&key, &Issuer::from_params(&ca.params, &ca.key))
        .expect("leaf");
    Leaf {
        der: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// AuthorityInfoAccessSyntax with one caIssuers URI (RFC 5280 4.2.2.1), DER by hand: rcgen has
/// no builder for it. Short URLs only (single-byte lengths).
fn aia_ca_issuers(url: &str) -> Vec<u8> {
    assert!(url.len() < 100);
    let mut desc = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    desc.push(0x86);
    desc.push(url.len() as u8);
    desc.extend(url.as_bytes());
    let mut inner = vec![0x30, desc.len() as u8];
    inner.extend(desc);
    let mut outer = vec![0x30, inner.len() as u8];
    outer.extend(inner);
    outer
}

/// Writes PEM blocks into one file in `dir`.
pub fn write_pem(dir: &Path, name: &str, pems: &[&str]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pems.concat()).expect("write PEM");
    path
}

/// The real ISRG Root X1 PEM (tests/data).
pub fn isrg_root_x1_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/isrg-root-x1.pem"
    ))
    .expect("tests/data/isrg-root-x1.pem")
}

/// The real, expired DST Root CA X3 PEM (tests/data).
pub fn dst_root_ca_x3_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/dst-root-ca-x3.pem"
    ))
    .expect("tests/data/dst-root-ca-x3.pem")
}
