//! Generates the ABI types from the one C header the module also uses.
use std::{env, path::PathBuf};

fn main() {
    let header = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../include/escguard_abi.h")
        .canonicalize()
        .expect("include/escguard_abi.h not found");
    println!("cargo:rerun-if-changed={}", header.display());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("abi.rs");
    bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_arg("-D__BINDGEN__")
        .allowlist_type("escguard_.*")
        .allowlist_var("ESCGUARD_.*")
        .derive_default(true)
        .layout_tests(true)
        .use_core()
        .generate()
        .expect("bindgen failed on include/escguard_abi.h")
        .write_to_file(out)
        .expect("cannot write abi.rs");
}
