//! `emu run`'s trace options: `--trace FILE`, `--trace-events LIST`,
//! `--trace-instructions START-END[,COUNT]` (docs/tracing.md).

use emulator::machine::Machine;
use emulator::trace::file::FileSink;
use emulator::trace::instructions::Window;
use emulator::trace::{category, Category, TraceOptions, TraceSink};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TraceArgs {
    /// Write a Perfetto trace of the run to FILE (open it at
    /// https://ui.perfetto.dev).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Which events to trace: a comma-separated list of categories (cpu,
    /// mmu, walk, irq, pit, uart, ata, post, guest, counters,
    /// ports=LO-HI), `default`, `all`; `-name` removes one.
    #[arg(long, value_name = "LIST", default_value = "default")]
    pub trace_events: String,
    /// Also record each instruction (address, bytes, disassembly, changed
    /// registers) whose address is in START-END, at most COUNT of them
    /// (default 10000). The machine runs one instruction at a time until
    /// COUNT are recorded.
    #[arg(long, value_name = "START-END[,COUNT]")]
    pub trace_instructions: Option<Window>,
}

impl TraceArgs {
    /// The options the flags ask for.
    pub fn options(&self) -> Result<TraceOptions, String> {
        let (mut categories, ports) =
            category::parse(&self.trace_events).map_err(|e| e.to_string())?;
        if self.trace_instructions.is_some() {
            categories = categories.with(Category::Insn);
        }
        Ok(TraceOptions { categories, ports })
    }

    /// Starts the trace when `--trace` or `extra` sinks (a live server)
    /// ask for one. Returns whether a trace was started.
    pub fn start(
        &self,
        machine: &mut Machine,
        mut extra: Vec<Box<dyn TraceSink>>,
    ) -> Result<bool, String> {
        let options = self.options()?;
        if let Some(path) = &self.trace {
            let sink = FileSink::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            extra.insert(0, Box::new(sink));
        }
        if extra.is_empty() {
            if self.trace_instructions.is_some() {
                return Err("--trace-instructions needs --trace FILE".into());
            }
            return Ok(false);
        }
        machine.start_trace(options, extra);
        if let Some(w) = self.trace_instructions {
            machine.trace_instructions(w);
        }
        Ok(true)
    }
}
