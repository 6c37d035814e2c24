//! `uniffi-bindgen`: generates the Kotlin and Swift bindings from the built keyway-ffi
//! library (library mode), e.g.
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libkeyway_ffi.so --language kotlin --out-dir out`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
