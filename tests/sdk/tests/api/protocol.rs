//! Authentication, accounts, regions and the command line.

use caseload_sdk_tests::{Server, TempDir, binary, error_code};
use std::process::Command;

const TWO_ACCOUNTS: &str = r#"
[[identity]]
access_key_id = "AKIDALICE"
secret_access_key = "alice-secret"
account_id = "111111111111"

[[identity]]
access_key_id = "AKIDBOB"
secret_access_key = "bob-secret"
account_id = "222222222222"
"#;

fn credentials_file(dir: &TempDir) -> String {
    let path = dir.path().join("credentials.toml");
    std::fs::write(&path, TWO_ACCOUNTS).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn unknown_keys_and_bad_signatures_are_refused() {
    let server = Server::start();
    let e = server
        .client_as("nobody", "x", "us-east-1")
        .list_domains()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "UnrecognizedClientException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    let e = server
        .client_as("test", "wrong", "us-east-1")
        .list_domains()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "InvalidSignatureException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
}

#[tokio::test]
async fn accounts_are_isolated() {
    let dir = TempDir::new("accounts");
    let server = Server::spawn(vec![
        "--in-memory".into(),
        "--credentials".into(),
        credentials_file(&dir),
    ]);
    let alice = server.client_as("AKIDALICE", "alice-secret", "us-east-1");
    let bob = server.client_as("AKIDBOB", "bob-secret", "us-east-1");
    let d = alice
        .create_domain()
        .name("shared-name")
        .send()
        .await
        .unwrap();
    assert!(d.domain_arn().contains(":111111111111:"));
    // Bob sees nothing of Alice's, cannot read, tag or delete it, and may reuse the name.
    assert!(
        bob.list_domains()
            .send()
            .await
            .unwrap()
            .domains()
            .is_empty()
    );
    let e = bob
        .get_domain()
        .domain_id(d.domain_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let e = bob
        .tag_resource()
        .arn(d.domain_arn())
        .tags("k", Some("v".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let e = bob
        .delete_domain()
        .domain_id(d.domain_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    bob.create_domain()
        .name("shared-name")
        .send()
        .await
        .unwrap();
    assert_eq!(
        alice.list_domains().send().await.unwrap().domains().len(),
        1
    );
    // The default identity does not exist when a credentials file is given.
    let e = server.client().list_domains().send().await.unwrap_err();
    assert_eq!(error_code(&e), "UnrecognizedClientException");
}

#[tokio::test]
async fn regions_are_separate_and_go_into_arns() {
    let server = Server::start();
    let west = server.client_as("test", "test", "eu-west-2");
    let d = west.create_domain().name("w").send().await.unwrap();
    assert!(
        d.domain_arn()
            .starts_with("arn:aws:cases:eu-west-2:000000000000:domain/")
    );
    assert!(
        server
            .client()
            .list_domains()
            .send()
            .await
            .unwrap()
            .domains()
            .is_empty()
    );
    assert_eq!(west.list_domains().send().await.unwrap().domains().len(), 1);
}

#[test]
fn refuses_a_public_address_with_only_the_test_identity() {
    let out = Command::new(binary())
        .args(["serve", "--in-memory", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--credentials"), "{err}");
}

#[tokio::test]
async fn a_public_address_is_fine_with_declared_identities() {
    let dir = TempDir::new("public");
    let server = Server::spawn(vec![
        "--in-memory".into(),
        "--credentials".into(),
        credentials_file(&dir),
        "--listen".into(),
        "0.0.0.0:0".into(),
    ]);
    let endpoint = server.endpoint.replace("0.0.0.0", "127.0.0.1");
    assert!(endpoint.starts_with("http://127.0.0.1:"));
}

#[test]
fn help_documents_every_flag_and_its_environment_variable() {
    let out = Command::new(binary())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--in-memory",
        "--credentials",
        "--max-body-bytes",
        "--max-domains",
        "--idle-timeout",
        "--header-timeout",
        "--body-timeout",
        "--max-connections",
        "--throttle",
        "--throttle-rate",
        "--fault-rate",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    for var in [
        "CASELOAD_LISTEN",
        "CASELOAD_DATA_DIR",
        "CASELOAD_IN_MEMORY",
        "CASELOAD_CREDENTIALS",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

#[test]
fn environment_variables_configure_the_server() {
    let dir = TempDir::new("env");
    let mut child = Command::new(binary())
        .arg("serve")
        .env("CASELOAD_LISTEN", "127.0.0.1:0")
        .env("CASELOAD_DATA_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(dir.path().join("caseload.sqlite3").exists());
    child.kill().unwrap();
    child.wait().unwrap();
}
