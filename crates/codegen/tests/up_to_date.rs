//! Fails when the committed generated code (the Rust shapes and tables, the domain's `api.rs`, and
//! the web page's `ui/generated/api.js`) differs from what the generator makes of the model, so
//! neither can change without the other.

use std::path::PathBuf;

#[test]
fn generated_code_matches_the_model() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join(caseload_codegen::MODEL_PATH)).unwrap();
    let model: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (name, expected) in caseload_codegen::generate(&model) {
        let path = root.join(&name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{} is out of date: run `cargo run -p caseload-codegen` and commit the result",
            path.display()
        );
    }
}
