use std::io::Write;
use std::process::ExitCode;

use acme_doctor::catalogue::Catalogue;
use acme_doctor::cli::{ChecksFormat, Cli, Command, ReportFormat};
use acme_doctor::report::{checks_list, json, junit, markdown, output, progress, redact, text};
use clap::{CommandFactory, Parser};

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
    if let Some(Command::Completions { shell }) = cli.command {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "acme-doctor", &mut out);
        return emit(&String::from_utf8_lossy(&out), 0);
    }
    if let Some(Command::Man) = cli.command {
        let mut out = Vec::new();
        if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut out) {
            eprintln!("acme-doctor: cannot render the manual page: {e}");
            return ExitCode::from(2);
        }
        return emit(&String::from_utf8_lossy(&out), 0);
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
    // The program's own path says nothing useful to a reader and may name a home directory.
    let command_line: Vec<String> = std::iter::once("acme-doctor".to_string())
        .chain(std::env::args().skip(1))
        .collect();
    let (plan, output) = match cli.run.into_plan(command_line) {
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
    let display = progress::Display::on_terminal();
    let report = runtime.block_on(acme_doctor::doctor::diagnose_with_progress(
        plan,
        display.as_ref().map(|d| d.callback()),
    ));
    // Checks may leave sockets in flight past their deadlines; do not wait for them.
    runtime.shutdown_background();
    if let Some(d) = &display {
        d.finish(output.output.is_some());
    }
    let report = redact::Redactor::new(&report, output.redact, &output.sensitive).report(&report);
    let rendered = match output.format {
        ReportFormat::Json => json::render(&report),
        ReportFormat::Text => text::render(&report, output.verbose),
        ReportFormat::Markdown => markdown::render(&report),
        ReportFormat::Junit => junit::render(&report),
    };
    let code = report.verdict.exit_code as u8;
    match &output.output {
        // Nothing on stdout: the file is the report.
        Some(path) => match output::write_atomically(path, &rendered) {
            Ok(()) => ExitCode::from(code),
            Err(e) => {
                eprintln!("acme-doctor: {e}");
                ExitCode::from(2)
            }
        },
        None => emit(&rendered, code),
    }
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
