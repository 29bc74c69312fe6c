// Embedded page files are `include_bytes!`ed, so rustc notices an edited file but not one added
// to or removed from `ui/`: watching the folder rebuilds the binary for those too. A debug build
// that reads `ui/` from disk needs no rebuild, so it does not watch.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let embedded = std::env::var_os("CARGO_FEATURE_EMBEDDED_UI").is_some()
        || std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none();
    if embedded {
        println!("cargo:rerun-if-changed=../../ui");
    }
}
