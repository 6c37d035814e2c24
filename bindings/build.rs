//! Link options for the library the apps load: its relative relocations packed, so the
//! dynamic loader's table is a few kilobytes instead of a few hundred (one 24-byte entry
//! per pointer in the library's constant data otherwise). Android before API 30 knows
//! only its own packed format (`android`, from API 23; the app's minSdk is 26); the
//! standard DT_RELR form needs glibc 2.36 on Linux, where only the tests load the library.
//! Apple's linker packs pointers (chained fixups) by itself.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match os.as_str() {
        "android" => println!("cargo:rustc-cdylib-link-arg=-Wl,--pack-dyn-relocs=android"),
        "linux" => println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs"),
        _ => {}
    }
}
