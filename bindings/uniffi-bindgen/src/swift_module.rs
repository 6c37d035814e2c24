//! uniffi names a component's Swift file after its module, so two components in one
//! module (`KeywayCore`) would overwrite each other's file. Asked for Swift without
//! `--crate`, this runs the generator once per crate (`keyway_ffi`, then `keyway_core`)
//! and keeps both: `KeywayCore.swift` (the Keyway object, traits, operations) and
//! `KeywayCoreTypes.swift` (the core's records, enums and error), their two headers, and
//! one `KeywayFFI.modulemap` listing both headers (the C module both files import).

use std::fs;
use std::path::Path;
use std::process::Command;

/// The crates in the library, in the order their files are written.
const CRATES: [(&str, &str); 2] = [("keyway_ffi", "KeywayCore.swift"), ("keyway_core", "KeywayCoreTypes.swift")];

/// Whether `args` ask for Swift for every crate.
pub fn wants_one_module(args: &[String]) -> bool {
    args.get(1).is_some_and(|a| a == "generate")
        && args.windows(2).any(|w| w[0] == "--language" && w[1] == "swift")
        && !args.iter().any(|a| a == "--crate" || a.starts_with("--crate="))
        && !args.windows(2).any(|w| w[0] == "--language" && w[1] != "swift")
}

/// Runs the generator per crate and gathers the files in `--out-dir`.
pub fn generate(args: &[String]) -> Result<(), String> {
    let out_dir = args.windows(2).find(|w| w[0] == "--out-dir").map(|w| w[1].clone()).ok_or("--out-dir is missing")?;
    let out = Path::new(&out_dir);
    let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let mut headers = Vec::new();
    for (krate, swift_name) in CRATES {
        let part = out.join(format!(".{krate}"));
        let mut part_args: Vec<String> = args[1..].to_vec();
        if let Some(i) = part_args.iter().position(|a| a == "--out-dir") {
            part_args[i + 1] = part.display().to_string();
        }
        part_args.extend(["--crate".to_owned(), krate.to_owned()]);
        let status = Command::new(&me).args(&part_args).status().map_err(|e| format!("running {krate}: {e}"))?;
        if !status.success() {
            return Err(format!("generating the Swift of {krate} failed"));
        }
        for entry in fs::read_dir(&part).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let target = if name.ends_with(".swift") {
                swift_name.to_owned()
            } else if name.ends_with(".h") {
                headers.push(name.clone());
                name
            } else {
                // Per-crate modulemaps: replaced by the one below.
                continue;
            };
            fs::rename(&path, out.join(target)).map_err(|e| e.to_string())?;
        }
        fs::remove_dir_all(&part).map_err(|e| e.to_string())?;
    }
    let mut modulemap = String::from("module KeywayFFI {\n");
    for header in &headers {
        modulemap.push_str(&format!("    header \"{header}\"\n"));
    }
    modulemap
        .push_str("    export *\n    use \"Darwin\"\n    use \"_Builtin_stdbool\"\n    use \"_Builtin_stdint\"\n}\n");
    fs::write(out.join("KeywayFFI.modulemap"), modulemap).map_err(|e| e.to_string())
}
