//! uniffi (0.32) gives a Kotlin exception with fields the `message` `"attemptsLeft=4"`
//! (and one without fields an empty one), even when the Rust error exports `Display`;
//! `Display` reaches only `toString()`. Here each such `message` getter is replaced by
//! one that returns `toString()` — the Rust sentence — in every sealed exception class
//! that overrides `toString()` with the Rust `Display`. A class without that override
//! keeps uniffi's getter: `Throwable.toString()` reads `message`, so pointing `message`
//! at it there would recurse.

use std::fs;
use std::io;
use std::path::Path;

/// Rewrites every `.kt` file under `dir` (this fix and [`crate::kotlin_external`]'s).
pub fn rewrite_dir(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rewrite_dir(&path)?;
        } else if path.extension().is_some_and(|e| e == "kt") {
            let text = fs::read_to_string(&path)?;
            let rewritten = crate::kotlin_external::rewrite(&rewrite(&text));
            if rewritten != text {
                fs::write(&path, rewritten)?;
            }
        }
    }
    Ok(())
}

/// The rewrite of one file's text.
pub fn rewrite(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("sealed class ") && line.contains(": kotlin.Exception()") {
            // The class runs to the first line that closes it at column 0.
            let end = (i + 1..lines.len()).find(|&j| lines[j] == "}").unwrap_or(lines.len() - 1);
            let class = &lines[i..=end];
            let has_display = class.iter().any(|l| l.trim_start().starts_with("override fun toString(): String"));
            let mut j = 0;
            while j < class.len() {
                let l = class[j];
                if has_display && l.trim() == "override val message" {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    out.push(format!("{indent}override val message: String"));
                    out.push(format!("{indent}    get() = this.toString()"));
                    // Skip uniffi's `get() = "…"` line.
                    j += 2;
                    continue;
                }
                out.push(l.to_owned());
                j += 1;
            }
            i = end + 1;
            continue;
        }
        out.push(line.to_owned());
        i += 1;
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    const WITH_DISPLAY: &str = "sealed class KeywayException: kotlin.Exception() {\n    class CodeWrong(\n        val `attemptsLeft`: kotlin.Int\n    ) : KeywayException() {\n        override val message\n            get() = \"attemptsLeft=${ `attemptsLeft` }\"\n    }\n    override fun toString(): String {\n        return x()\n    }\n}\n";

    #[test]
    fn a_message_becomes_the_rust_sentence_where_display_is_exported() {
        let out = rewrite(WITH_DISPLAY);
        assert!(out.contains("override val message: String\n            get() = this.toString()"), "{out}");
        assert!(!out.contains("attemptsLeft=$"), "{out}");
    }

    #[test]
    fn a_class_without_display_keeps_its_message() {
        let without = WITH_DISPLAY.replace("override fun toString(): String", "fun other(): String");
        assert_eq!(rewrite(&without), without);
    }
}
