//! TSIG (RFC 8945): the keys, checking a request's signature and signing the answer.
//!
//! The bytes a MAC covers are hickory-proto's (`signed_bitmessage_to_buf` for a request, as
//! received; the encoded answer for ours); the MAC is RustCrypto's HMAC, which has every
//! algorithm the clients default to: certbot and cert-manager hmac-md5, lego hmac-sha1,
//! dnspython, nsupdate users hmac-sha256.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use hickory_proto::op::Message;
use hickory_proto::rr::Name as DnsName;
use hickory_proto::rr::rdata::tsig::{TSIG, TsigAlgorithm, TsigError, make_tsig_record, signed_bitmessage_to_buf};
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretSlice};

use crate::config::TsigKeyConfig;

/// The fudge we sign with, and the most a request may claim (RFC 8945 recommends 300 s).
pub const FUDGE: u16 = 300;

/// One key, ready to use.
pub struct Key {
    pub name: DnsName,
    pub algorithm: TsigAlgorithm,
    secret: SecretSlice<u8>,
    /// Zones it may change, lowercase with the trailing dot.
    pub zones: Vec<String>,
    /// Names it may change (patterns, lowercase, no trailing dot); empty: any.
    pub names: Vec<String>,
    /// Types it may change (uppercase); empty: any.
    pub types: Vec<String>,
    /// Whether it may transfer its zones though `names` or `types` limit it.
    pub transfer: bool,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("name", &self.name).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

fn algorithm(text: &str) -> Option<TsigAlgorithm> {
    Some(match text.trim().trim_end_matches('.').to_ascii_lowercase().as_str() {
        "hmac-md5" | "hmac-md5.sig-alg.reg.int" => TsigAlgorithm::HmacMd5,
        "hmac-sha1" => TsigAlgorithm::HmacSha1,
        "hmac-sha224" => TsigAlgorithm::HmacSha224,
        "hmac-sha256" => TsigAlgorithm::HmacSha256,
        "hmac-sha384" => TsigAlgorithm::HmacSha384,
        "hmac-sha512" => TsigAlgorithm::HmacSha512,
        _ => return None,
    })
}

/// The secret and algorithm of a `tsig-keygen` key statement, or a bare base64 secret.
fn read_key_file(text: &str) -> (Option<String>, String) {
    if let Some(at) = text.find("secret") {
        let algorithm = text.find("algorithm").map(|a| {
            text[a + "algorithm".len()..]
                .trim_start()
                .split([';', ' ', '\n'])
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_owned()
        });
        let secret = text[at + "secret".len()..].trim_start().trim_start_matches('"');
        let secret = secret.split(['"', ';']).next().unwrap_or("").trim().to_owned();
        return (algorithm, secret);
    }
    (None, text.trim().to_owned())
}

impl Key {
    pub fn load(config: &TsigKeyConfig, config_dir: &Path) -> anyhow::Result<Key> {
        let at = format!("[[serve.rfc2136.keys]] '{}'", config.name);
        let (file_algorithm, secret) = match (&config.secret, &config.secret_file) {
            (Some(s), None) => (None, s.expose_secret().trim().to_owned()),
            (None, Some(file)) => {
                let path = config_dir.join(file);
                let text =
                    std::fs::read_to_string(&path).with_context(|| format!("{at}: secret_file {}", path.display()))?;
                read_key_file(&text)
            }
            (Some(_), Some(_)) => bail!("{at}: give secret or secret_file, not both"),
            (None, None) => bail!("{at}: no secret or secret_file"),
        };
        let named = config.algorithm.clone().or(file_algorithm).unwrap_or_else(|| "hmac-sha256".into());
        let algorithm = algorithm(&named).with_context(|| {
            format!("{at}: algorithm '{named}' is not one of hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512")
        })?;
        let secret = data_encoding::BASE64
            .decode(secret.as_bytes())
            .ok()
            .filter(|s| !s.is_empty())
            .with_context(|| format!("{at}: the secret is not base64"))?;
        let name = DnsName::from_ascii(config.name.trim_end_matches('.'))
            .map(|mut n| {
                n.set_fqdn(true);
                n.to_lowercase()
            })
            .with_context(|| format!("{at}: '{}' is not a key name", config.name))?;
        if config.zones.is_empty() {
            bail!("{at}: lists no zones it may change");
        }
        Ok(Key {
            name,
            algorithm,
            secret: SecretSlice::from(secret),
            zones: config
                .zones
                .iter()
                .map(|z| format!("{}.", z.trim().trim_end_matches('.').to_ascii_lowercase()))
                .collect(),
            names: config.names.iter().map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase()).collect(),
            types: config.types.iter().map(|t| t.trim().to_ascii_uppercase()).collect(),
            transfer: config.transfer,
        })
    }

    /// Whether the key may change (or ask about) records of type `rtype` (`ANY`: every
    /// type) at `name` (lowercase, no trailing dot).
    pub fn may_change(&self, name: &str, rtype: &str) -> bool {
        let name_ok = self.names.is_empty() || self.names.iter().any(|p| zonectl_core::glob::matches(p, name));
        let type_ok = self.types.is_empty() || self.types.iter().any(|t| t == rtype);
        name_ok && type_ok
    }

    /// Whether the key may transfer its zones whole.
    pub fn may_transfer(&self) -> bool {
        (self.names.is_empty() && self.types.is_empty()) || self.transfer
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        mac(&self.algorithm, self.secret.expose_secret(), data).expect("only known algorithms are loaded")
    }
}

fn mac(algorithm: &TsigAlgorithm, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    macro_rules! hmac {
        ($digest:ty) => {{
            let mut mac = Hmac::<$digest>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }};
    }
    Some(match algorithm {
        TsigAlgorithm::HmacMd5 => hmac!(md5::Md5),
        TsigAlgorithm::HmacSha1 => hmac!(sha1::Sha1),
        TsigAlgorithm::HmacSha224 => hmac!(sha2::Sha224),
        TsigAlgorithm::HmacSha256 => hmac!(sha2::Sha256),
        TsigAlgorithm::HmacSha384 => hmac!(sha2::Sha384),
        TsigAlgorithm::HmacSha512 => hmac!(sha2::Sha512),
        _ => return None,
    })
}

/// What a request's signature says.
pub enum Verdict<'k> {
    /// No TSIG.
    Unsigned,
    /// Signed with this key at `time`; the answer is signed with it too.
    Signed { key: &'k Key, request_mac: Vec<u8>, time: u64 },
    /// Refused: the answer carries this TSIG error, signed or not as RFC 8945 says.
    Failed { error: TsigError, key_name: DnsName, algorithm: TsigAlgorithm, signed_with: Option<(&'k Key, Vec<u8>)> },
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Checks the TSIG of `raw` (already parsed as `message`) against `keys`, allowing the
/// clocks to differ by the request's fudge but never by more than `max_fudge`: a client
/// cannot stretch the window a captured request may be replayed in.
pub fn verify<'k>(raw: &[u8], message: &Message, keys: &'k [Key], max_fudge: u16) -> Verdict<'k> {
    let Some(signature) = &message.signature else { return Verdict::Unsigned };
    let key_name = signature.name.to_lowercase();
    let tsig = &signature.data;
    // Names compared in any case: hickory reads only the upper-case form of hmac-md5's.
    let sent = algorithm(&tsig.algorithm.to_name().to_ascii());
    let Some(key) = keys.iter().find(|k| k.name == key_name && sent.as_ref() == Some(&k.algorithm)) else {
        return Verdict::Failed {
            error: TsigError::BadKey,
            key_name,
            algorithm: tsig.algorithm.clone(),
            signed_with: None,
        };
    };
    let Ok((tbs, _)) = signed_bitmessage_to_buf(raw, None, true) else {
        return Verdict::Failed {
            error: TsigError::BadSig,
            key_name,
            algorithm: tsig.algorithm.clone(),
            signed_with: None,
        };
    };
    let expected = key.mac(&tbs);
    let same = subtle::ConstantTimeEq::ct_eq(expected.as_slice(), tsig.mac.as_slice());
    if !bool::from(same) {
        return Verdict::Failed {
            error: TsigError::BadSig,
            key_name,
            algorithm: tsig.algorithm.clone(),
            signed_with: None,
        };
    }
    if now().abs_diff(tsig.time) > u64::from(tsig.fudge.min(max_fudge)) {
        return Verdict::Failed {
            error: TsigError::BadTime,
            key_name,
            algorithm: tsig.algorithm.clone(),
            signed_with: Some((key, tsig.mac.clone())),
        };
    }
    Verdict::Signed { key, request_mac: tsig.mac.clone(), time: tsig.time }
}

/// Signs `response` with `key`, chained to the request's MAC.
pub fn sign(response: &mut Message, key: &Key, request_mac: &[u8], error: Option<TsigError>) -> anyhow::Result<()> {
    let time = now();
    // BADTIME tells the client our clock.
    let other = if error == Some(TsigError::BadTime) { time.to_be_bytes()[2..].to_vec() } else { Vec::new() };
    let pre = TSIG::new(key.algorithm.clone(), time, FUDGE, Vec::new(), response.metadata.id, error, other);
    response.signature = None;
    let mut tbs = Vec::with_capacity(512);
    tbs.extend_from_slice(&u16::try_from(request_mac.len()).unwrap_or(0).to_be_bytes());
    tbs.extend_from_slice(request_mac);
    tbs.extend_from_slice(&response.to_vec()?);
    // A new encoder writes from the start of its buffer: the variables go in one of their own.
    let mut variables = Vec::with_capacity(64);
    pre.emit_tsig_for_mac(&mut hickory_proto::serialize::binary::BinEncoder::new(&mut variables), &key.name)?;
    tbs.extend_from_slice(&variables);
    let mac = key.mac(&tbs);
    response.signature = Some(Box::new(make_tsig_record(key.name.clone(), pre.set_mac(mac))));
    Ok(())
}

/// Signs a later message of a multi-message answer (a zone transfer): its MAC covers the
/// previous message's MAC, the message, and only the time and fudge (RFC 8945 §5.3.1).
pub fn sign_continuation(response: &mut Message, key: &Key, previous_mac: &[u8]) -> anyhow::Result<()> {
    let time = now();
    response.signature = None;
    let mut tbs = Vec::with_capacity(1024);
    tbs.extend_from_slice(&u16::try_from(previous_mac.len()).unwrap_or(0).to_be_bytes());
    tbs.extend_from_slice(previous_mac);
    tbs.extend_from_slice(&response.to_vec()?);
    tbs.extend_from_slice(&time.to_be_bytes()[2..]);
    tbs.extend_from_slice(&FUDGE.to_be_bytes());
    let mac = key.mac(&tbs);
    let tsig = TSIG::new(key.algorithm.clone(), time, FUDGE, mac, response.metadata.id, None, Vec::new());
    response.signature = Some(Box::new(make_tsig_record(key.name.clone(), tsig)));
    Ok(())
}

/// The MAC a signed message carries.
pub fn mac_of(message: &Message) -> Vec<u8> {
    message.signature.as_ref().map(|s| s.data.mac.clone()).unwrap_or_default()
}

/// The unsigned TSIG of a BADKEY or BADSIG answer: the error, no MAC.
pub fn unsigned_error(response: &mut Message, key_name: DnsName, algorithm: TsigAlgorithm, error: TsigError) {
    let tsig = TSIG::new(algorithm, now(), FUDGE, Vec::new(), response.metadata.id, Some(error), Vec::new());
    response.signature = Some(Box::new(make_tsig_record(key_name, tsig)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_in_any_case() {
        assert_eq!(algorithm("hmac-md5.sig-alg.reg.int."), Some(TsigAlgorithm::HmacMd5));
        assert_eq!(algorithm("HMAC-MD5.SIG-ALG.REG.INT"), Some(TsigAlgorithm::HmacMd5));
        assert_eq!(algorithm("HMAC-SHA256."), Some(TsigAlgorithm::HmacSha256));
        assert_eq!(algorithm("hmac-sha256-128"), None);
    }

    #[test]
    fn tsig_keygen_files_and_bare_secrets() {
        let file = "key \"acme\" {\n\talgorithm hmac-sha512;\n\tsecret \"c2VjcmV0\";\n};\n";
        assert_eq!(read_key_file(file), (Some("hmac-sha512".into()), "c2VjcmV0".into()));
        assert_eq!(read_key_file("c2VjcmV0\n"), (None, "c2VjcmV0".into()));
    }

    #[test]
    fn macs_match_rfc_4231_and_2202() {
        // RFC 4231 test case 2 (HMAC-SHA-256) and RFC 2202 test case 2 (HMAC-MD5, -SHA-1).
        let (key, data) = (b"Jefe", b"what do ya want for nothing?");
        let hex = |v: Vec<u8>| data_encoding::HEXLOWER.encode(&v);
        assert_eq!(
            hex(mac(&TsigAlgorithm::HmacSha256, key, data).unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(mac(&TsigAlgorithm::HmacSha224, key, data).unwrap()),
            "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"
        );
        assert_eq!(
            hex(mac(&TsigAlgorithm::HmacSha384, key, data).unwrap()),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
        );
        assert_eq!(
            hex(mac(&TsigAlgorithm::HmacSha512, key, data).unwrap()),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        assert_eq!(hex(mac(&TsigAlgorithm::HmacMd5, key, data).unwrap()), "750c783e6ab0b503eaa86e310a5db738");
        assert_eq!(hex(mac(&TsigAlgorithm::HmacSha1, key, data).unwrap()), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }
}

#[cfg(test)]
mod signing {
    use super::*;

    #[test]
    fn a_signed_answer_verifies_as_clients_verify_it() {
        let config = TsigKeyConfig {
            name: "k".into(),
            algorithm: Some("hmac-sha256".into()),
            secret: Some(secrecy::SecretString::from("c2VjcmV0c2VjcmV0".to_owned())),
            secret_file: None,
            zones: vec!["example.test".into()],
            names: vec![],
            types: vec![],
            transfer: false,
        };
        let key = Key::load(&config, Path::new(".")).unwrap();
        let mut answer = Message::response(7, hickory_proto::op::OpCode::Update);
        let request_mac = vec![1u8; 32];
        sign(&mut answer, &key, &request_mac, None).unwrap();
        let bytes = answer.to_vec().unwrap();
        let (tbs, record) = signed_bitmessage_to_buf(&bytes, Some(&request_mac), true).unwrap();
        assert_eq!(key.mac(&tbs), record.data.mac);
    }
}
