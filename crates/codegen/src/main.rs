//! `cargo run -p caseload-codegen`: regenerates `crates/model/src/generated/`, the domain's
//! `crates/domain/src/api.rs` and the web page's `ui/generated/api.js` from the model.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text =
        std::fs::read_to_string(root.join(caseload_codegen::MODEL_PATH)).expect("read the model");
    let model: serde_json::Value = serde_json::from_str(&text).expect("parse the model");
    for (name, contents) in caseload_codegen::generate(&model) {
        let path = root.join(name);
        std::fs::write(&path, contents).expect("write generated code");
        println!("wrote {}", path.display());
    }
}
