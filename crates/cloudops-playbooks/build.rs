//! Compiles the built-in playbook library (`library/*.yaml`) into the crate.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was compiled: a build cache shared between
    // checkouts reuses the compiled script, and a path baked in would name another checkout.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let library = Path::new(&manifest).join("library");
    println!("cargo::rerun-if-changed={}", library.display());
    let mut names: Vec<String> = std::fs::read_dir(&library)
        .expect("library/ is readable")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    let mut code = String::from("&[\n");
    for name in &names {
        let path = library.join(name);
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string())
            .expect("writing to a string");
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set")).join("builtin.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
