//! Reading policy files and Trivy reports: UTF-8 text, from a file or
//! standard input, refused above `INPUT_MAX` before it is read whole.

/// The largest policy file or Trivy report escguardctl reads: 64 MiB.
pub const INPUT_MAX: u64 = 64 << 20;

/// Reads a policy file or Trivy report (`what` names it in errors: "policy
/// file", "Trivy report") from `path`, or standard input for `-`, as UTF-8
/// text. Returns the text and the name to show in messages (`<stdin>` or
/// the path). Input larger than 64 MiB (`INPUT_MAX`) is refused
/// (`Error::Data`) before it is read whole: a regular file by its size, a
/// pipe after 64 MiB and one byte. Non-UTF-8 input is `Error::Data`, an I/O
/// failure `Error::Io`.
pub fn read_capped(
    path: &std::path::Path,
    what: &str,
) -> Result<(String, String), crate::error::Error> {
    read_capped_at(path, what, INPUT_MAX)
}

fn read_capped_at(
    path: &std::path::Path,
    what: &str,
    cap: u64,
) -> Result<(String, String), crate::error::Error> {
    use crate::error::Error;
    use std::io::Read;
    let stdin = path == std::path::Path::new("-");
    let shown = if stdin {
        "<stdin>".to_string()
    } else {
        crate::escape::text(&path.display().to_string()).into_owned()
    };
    let io_err = |e| Error::Io {
        what: format!("cannot read {shown}"),
        err: e,
    };
    let too_big = |size: String| {
        Error::Data(format!(
            "{shown}: the {what} is {size}; escguardctl reads at most {} MiB",
            cap >> 20
        ))
    };
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin()
            .lock()
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
    } else {
        let f = std::fs::File::open(path).map_err(io_err)?;
        let meta = f.metadata().map_err(io_err)?;
        if meta.is_file() && meta.len() > cap {
            return Err(too_big(format!("{} bytes", meta.len())));
        }
        // A file that grows, or a FIFO: never more than cap + 1 bytes.
        f.take(cap + 1).read_to_end(&mut bytes).map_err(io_err)?;
    }
    if bytes.len() as u64 > cap {
        return Err(too_big(format!("larger than {} MiB", cap >> 20)));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Data(format!(
            "{shown}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("escguard-policy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn read_capped_refuses_big_input_before_reading_it() {
        use crate::error::Error;
        let p = scratch("big");
        // Sparse: 64 MiB + 1 byte of nothing, never read.
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(INPUT_MAX + 1).unwrap();
        drop(f);
        match read_capped(&p, "Trivy report") {
            Err(Error::Data(m)) => assert_eq!(
                m,
                format!(
                    "{}: the Trivy report is 67108865 bytes; escguardctl reads at most 64 MiB",
                    p.display()
                )
            ),
            other => panic!("{other:?}"),
        }
        std::fs::write(&p, "{\"version\":2,\"rules\":[]}").unwrap();
        let (text, shown) = read_capped(&p, "policy file").unwrap();
        assert_eq!(text, "{\"version\":2,\"rules\":[]}");
        assert_eq!(shown, p.display().to_string());
        // A small cap shows the same for what is read.
        std::fs::write(&p, "12345").unwrap();
        assert!(read_capped_at(&p, "policy file", 5).is_ok());
        match read_capped_at(&p, "policy file", 4) {
            Err(Error::Data(m)) => assert!(
                m.ends_with("the policy file is 5 bytes; escguardctl reads at most 0 MiB"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        std::fs::write(&p, b"ok\xff").unwrap();
        match read_capped(&p, "policy file") {
            Err(Error::Data(m)) => assert!(m.ends_with(": not UTF-8 text (byte 2)"), "{m}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&p).unwrap();
        match read_capped(&p, "policy file") {
            Err(Error::Io { what, .. }) => assert!(what.starts_with("cannot read ")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_capped_stops_a_growing_stream_at_the_cap() {
        use crate::error::Error;
        // A FIFO has no size: the read stops one byte past the cap.
        let p = scratch("fifo");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { nix::libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let w = p.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().write(true).open(&w).unwrap();
            // Stops when the reader closes (EPIPE).
            let _ = f.write_all(&[b'x'; 4096]);
        });
        match read_capped_at(&p, "Trivy report", 1000) {
            Err(Error::Data(m)) => assert!(m.contains("is larger than 0 MiB"), "{m}"),
            other => panic!("{other:?}"),
        }
        writer.join().unwrap();
        std::fs::remove_file(&p).unwrap();
    }
}
