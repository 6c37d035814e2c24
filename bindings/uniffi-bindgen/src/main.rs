//! `uniffi-bindgen`: generates the Kotlin and Swift bindings from the built keyway-ffi
//! library (library mode), e.g.
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libkeyway_ffi.so --language kotlin --out-dir out`.
//!
//! Three changes to what uniffi writes: a Kotlin exception's `message` is the Rust error's
//! `Display` sentence, as Swift's `description` already is ([`kotlin_messages`]); a foreign
//! trait's callback that lowers a core type compiles ([`kotlin_external`]); and the
//! two components (`keyway`, `keyway_core`) share one Swift module, so their Swift files
//! and headers are written one crate at a time, side by side ([`swift_module`]).

mod kotlin_external;
mod kotlin_messages;
mod swift_module;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if swift_module::wants_one_module(&args) {
        if let Err(e) = swift_module::generate(&args) {
            eprintln!("uniffi-bindgen: {e}");
            std::process::exit(1);
        }
        return;
    }
    uniffi::uniffi_bindgen_main();
    let kotlin = args.windows(2).any(|w| w[0] == "--language" && w[1] == "kotlin")
        || args.iter().any(|a| a == "--language=kotlin");
    let out_dir = args.windows(2).find(|w| w[0] == "--out-dir").map(|w| w[1].clone());
    if let (true, Some(out_dir)) = (kotlin, out_dir)
        && let Err(e) = kotlin_messages::rewrite_dir(std::path::Path::new(&out_dir))
    {
        eprintln!("uniffi-bindgen: could not set the Kotlin exception messages: {e}");
        std::process::exit(1);
    }
}
