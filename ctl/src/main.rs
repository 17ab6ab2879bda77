use clap::{Parser, Subcommand};
use escguardctl::device::{Device, Paths, DEFAULT_DEVICE};
use escguardctl::error::{exit, Error};
use escguardctl::status::Status;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
escguard is a kernel module that detects and blocks container escapes.
escguardctl talks to it through its device (default /dev/escguard), which
only root can open.

Exit status:
  0  success
  1  other failure (I/O error, unexpected answer from the module)
  2  bad command line
  3  the escguard module is not loaded
  4  the module is loaded but the device node is missing
  5  permission denied
  6  the module speaks an incompatible ABI version

Errors go to standard error; --json output goes to standard output only.";

#[derive(Parser, Debug)]
#[command(name = "escguardctl", version, about = "Configure the escguard kernel module and read its events", after_help = AFTER_HELP)]
struct Cli {
    /// Path of the escguard device
    #[arg(long, global = true, value_name = "PATH", env = "ESCGUARD_DEVICE", default_value = DEFAULT_DEVICE)]
    device: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show the module's version, ABI, mode and counters
    Status {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

fn run(cli: Cli) -> Result<(), Error> {
    let paths = Paths::new(&cli.device);
    match cli.command {
        Command::Status { json } => {
            let dev = Device::open(&paths)?;
            let st = Status::from_abi(&dev.version, &dev.status(&paths)?);
            let text = if json {
                let mut s = serde_json::to_string(&st)
                    .map_err(|e| Error::Other(format!("cannot encode JSON: {e}")))?;
                s.push('\n');
                s
            } else {
                st.to_text()
            };
            write_stdout(&text)
        }
    }
}

/// Writes to stdout; a closed pipe (`escguardctl status | head -1`) is not an
/// error worth a message.
fn write_stdout(s: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            what: "cannot write to standard output".into(),
            err: e,
        }),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK as u8),
        Err(e) => {
            eprintln!("escguardctl: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
