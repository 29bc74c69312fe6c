//! Access keys and the accounts they act as, and the TOML file that lists them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One access key and the account it acts as.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

// Hand-written so that logging an identity (or a config error carrying one) never leaks the secret.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// Looks up the identity for an access key id. One-method trait so a later storage-backed lookup
/// can plug in.
pub trait CredentialLookup: Send + Sync {
    fn lookup(&self, access_key_id: &str) -> Option<Identity>;
}

/// Why an identities file was refused. Messages name the offending entry so an operator can fix
/// the file without guessing.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read identities file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("identities file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("identities file lists no [[identity]]; at least one is required")]
    Empty,
    #[error("identity {index}: access_key_id must be 1-128 ASCII letters, digits or '_'")]
    InvalidAccessKeyId { index: usize },
    #[error("identity {access_key_id}: secret_access_key must not be empty")]
    EmptySecret { access_key_id: String },
    #[error("identity {access_key_id}: account_id {account_id:?} must be exactly 12 digits")]
    InvalidAccountId {
        access_key_id: String,
        account_id: String,
    },
    #[error("access_key_id {0} is listed more than once")]
    DuplicateAccessKeyId(String),
}

/// The identities the server accepts.
#[derive(Debug, Clone)]
pub struct Identities {
    by_key: BTreeMap<String, Identity>,
}

/// The file layout: `[[identity]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentitiesFile {
    #[serde(default)]
    identity: Vec<Identity>,
}

impl Identities {
    /// One identity: access key "test", secret "test", account "000000000000" (what local AWS
    /// tooling conventionally uses, so SDKs work against a fresh server without configuration).
    pub fn default_test() -> Self {
        Self::build(vec![default_identity()]).expect("the built-in identity is valid")
    }

    pub fn from_toml_str(s: &str) -> Result<Self, ConfigError> {
        let file: IdentitiesFile = toml::from_str(s)?;
        Self::build(file.identity)
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// True when the only identity is the built-in test/test one. Its secret is public knowledge,
    /// so the server must not expose itself beyond loopback with it.
    pub fn only_default(&self) -> bool {
        self.by_key.len() == 1 && self.by_key.values().all(|i| *i == default_identity())
    }

    fn build(list: Vec<Identity>) -> Result<Self, ConfigError> {
        if list.is_empty() {
            return Err(ConfigError::Empty);
        }
        let mut by_key = BTreeMap::new();
        for (index, identity) in list.into_iter().enumerate() {
            validate(index, &identity)?;
            if by_key.contains_key(&identity.access_key_id) {
                return Err(ConfigError::DuplicateAccessKeyId(identity.access_key_id));
            }
            by_key.insert(identity.access_key_id.clone(), identity);
        }
        Ok(Self { by_key })
    }
}

impl CredentialLookup for Identities {
    fn lookup(&self, access_key_id: &str) -> Option<Identity> {
        self.by_key.get(access_key_id).cloned()
    }
}

fn default_identity() -> Identity {
    Identity {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        account_id: "000000000000".into(),
    }
}

fn validate(index: usize, identity: &Identity) -> Result<(), ConfigError> {
    let key = &identity.access_key_id;
    // IAM's own pattern for key ids; it also guarantees the id survives inside the
    // `Credential=<id>/<date>/...` scope, which is split on '/'.
    let key_ok = (1..=128).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !key_ok {
        return Err(ConfigError::InvalidAccessKeyId { index });
    }
    if identity.secret_access_key.is_empty() {
        return Err(ConfigError::EmptySecret {
            access_key_id: key.clone(),
        });
    }
    let account = &identity.account_id;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::InvalidAccountId {
            access_key_id: key.clone(),
            account_id: account.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [[identity]]
        access_key_id = "AKIDEXAMPLE"
        secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        account_id = "123456789012"

        [[identity]]
        access_key_id = "AKIDOTHER"
        secret_access_key = "other"
        account_id = "123456789012"
    "#;

    fn err(toml: &str) -> ConfigError {
        Identities::from_toml_str(toml).unwrap_err()
    }

    #[test]
    fn parses_good_file() {
        let ids = Identities::from_toml_str(GOOD).unwrap();
        let id = ids.lookup("AKIDEXAMPLE").unwrap();
        assert_eq!(id.account_id, "123456789012");
        assert_eq!(
            id.secret_access_key,
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(ids.lookup("AKIDOTHER").unwrap().secret_access_key, "other");
        assert!(
            ids.lookup("akidexample").is_none(),
            "key ids are case-sensitive"
        );
        assert!(ids.lookup("nobody").is_none());
        assert!(!ids.only_default());
    }

    #[test]
    fn rejects_bad_files() {
        assert!(matches!(err(""), ConfigError::Empty));
        assert!(matches!(err("identity = []"), ConfigError::Empty));
        assert!(matches!(err("[[identity]\n"), ConfigError::Toml(_)));
        // A typo in a field name must not silently drop the field.
        let typo = "[[identity]]\naccess_key_id='A'\nsecret_access_key='s'\naccount='123456789012'";
        assert!(matches!(err(typo), ConfigError::Toml(_)));

        let one = |key: &str, secret: &str, account: &str| {
            format!(
                "[[identity]]\naccess_key_id = {key:?}\nsecret_access_key = {secret:?}\naccount_id = {account:?}\n"
            )
        };
        for account in [
            "12345678901",
            "1234567890123",
            "12345678901a",
            "",
            "１２３４５６７８９０１２",
        ] {
            let e = err(&one("AKID", "s", account));
            assert!(
                matches!(e, ConfigError::InvalidAccountId { .. }),
                "{account:?}: {e}"
            );
        }
        for key in ["", "AKID/X", "AKID X", "ÄKID"] {
            let e = err(&one(key, "s", "123456789012"));
            assert!(
                matches!(e, ConfigError::InvalidAccessKeyId { index: 0 }),
                "{key:?}: {e}"
            );
        }
        assert!(matches!(
            err(&one("AKID", "", "123456789012")),
            ConfigError::EmptySecret { .. }
        ));

        let dup = one("AKID", "a", "123456789012") + &one("AKID", "b", "210987654321");
        let e = err(&dup);
        assert!(
            matches!(&e, ConfigError::DuplicateAccessKeyId(k) if k == "AKID"),
            "{e}"
        );
    }

    #[test]
    fn reads_file_and_reports_missing_path() {
        let dir = std::env::temp_dir().join(format!("caseload-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("identities.toml");
        std::fs::write(&path, GOOD).unwrap();
        assert!(
            Identities::from_file(&path)
                .unwrap()
                .lookup("AKIDOTHER")
                .is_some()
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let e = Identities::from_file(&path).unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }));
        assert!(e.to_string().contains("identities.toml"), "{e}");
    }

    #[test]
    fn only_default() {
        let d = Identities::default_test();
        assert!(d.only_default());
        let id = d.lookup("test").unwrap();
        assert_eq!(
            (id.secret_access_key.as_str(), id.account_id.as_str()),
            ("test", "000000000000")
        );

        // The same key pair written out in a file is still the public default.
        let same = "[[identity]]\naccess_key_id='test'\nsecret_access_key='test'\naccount_id='000000000000'";
        assert!(Identities::from_toml_str(same).unwrap().only_default());
        // A different secret, a different account or an extra key is a real configuration.
        let other_secret = same.replace("secret_access_key='test'", "secret_access_key='s3cret'");
        assert!(
            !Identities::from_toml_str(&other_secret)
                .unwrap()
                .only_default()
        );
        let other_account = same.replace("000000000000", "111111111111");
        assert!(
            !Identities::from_toml_str(&other_account)
                .unwrap()
                .only_default()
        );
        let extra = format!(
            "{same}\n[[identity]]\naccess_key_id='k'\nsecret_access_key='s'\naccount_id='111111111111'"
        );
        assert!(!Identities::from_toml_str(&extra).unwrap().only_default());
    }

    #[test]
    fn debug_hides_secret() {
        let shown = format!("{:?}", Identities::from_toml_str(GOOD).unwrap());
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(shown.contains("AKIDEXAMPLE"));
    }
}
