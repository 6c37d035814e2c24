//! uniffi (0.32) Kotlin: when a foreign trait of one component (`keyway`, package
//! `app.keyway`) returns or throws a type of another component (`keyway_core`, package
//! `app.keyway.core`), the generated callback lowers it with the other package's converter,
//! which yields the other package's `RustBuffer.ByValue`, where this package's is
//! expected: the file does not compile. The two classes have the same layout (capacity,
//! length, pointer; the Rust side owns the bytes either way), so each such lowering is
//! re-wrapped as this package's type by a small helper appended to the file.

use std::collections::HashSet;

/// The helper appended to a file that needed it.
const HELPER: &str = "
/** A buffer lowered by another component's converter, as this package's `RustBuffer` (same layout, same bytes). */
private fun app.keyway.core.RustBuffer.ByValue.uniffiAsLocal(): RustBuffer.ByValue =
    RustBuffer.ByValue().also { it.capacity = this.capacity; it.len = this.len; it.data = this.data }
";

/// The rewrite of one generated file (only `app.keyway`'s file needs it).
pub fn rewrite(text: &str) -> String {
    if !text.starts_with("package app.keyway\n") && !text.contains("\npackage app.keyway\n") {
        return text.to_owned();
    }
    // Converters this file defines itself lower to its own RustBuffer.
    let local: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("public object "))
        .filter_map(|l| l.split([' ', ':']).next())
        .collect();
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut line = line.to_owned();
        for arg in ["(e)", "(returnValue)"] {
            if let Some(start) = line.find("FfiConverterType") {
                let rest = &line[start..];
                if let Some(dot) = rest.find(".lower") {
                    let name = &rest[..dot];
                    let call = format!("{name}.lower{arg}");
                    if rest.starts_with(&call) && !local.contains(name) {
                        line = line.replacen(&call, &format!("{call}.uniffiAsLocal()"), 1);
                        changed = true;
                    }
                }
            }
        }
        out.push_str(&line);
    }
    if changed {
        out.push_str(HELPER);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn a_lowering_by_the_core_converter_is_rewrapped_and_a_local_one_is_not() {
        let text = "package app.keyway\n\npublic object FfiConverterTypeLogLevel: X {\n}\n\
                    { e: BleException -> FfiConverterTypeBleError.lower(e) },\n\
                    FfiConverterTypeAdapterState.lower(returnValue),\n\
                    FfiConverterTypeLogLevel.lower(returnValue),\n";
        let out = rewrite(text);
        assert!(out.contains("FfiConverterTypeBleError.lower(e).uniffiAsLocal()"), "{out}");
        assert!(out.contains("FfiConverterTypeAdapterState.lower(returnValue).uniffiAsLocal(),"), "{out}");
        assert!(out.contains("FfiConverterTypeLogLevel.lower(returnValue),\n"), "{out}");
        assert!(out.contains("private fun app.keyway.core.RustBuffer.ByValue.uniffiAsLocal()"), "{out}");
    }

    #[test]
    fn the_core_file_is_left_alone() {
        let text = "package app.keyway.core\nFfiConverterTypeBleError.lower(e)\n";
        assert_eq!(rewrite(text), text);
    }
}
