use std::io::Write;
use std::process::ExitCode;

use acme_doctor::catalogue::Catalogue;
use acme_doctor::cli::{ChecksFormat, Cli, Command, Format};
use acme_doctor::report::{checks_list, json, text};
use clap::Parser;

fn main() -> ExitCode {
    // A panicking check is reported as `crashed` in the report; keep stderr for the user.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            default_hook(info);
        }
    }));
    let cli = Cli::parse();
    if let Some(Command::Checks { format }) = cli.command {
        let cat = Catalogue::get();
        let s = match format {
            ChecksFormat::Text => checks_list::text(cat),
            ChecksFormat::Json => checks_list::json(cat),
            ChecksFormat::Markdown => checks_list::markdown(cat),
        };
        return emit(&s, 0);
    }
    if let Some(Command::Trace(args)) = &cli.command {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("acme-doctor: cannot start the async runtime: {e}");
                return ExitCode::from(2);
            }
        };
        return match runtime.block_on(acme_doctor::trace_command::run(args)) {
            Ok(report) => {
                let reached = report.traces.iter().all(|t| t.trace.reached_at.is_some());
                emit(
                    &acme_doctor::trace_command::render(&report, args.format),
                    if reached { 0 } else { 1 },
                )
            }
            Err(acme_doctor::trace_command::TraceError::Usage(e)) => {
                eprintln!("acme-doctor trace: {e}");
                ExitCode::from(2)
            }
            Err(acme_doctor::trace_command::TraceError::NoTarget(e)) => {
                eprintln!("acme-doctor trace: {e}");
                ExitCode::from(1)
            }
        };
    }
    let (plan, output) = match cli.run.into_plan(std::env::args().collect()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("acme-doctor: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("acme-doctor: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let report = runtime.block_on(acme_doctor::doctor::diagnose(plan));
    // Checks may leave sockets in flight past their deadlines; do not wait for them.
    runtime.shutdown_background();
    let rendered = match output.format {
        Format::Json => json::render(&report),
        Format::Text => text::render(&report, output.verbose),
    };
    emit(&rendered, report.verdict.exit_code as u8)
}

fn emit(s: &str, code: u8) -> ExitCode {
    let mut out = std::io::stdout().lock();
    // A closed pipe (acme-doctor | head) is not an error worth a panic.
    if out
        .write_all(s.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        return ExitCode::from(code);
    }
    ExitCode::from(code)
}
