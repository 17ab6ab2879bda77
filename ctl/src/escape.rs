//! Making container-controlled text safe to print and to log.
//!
//! Much of what escguardctl shows comes from inside a container or from a
//! report about one: a task's comm, exe and paths, a cgroup path, a Trivy
//! finding's title and message. Printed raw, such a field could move the
//! cursor, recolour or clear a terminal (ESC sequences), forge a new line in
//! a line-oriented log (`\n`, `\r`, U+0085, U+2028), or make text display in
//! an order other than it is stored (bidirectional overrides: "Trojan
//! Source", CVE-2021-42574).
//!
//! [`text`] escapes, and leaves everything else as it is:
//!
//! | character                                   | written as            |
//! |---------------------------------------------|-----------------------|
//! | `\` (so that an escape cannot be forged)    | `\\`                  |
//! | newline, carriage return, tab               | `\n`, `\r`, `\t`      |
//! | other C0 controls (U+0000–U+001F), DEL      | `\x00` … `\x1f`, `\x7f` |
//! | C1 controls (U+0080–U+009F)                 | `\u{80}` … `\u{9f}`   |
//! | bidi embeddings and overrides U+202A–U+202E | `\u{202a}` …          |
//! | bidi isolates U+2066–U+2069                 | `\u{2066}` …          |
//! | bidi marks U+200E, U+200F, U+061C           | `\u{200e}` …          |
//! | line and paragraph separators U+2028, U+2029 | `\u{2028}`, `\u{2029}` |
//!
//! Text that needs none of this is returned borrowed: no allocation. The
//! escaping is not reversible for text that already looks like an escape
//! (it is for people and line-oriented logs, not a serialisation; JSON
//! output uses JSON's own escaping).

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is written escaped.
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\\'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{061c}'
        | '\u{2028}'
        | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\\' => out.push_str("\\\\"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` safe for a terminal and a line-oriented log (see the module
/// documentation); borrowed when nothing needs escaping.
pub fn text(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(needs_escape) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Raw bytes (a C string field from the kernel, a file name) as
/// [`text`] would write them, with every byte that is not part of valid
/// UTF-8 written as `\xNN`; borrowed when the bytes are valid UTF-8 that
/// needs no escaping.
pub fn bytes(b: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return text(s);
    }
    let mut out = String::with_capacity(b.len() + 8);
    for chunk in b.utf8_chunks() {
        out.push_str(&text(chunk.valid()));
        for x in chunk.invalid() {
            let _ = write!(out, "\\x{x:02x}");
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_is_borrowed_unchanged() {
        for s in [
            "",
            "runc",
            "/kubepods.slice/kubepods-pod1.slice",
            "Grüße, 日本語, emoji 🚀, quotes \" and '",
            "a b",
        ] {
            assert!(matches!(text(s), Cow::Borrowed(_)), "{s}");
            assert_eq!(text(s), s);
            assert!(matches!(bytes(s.as_bytes()), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn terminal_escape_sequences_are_defused() {
        assert_eq!(text("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(text("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
        // The 8-bit CSI (U+009B) and other C1 controls.
        assert_eq!(text("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(text("\u{80}\u{85}\u{9f}"), "\\u{80}\\u{85}\\u{9f}");
        assert_eq!(text("a\x7fb\0c"), "a\\x7fb\\x00c");
    }

    #[test]
    fn line_breaks_cannot_forge_log_lines() {
        assert_eq!(
            text("ok\n2026-01-01 KILLED fake event"),
            "ok\\n2026-01-01 KILLED fake event"
        );
        assert_eq!(text("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(text("a\u{2028}b\u{2029}c"), "a\\u{2028}b\\u{2029}c");
        assert!(!text("x\ny\u{85}z").contains(['\n', '\u{85}']));
    }

    #[test]
    fn backslashes_are_doubled_so_escapes_cannot_be_forged() {
        assert_eq!(text("C:\\x1b"), "C:\\\\x1b");
        assert_ne!(text("\\n"), text("\n"));
    }

    #[test]
    fn bidi_overrides_isolates_and_marks_are_escaped() {
        // "Trojan Source": RLO reverses what follows on display.
        assert_eq!(text("abc\u{202e}fed"), "abc\\u{202e}fed");
        for c in ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}') {
            let s = format!("x{c}y");
            assert_eq!(text(&s), format!("x\\u{{{:x}}}y", c as u32));
        }
        assert_eq!(
            text("\u{200e}\u{200f}\u{61c}"),
            "\\u{200e}\\u{200f}\\u{61c}"
        );
        // Neighbours are printable and stay.
        assert_eq!(text("\u{202f}"), "\u{202f}");
    }

    #[test]
    fn invalid_utf8_bytes_are_hex_escaped() {
        assert_eq!(bytes(b"ab\xffc\x1b"), "ab\\xffc\\x1b");
        assert_eq!(bytes(b"\xe2\x80"), "\\xe2\\x80");
        assert_eq!(bytes("é\n".as_bytes()), "é\\n");
    }
}
