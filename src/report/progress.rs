//! Live progress on stderr: one line per check, laid out in report order from the start, each
//! spinning while its check runs and settling on its status when it finishes. Only on a
//! terminal: when stderr is a file or a pipe (CI logs, cron mail) nothing is drawn at all.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Progress, ProgressEvent};
use crate::report::model::Status;

pub struct Display {
    multi: MultiProgress,
    bars: Mutex<HashMap<&'static str, ProgressBar>>,
}

impl Display {
    /// A display on stderr, or `None` when stderr is not a terminal.
    pub fn on_terminal() -> Option<Arc<Display>> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Arc::new(Display {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }))
    }

    /// The engine callback that drives this display.
    pub fn callback(self: &Arc<Self>) -> Progress {
        let me = self.clone();
        Arc::new(move |e| me.event(e))
    }

    fn event(&self, e: ProgressEvent) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match e {
            ProgressEvent::Planned(checks) => {
                let width = checks.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
                for (id, title) in checks {
                    let pb = self.multi.add(ProgressBar::new_spinner());
                    pb.set_style(waiting_style());
                    pb.set_prefix(format!("{id:<width$}"));
                    pb.set_message(format!("{title}: waiting"));
                    bars.insert(id, pb);
                }
            }
            ProgressEvent::Started(id) => {
                if let Some(pb) = bars.get(id) {
                    pb.set_style(running_style());
                    pb.set_message("running");
                    pb.enable_steady_tick(Duration::from_millis(120));
                }
            }
            ProgressEvent::Finished {
                id,
                status,
                summary,
                duration_ms,
            } => {
                if let Some(pb) = bars.get(id) {
                    pb.set_style(done_style());
                    let time = match status {
                        Status::Skipped => String::new(),
                        _ => format!(" ({duration_ms} ms)"),
                    };
                    pb.finish_with_message(format!("{:<9} {summary}{time}", status.label()));
                }
            }
        }
    }

    /// Removes the lines (the report that follows says the same), or leaves them settled when
    /// the report goes to a file and they are all the terminal will show.
    pub fn finish(&self, keep: bool) {
        if keep {
            if let Ok(bars) = self.bars.lock() {
                for pb in bars.values().filter(|pb| !pb.is_finished()) {
                    pb.finish();
                }
            }
        } else {
            if let Ok(bars) = self.bars.lock() {
                for pb in bars.values() {
                    pb.finish_and_clear();
                }
            }
            let _ = self.multi.clear();
        }
    }
}

fn waiting_style() -> ProgressStyle {
    ProgressStyle::with_template("  · {prefix} {wide_msg}").expect("static template")
}

fn running_style() -> ProgressStyle {
    ProgressStyle::with_template("  {spinner} {prefix} {wide_msg} {elapsed}")
        .expect("static template")
}

fn done_style() -> ProgressStyle {
    ProgressStyle::with_template("  • {prefix} {wide_msg}").expect("static template")
}
